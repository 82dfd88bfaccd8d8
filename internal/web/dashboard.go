package web

import "net/http"

// registerDashboard mounts the dashboard pages.
func (h *Handler) registerDashboard(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /dashboard", h.dashboardPage)
}

func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.render(w, r, s, http.StatusOK, "dashboard", "dashboard", nil)
}
