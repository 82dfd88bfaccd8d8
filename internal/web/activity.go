package web

import "net/http"

// registerActivity mounts the activity pages.
func (h *Handler) registerActivity(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /activity", h.activityPage)
}

func (h *Handler) activityPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.render(w, r, s, http.StatusOK, "activity", "activity", nil)
}
