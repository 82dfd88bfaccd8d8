package web

import "net/http"

// registerInbox mounts the inbox pages.
func (h *Handler) registerInbox(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /inbox", h.inboxPage)
}

func (h *Handler) inboxPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.render(w, r, s, http.StatusOK, "inbox", "inbox", nil)
}
