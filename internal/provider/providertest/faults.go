package providertest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The endpoint classes faults apply to.
const (
	EndpointSend      = "send"      // send a message
	EndpointRead      = "read"      // mark a message as read
	EndpointMedia     = "media"     // upload, media info, download, delete
	EndpointHealth    = "health"    // health_status, phone number fields, /v1/health
	EndpointProfile   = "profile"   // business profile
	EndpointWebhook   = "webhook"   // webhook configuration (/v1/configs/webhook, subscribed_apps)
	EndpointTemplates = "templates" // template list
	EndpointContacts  = "contacts"  // On-Premise contacts check (/v1/contacts)
)

// Fault is how the fake misbehaves on a matching request. The zero Fault answers normally.
type Fault struct {
	// Status is the HTTP status to answer. 0 with a Code takes the code's usual status (Meta's table; e.g.
	// 130429 is 400, 132001 is 404); 0 without a Code answers normally after Delay.
	Status int
	// Code is the provider error code, answered in the kind's error shape: the Cloud error object for Meta and
	// 360dialog Cloud (e.g. 130429, 131056, 131047, 190), errors[] for On-Premise (e.g. 470, 1015). 0 with a
	// Status answers 360dialog's gateway body {"error":...} on the 360dialog kinds and a text/plain body on Meta.
	Code int
	// Title and Details override the code's title and the error details.
	Title, Details string
	// RetryAfter, when positive, is sent as a Retry-After header (whole seconds, rounded up).
	RetryAfter time.Duration
	// Delay is waited before answering (or before Hang or Drop); with Status 0 and Code 0 the request is then
	// answered normally.
	Delay time.Duration
	// Hang never answers: the request is held until the client gives up (its context is done) or the server
	// closes; the connection is then closed.
	Hang bool
	// Drop closes the connection without an answer. Note that Go's http.Transport silently retries an
	// idempotent request (GET, or any request with an Idempotency-Key header) once when a reused connection is
	// closed before an answer: that retry consumes another FailNext count.
	Drop bool
	// To restricts a "send" fault to messages for this recipient (compared by digits), e.g. to inject 131056
	// for one user only. Faults with To do not match other endpoints.
	To string
}

// pendingFault is a FailNext fault with its remaining count.
type pendingFault struct {
	endpoint string
	left     int
	f        Fault
}

// persistentFault is a Fail fault.
type persistentFault struct {
	endpoint string
	f        Fault
}

// matches reports whether a fault for endpoint applies to a request of class ep to recipient to.
func matches(endpoint string, f Fault, ep, to string) bool {
	if endpoint != "" && endpoint != ep {
		return false
	}
	if f.To != "" && (ep != EndpointSend || digits(f.To) != digits(to)) {
		return false
	}
	return true
}

// Fail makes every request to endpoint ("" for all) fail with f until Clear. A later Fail for an overlapping
// endpoint takes precedence.
func (s *Server) Fail(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.persistent = append(s.persistent, persistentFault{endpoint: endpoint, f: f})
}

// FailNext makes the next n requests to endpoint ("" for all) fail with f. Such faults are used before any
// persistent one, in the order they were added.
func (s *Server) FailNext(endpoint string, n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append(s.next, &pendingFault{endpoint: endpoint, left: n, f: f})
}

// Clear removes all faults (not the throughput limit).
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = nil
	s.persistent = nil
}

// SetThroughput limits accepted sends to perSecond within any one second (a sliding window); more sends are
// answered 400 with code 130429 on the Cloud kinds and 429 with errors[] 1015 On-Premise. 0 is unlimited.
func (s *Server) SetThroughput(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throughput = max(perSecond, 0)
	s.sendTimes = nil
}

// takeFault returns the fault for a request of class ep to recipient to, consuming one FailNext count.
func (s *Server) takeFault(ep, to string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.next {
		if matches(p.endpoint, p.f, ep, to) {
			p.left--
			if p.left <= 0 {
				s.next = append(s.next[:i], s.next[i+1:]...)
			}
			return p.f, true
		}
	}
	for i := len(s.persistent) - 1; i >= 0; i-- {
		p := s.persistent[i]
		if matches(p.endpoint, p.f, ep, to) {
			return p.f, true
		}
	}
	return Fault{}, false
}

// applyFault carries out f and reports whether the request is finished (false: answer it normally).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-s.closing:
			t.Stop()
			drop(w)
			return true
		}
	}
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		drop(w)
		return true
	case f.Drop:
		drop(w)
		return true
	case f.Status == 0 && f.Code == 0:
		return false
	}
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if f.Code == 0 {
		text := f.Title
		if text == "" {
			text = http.StatusText(f.Status)
		}
		if f.Details != "" {
			text += ": " + f.Details
		}
		if s.opts.Kind == KindMeta {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(text + "\n"))
			return true
		}
		writeGateway(w, f.Status, text)
		return true
	}
	title := f.Title
	if title == "" {
		title = s.codeTitle(f.Code)
	}
	details := f.Details
	if details == "" {
		details = title
	}
	s.writeError(w, &apiError{status: f.Status, code: f.Code, title: title, details: details})
	return true
}

// drop closes the client connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (never the case for this HTTP/1.1 server): the closest is a gateway error.
		writeGateway(w, http.StatusBadGateway, "connection dropped")
		return
	}
	_ = conn.Close()
}

