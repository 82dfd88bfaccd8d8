package web

import "net/http"

// registerTemplates mounts the templates pages.
func (h *Handler) registerTemplates(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /templates", h.templatesPage)
}

func (h *Handler) templatesPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.render(w, r, s, http.StatusOK, "templates", "templates", nil)
}
