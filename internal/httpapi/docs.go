package httpapi

import (
	_ "embed"
	"net/http"
	"slices"
)

// OpenAPI is the API's contract: an OpenAPI 3.1 document, served at /openapi.yaml and shown at /docs. A test
// checks it against the routes Register mounts and validates the responses of the test suite against it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Route is one endpoint Register mounted: its ServeMux pattern ("GET /v1/messages/{id}") and the scope its token
// needs.
type Route struct {
	Pattern string
	Scope   Scope
}

// Routes returns the endpoints Register mounted, in order.
func (a *API) Routes() []Route { return slices.Clone(a.routes) }

// registerDocs serves the contract without authentication: it holds no data, and client generators fetch it.
func (a *API) registerDocs(mux *http.ServeMux) {
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(OpenAPI)
	})
	mux.HandleFunc("GET /docs", a.docsPage)
}
