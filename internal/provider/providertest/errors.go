package providertest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// onPremVersion is the client version On-Premise responses report in meta.version.
const onPremVersion = "v2.53.1"

// apiError is a provider error answer, written in the kind's shape by writeError.
type apiError struct {
	status  int    // HTTP status; 0 takes the code's usual status
	code    int    // provider code
	subcode int    // Graph error_subcode, 0 for none
	typ     string // Graph error type, default OAuthException
	message string // Graph message; default "(#code) title"
	title   string // On-Premise title (and Graph title part); default the code's title
	details string // error_data.details / errors[].details; "" for none
}

// cloudErrorBody is Graph's error envelope (docs/provider-api.md §4.1).
type cloudErrorBody struct {
	Error cloudErrorObject `json:"error"`
}

type cloudErrorObject struct {
	Message   string          `json:"message"`
	Type      string          `json:"type"`
	Code      int             `json:"code"`
	Subcode   int             `json:"error_subcode,omitempty"`
	ErrorData *cloudErrorData `json:"error_data,omitempty"`
	FBTraceID string          `json:"fbtrace_id"`
}

type cloudErrorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

// onPremErrorBody is the On-Premise error envelope.
type onPremErrorBody struct {
	Errors []onPremError `json:"errors"`
	Meta   onPremMeta    `json:"meta"`
}

type onPremError struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Details string `json:"details,omitempty"`
}

// onPremMeta is the meta object of every On-Premise answer.
type onPremMeta struct {
	APIStatus string `json:"api_status"`
	Version   string `json:"version"`
}

func newOnPremMeta() onPremMeta { return onPremMeta{APIStatus: "stable", Version: onPremVersion} }

// writeError answers e in the kind's error shape.
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	status, title := s.codeInfo(e.code)
	if e.status != 0 {
		status = e.status
	}
	if e.title != "" {
		title = e.title
	}
	if s.opts.Kind.cloud() {
		msg := e.message
		if msg == "" {
			msg = fmt.Sprintf("(#%d) %s", e.code, title)
		}
		typ := e.typ
		if typ == "" {
			typ = "OAuthException"
		}
		obj := cloudErrorObject{Message: msg, Type: typ, Code: e.code, Subcode: e.subcode, FBTraceID: traceID()}
		if e.details != "" {
			obj.ErrorData = &cloudErrorData{MessagingProduct: "whatsapp", Details: e.details}
		}
		writeJSON(w, status, cloudErrorBody{Error: obj})
		return
	}
	writeJSON(w, status, onPremErrorBody{
		Errors: []onPremError{{Code: e.code, Title: title, Details: e.details}},
		Meta:   newOnPremMeta(),
	})
}

// writeGateway answers 360dialog's own gateway error body.
func writeGateway(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"providertest: cannot encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// graphUnsupported is Graph's answer for an unknown object id or an edge it does not have.
func graphUnsupported(method, id string) *apiError {
	verb := map[string]string{http.MethodGet: "get", http.MethodPost: "post", http.MethodDelete: "delete"}[method]
	if verb == "" {
		verb = "request"
	}
	return &apiError{status: http.StatusBadRequest, code: 100, subcode: 33, typ: "GraphMethodException",
		message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to "+
			"missing permissions, or does not support this operation. Please read the Graph API documentation at "+
			"https://developers.facebook.com/docs/graph-api", verb, id)}
}

// traceID is a random fbtrace_id.
func traceID() string { return randomString(9) }

// randomString is n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
