package web

import "net/http"

// registerSettings mounts the settings pages.
func (h *Handler) registerSettings(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /settings", h.settingsPage)
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.render(w, r, s, http.StatusOK, "settings", "settings", nil)
}
