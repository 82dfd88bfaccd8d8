package providertest

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Body limits: what a provider would accept before refusing.
const (
	maxBody        = 1 << 20   // JSON requests
	maxMedia       = 100 << 20 // Cloud uploads (docs/provider-api.md §5: Cloud media max 100 MB)
	maxOnPremMedia = 64 << 20  // On-Premise uploads (docs/provider-api.md §5: 64 MB)
)

// attachmentsPath is the lookaside download path (Meta's and 360dialog's).
const attachmentsPath = "/whatsapp_business/attachments/"

// handler answers one routed request; body is the whole request body.
type handler func(w http.ResponseWriter, r *http.Request, body []byte)

// route is where a request goes.
type route struct {
	endpoint string // fault class, "" for none
	upload   bool   // allow a media-sized body
	handle   handler
}

// recorder remembers the status answered.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Drop, Hang).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ServeHTTP answers one request the way the provider of Options.Kind would. It implements http.Handler, so the
// fake can also be mounted on another server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	at := s.opts.Now()
	rec := &recorder{ResponseWriter: w}
	rt := s.route(r)
	limit := int64(maxBody)
	if rt.upload {
		limit = maxMedia
	}
	body, err := io.ReadAll(http.MaxBytesReader(rec, r.Body, limit))
	if rt.endpoint == EndpointSend && s.opts.Kind.cloud() && isReadRequest(body) {
		rt.endpoint = EndpointRead
	}
	defer func() { s.record(r, rt.endpoint, body, rec.status, at) }()

	if !s.authorized(r) {
		s.writeAuthError(rec)
		return
	}
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			s.writeTooLarge(rec)
		}
		return // otherwise the client went away mid-body
	}
	if rt.endpoint != "" {
		to := ""
		if rt.endpoint == EndpointSend {
			to = recipientOf(body)
		}
		if f, ok := s.takeFault(rt.endpoint, to); ok && s.applyFault(rec, r, f) {
			return
		}
	}
	rt.handle(rec, r, body)
}

// record appends a Request.
func (s *Server) record(r *http.Request, endpoint string, body []byte, status int, at time.Time) {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Endpoint: endpoint,
		Header: r.Header.Clone(), Body: body, Status: status, At: at}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = keep(append(s.requests, req), s.opts.History)
}

// route picks the handler by kind, method and path.
func (s *Server) route(r *http.Request) route {
	switch s.opts.Kind {
	case KindMeta:
		return s.routeMeta(r)
	case Kind360Dialog:
		return s.route360(r)
	default:
		return s.routeOnPrem(r)
	}
}

// segments splits a path into its non-empty segments.
func segments(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

// isAttachments reports whether p is the lookaside download path.
func isAttachments(p string) bool {
	return p == attachmentsPath || p == strings.TrimSuffix(attachmentsPath, "/")
}

func (s *Server) routeMeta(r *http.Request) route {
	p, m := r.URL.Path, r.Method
	if isAttachments(p) && m == http.MethodGet {
		return route{endpoint: EndpointMedia, handle: s.handleDownload}
	}
	segs := segments(p)
	fail := func(e *apiError) route {
		return route{handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) { s.writeError(w, e) }}
	}
	if len(segs) == 0 {
		return fail(graphUnsupported(m, ""))
	}
	if !versionRE.MatchString(segs[0]) {
		return fail(graphUnsupported(m, segs[0]))
	}
	if s.opts.APIVersion != "" && segs[0] != s.opts.APIVersion {
		return fail(&apiError{status: http.StatusBadRequest, code: 2500,
			message: "Unknown path components: /" + strings.Join(segs, "/")})
	}
	pnid, waba := s.opts.PhoneNumberID, s.opts.WABAID
	switch len(segs) {
	case 2:
		id := segs[1]
		switch {
		case id == pnid && m == http.MethodGet:
			return route{endpoint: EndpointHealth, handle: s.handlePhoneNumber}
		case id == pnid || id == waba:
			return fail(graphUnsupported(m, id))
		case m == http.MethodGet:
			return route{endpoint: EndpointMedia, handle: s.mediaHandler(id, false)}
		case m == http.MethodDelete:
			return route{endpoint: EndpointMedia, handle: s.mediaHandler(id, true)}
		}
		return fail(graphUnsupported(m, id))
	case 3:
		id, edge := segs[1], segs[2]
		switch {
		case id == pnid && edge == "messages" && m == http.MethodPost:
			return route{endpoint: EndpointSend, handle: s.handleMessages}
		case id == pnid && edge == "media" && m == http.MethodPost:
			return route{endpoint: EndpointMedia, upload: true, handle: s.handleUpload}
		case id == pnid && edge == "whatsapp_business_profile" && (m == http.MethodGet || m == http.MethodPost):
			return route{endpoint: EndpointProfile, handle: s.handleProfile}
		case id == waba && edge == "subscribed_apps" &&
			(m == http.MethodGet || m == http.MethodPost || m == http.MethodDelete):
			return route{endpoint: EndpointWebhook, handle: s.handleSubscribedApps}
		case id == waba && edge == "message_templates" && m == http.MethodGet:
			return route{endpoint: EndpointTemplates, handle: s.handleTemplates}
		case (id == pnid || id == waba) && !metaEdges[edge]:
			return fail(&apiError{status: http.StatusBadRequest, code: 2500,
				message: "Unknown path components: /" + edge})
		}
		return fail(graphUnsupported(m, id))
	}
	return fail(&apiError{status: http.StatusBadRequest, code: 2500,
		message: "Unknown path components: /" + strings.Join(segs[min(2, len(segs)):], "/")})
}

// metaEdges are the Graph edges the fake serves on the phone number and WABA nodes; other methods on them
// answer Graph's "Unsupported <method> request".
var metaEdges = map[string]bool{"messages": true, "media": true, "whatsapp_business_profile": true,
	"subscribed_apps": true, "message_templates": true}