// throttledLocked reports whether one more send now exceeds the throughput limit, and otherwise counts it;
// s.mu must be held.
func (s *Server) throttledLocked(now time.Time) bool {
	if s.throughput == 0 {
		return false
	}
	cut := now.Add(-time.Second)
	i := 0
	for i < len(s.sendTimes) && !s.sendTimes[i].After(cut) {
		i++
	}
	s.sendTimes = s.sendTimes[i:]
	if len(s.sendTimes) >= s.throughput {
		return true
	}
	s.sendTimes = append(s.sendTimes, now)
	return false
}

// throttleError is the answer to a send over the throughput limit.
func (s *Server) throttleError() *apiError {
	if s.opts.Kind.cloud() {
		return &apiError{status: http.StatusBadRequest, code: 130429, title: "Rate limit hit",
			details: "Cloud API message throughput has been reached."}
	}
	return &apiError{status: http.StatusTooManyRequests, code: 1015, title: "Too many requests",
		details: "Too many requests. Please slow down."}
}

// cloudCodes are Meta's error titles and HTTP statuses (docs/provider-api.md §4.2).
var cloudCodes = map[int]struct {
	status int
	title  string
}{
	0:      {401, "AuthException"},
	1:      {400, "API Unknown"},
	2:      {503, "API Service"},
	3:      {500, "API Method"},
	4:      {400, "API Too Many Calls"},
	10:     {403, "API Permission Denied"},
	33:     {400, "Parameter value is not valid"},
	100:    {400, "Invalid parameter"},
	190:    {401, "Access token has expired"},
	200:    {403, "API Permission"},
	368:    {403, "Temporarily blocked for policies violations"},
	80007:  {400, "Rate limit issues"},
	130429: {400, "Rate limit hit"},
	130472: {400, "User's number is part of an experiment"},
	131000: {500, "Something went wrong"},
	131005: {403, "Access denied"},
	131008: {400, "Required parameter is missing"},
	131009: {400, "Parameter value is not valid"},
	131016: {500, "Service unavailable"},
	131021: {400, "Recipient cannot be sender"},
	131026: {400, "Message Undeliverable"},
	131031: {403, "Account has been locked"},
	131042: {400, "Business eligibility payment issue"},
	131045: {500, "Incorrect certificate"},
	131047: {400, "Re-engagement message"},
	131048: {400, "Spam rate limit hit"},
	131049: {400, "This message was not delivered to maintain healthy ecosystem engagement."},
	131050: {400, "User has stopped marketing messages"},
	131051: {400, "Unsupported message type"},
	131052: {400, "Media download error"},
	131053: {400, "Media upload error"},
	131056: {400, "(Business Account, Consumer Account) pair rate limit hit"},
	131057: {500, "Account in maintenance mode"},
	132000: {400, "Template Param Count Mismatch"},
	132001: {404, "Template does not exist"},
	132005: {400, "Template Hydrated Text Too Long"},
	132007: {400, "Template Format Character Policy Violated"},
	132012: {400, "Template Parameter Format Mismatch"},
	132015: {400, "Template is Paused"},
	132016: {400, "Template is Disabled"},
	133000: {500, "Incomplete Deregistration"},
	133004: {503, "Server Temporarily Unavailable"},
	133010: {400, "Phone number Not Registered"},
	133016: {400, "Account register deregister rate limit exceeded"},
	135000: {400, "Generic user error"},
}

// onPremCodes are the On-Premise error titles (docs/provider-api.md §4.3) and the HTTP statuses this fake answers them
// with (the statuses are guesses, see the package documentation).
var onPremCodes = map[int]struct {
	status int
	title  string
}{
	400:  {400, "Media download error"},
	402:  {400, "Business eligibility - Payment issue"},
	408:  {400, "Message pending too long"},
	410:  {400, "Message expired"},
	429:  {429, "Rate limit hit"},
	470:  {400, "Message failed to send because more than 24 hours have passed since the customer last replied to this number"},
	471:  {400, "Spam rate limit hit"},
	472:  {400, "User's number is part of an experiment"},
	500:  {500, "Generic error"},
	1000: {500, "Generic error"},
	1001: {400, "Message too long"},
	1002: {400, "Invalid recipient type"},
	1004: {400, "Resource already exists"},
	1005: {403, "Access denied"},
	1006: {404, "Resource not found"},
	1007: {400, "Recipient blocked to receive message"},
	1008: {400, "Required parameter is missing"},
	1009: {400, "Parameter value is not valid"},
	1010: {400, "Parameter is not required"},
	1011: {503, "Service not ready"},
	1013: {400, "User is not valid"},
	1014: {500, "Internal error"},
	1015: {429, "Too many requests"},
	1016: {503, "System overloaded"},
	1017: {503, "Not Primary Master"},
	1018: {503, "Not Primary Coreapp"},
}

// codeInfo returns the HTTP status and title of a provider code for the server's kind.
func (s *Server) codeInfo(code int) (int, string) {
	table := cloudCodes
	if !s.opts.Kind.cloud() {
		table = onPremCodes
	}
	if c, ok := table[code]; ok {
		return c.status, c.title
	}
	switch {
	case code >= 200 && code <= 299 && s.opts.Kind.cloud():
		return http.StatusForbidden, "API Permission"
	case code >= 500 && code < 600:
		return http.StatusInternalServerError, "Internal error"
	}
	return http.StatusBadRequest, "Error " + strconv.Itoa(code)
}

// codeTitle is codeInfo's title.
func (s *Server) codeTitle(code int) string {
	_, t := s.codeInfo(code)
	return t
}

// digits keeps the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
