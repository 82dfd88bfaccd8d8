package web

import "net/http"

// registerContacts mounts the contacts pages.
func (h *Handler) registerContacts(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /contacts", h.contactsPage)
}

func (h *Handler) contactsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.render(w, r, s, http.StatusOK, "contacts", "contacts", nil)
}