// gatewayRoute answers a 360dialog gateway error.
func gatewayRoute(status int) route {
	return route{handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeGateway(w, status, http.StatusText(status))
	}}
}

// methods routes by method, answering 405 for others.
func methods(endpoint string, upload bool, m string, hs map[string]handler) route {
	if h, ok := hs[m]; ok {
		return route{endpoint: endpoint, upload: upload, handle: h}
	}
	return gatewayRoute(http.StatusMethodNotAllowed)
}

func (s *Server) route360(r *http.Request) route {
	p, m := strings.TrimSuffix(r.URL.Path, "/"), r.Method
	switch {
	case p == "/messages":
		return methods(EndpointSend, false, m, map[string]handler{http.MethodPost: s.handleMessages})
	case p == "/media":
		return methods(EndpointMedia, true, m, map[string]handler{http.MethodPost: s.handleUpload})
	case p == "/health_status":
		return methods(EndpointHealth, false, m, map[string]handler{http.MethodGet: s.handleHealthStatus})
	case p == "/whatsapp_business_profile":
		return methods(EndpointProfile, false, m, map[string]handler{
			http.MethodGet: s.handleProfile, http.MethodPost: s.handleProfile})
	case p == "/v1/configs/webhook":
		return methods(EndpointWebhook, false, m, map[string]handler{
			http.MethodGet: s.handleWebhookConfig, http.MethodPost: s.handleWebhookConfig})
	case p == "/v1/configs/templates":
		return methods(EndpointTemplates, false, m, map[string]handler{http.MethodGet: s.handleTemplates})
	case isAttachments(r.URL.Path):
		return methods(EndpointMedia, false, m, map[string]handler{http.MethodGet: s.handleDownload})
	}
	if segs := segments(p); len(segs) == 1 && !strings.HasPrefix(p, "/v1") {
		return methods(EndpointMedia, false, m, map[string]handler{
			http.MethodGet: s.mediaHandler(segs[0], false), http.MethodDelete: s.mediaHandler(segs[0], true)})
	}
	return gatewayRoute(http.StatusNotFound)
}

func (s *Server) routeOnPrem(r *http.Request) route {
	p, m := strings.TrimSuffix(r.URL.Path, "/"), r.Method
	segs := segments(p)
	switch {
	case p == "/v1/messages":
		return methods(EndpointSend, false, m, map[string]handler{http.MethodPost: s.handleMessages})
	case len(segs) == 3 && segs[0] == "v1" && segs[1] == "messages":
		return methods(EndpointRead, false, m, map[string]handler{http.MethodPut: s.onPremReadHandler(segs[2])})
	case p == "/v1/media":
		return methods(EndpointMedia, true, m, map[string]handler{http.MethodPost: s.handleUpload})
	case len(segs) == 3 && segs[0] == "v1" && segs[1] == "media":
		return methods(EndpointMedia, false, m, map[string]handler{
			http.MethodGet: s.mediaHandler(segs[2], false), http.MethodDelete: s.mediaHandler(segs[2], true)})
	case p == "/v1/health":
		return methods(EndpointHealth, false, m, map[string]handler{http.MethodGet: s.handleOnPremHealth})
	case p == "/v1/settings/business/profile":
		return methods(EndpointProfile, false, m, map[string]handler{
			http.MethodGet: s.handleProfile, http.MethodPost: s.handleProfile})
	case p == "/v1/configs/webhook":
		return methods(EndpointWebhook, false, m, map[string]handler{
			http.MethodGet: s.handleWebhookConfig, http.MethodPost: s.handleWebhookConfig})
	case p == "/v1/configs/templates":
		return methods(EndpointTemplates, false, m, map[string]handler{http.MethodGet: s.handleTemplates})
	case p == "/v1/contacts":
		return methods(EndpointContacts, false, m, map[string]handler{http.MethodPost: s.handleContacts})
	}
	return gatewayRoute(http.StatusNotFound)
}

// authorized checks the kind's credential in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Kind == KindMeta {
		tok := ""
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
			tok = strings.TrimSpace(h[7:])
		} else if q := r.URL.Query().Get("access_token"); q != "" {
			tok = q
		}
		return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AccessToken)) == 1
	}
	key := r.Header.Get("D360-API-KEY")
	return key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey)) == 1
}

// writeAuthError answers a missing or wrong credential.
func (s *Server) writeAuthError(w http.ResponseWriter) {
	if s.opts.Kind == KindMeta {
		const msg = "Invalid OAuth access token - Cannot parse access token"
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+msg+`"`)
		s.writeError(w, &apiError{status: http.StatusUnauthorized, code: 190, message: msg})
		return
	}
	writeGateway(w, http.StatusUnauthorized, "Invalid API key")
}

// writeTooLarge answers a body over the limit.
func (s *Server) writeTooLarge(w http.ResponseWriter) {
	if s.opts.Kind.cloud() {
		s.writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, code: 100,
			message: "(#100) Request body too large", details: "the request body exceeds the size limit"})
		return
	}
	s.writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, code: 1009,
		details: "request body exceeds the size limit"})
}

// isReadRequest reports whether a Cloud POST .../messages body is a mark-as-read (it has a status).
func isReadRequest(body []byte) bool {
	var probe struct {
		Status json.RawMessage `json:"status"`
	}
	return json.Unmarshal(body, &probe) == nil && len(probe.Status) > 0 && string(probe.Status) != "null"
}

// recipientOf returns the to of a send body, "" when there is none.
func recipientOf(body []byte) string {
	var probe struct {
		To any `json:"to"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return ""
	}
	to, _ := probe.To.(string)
	return to
}
