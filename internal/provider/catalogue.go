package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The provider kinds, as Provider.Kind and Error.Provider report them.
const (
	KindMeta               = "meta"
	Kind360Dialog          = "360dialog"
	Kind360DialogOnPremise = "360dialog-onpremise"
)

// The operations named in Error.Op.
const (
	OpSend          = "send"
	OpMarkRead      = "mark_read"
	OpUploadMedia   = "upload_media"
	OpDownloadMedia = "download_media"
	OpHealth        = "health"
	OpWebhook       = "webhook"
	OpSetWebhook    = "set_webhook"
	OpConfig        = "config"
)

// The messages 360dialog users already know; the 360dialog gateway statuses use them word for word.
const (
	msgMissingKey  = "WhatsApp isn't configured (missing API key)."
	msg360Auth     = "360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."
	msg360NotFound = "WhatsApp number not found on 360dialog. Check that the API key belongs to a provisioned number."
	msg360Rate     = "360dialog is rate-limiting WhatsApp messages right now. wagate will retry; slow down bulk sends."
	msg360Refused  = "360dialog refused the message (400). The number may be unverified, or the recipient is outside the 24-hour window (send an approved template)."
	msgUnavailable = "The WhatsApp service is temporarily unavailable. wagate will retry."
	msgNetwork     = "Couldn't reach the WhatsApp service."
	msgTimeout     = "The WhatsApp service timed out. Try again."
)

// Messages shared by several codes.
const (
	msg360MetaAuth = "Meta refused 360dialog's access to this number. Check the number's status in the 360dialog hub, or ask 360dialog support."
	msgTemplate    = "WhatsApp refused the template. Check the template name, language, namespace and parameters against the approved template."
	msgRegister    = "Registering the phone number failed (two-step verification PIN or verification problem). Check the PIN and the number's status in WhatsApp Manager."
	msgRedirect    = "The WhatsApp service answered with a redirect to another address, which wagate does not follow. Check the provider base URL (WAGATE_PROVIDER_BASE_URL)."
)

// codeInfo is one row of the catalogue: what to do about a code and what to tell people.
type codeInfo struct {
	class Class
	msg   string // what happened and what to do
	msg36 string // the message for 360dialog channels when it differs (credentials live at 360dialog)
}

// cloudCodes classifies the Cloud API error codes (Meta directly, and passed through by 360dialog's waba-v2),
// docs/provider-api.md §4.2. The range 200-299 is handled in lookupCloud.
var cloudCodes = map[int]codeInfo{
	// Credentials and permissions.
	0:      {ClassAuth, "Meta rejected the access token (it expired or was invalidated). Create a new system-user token and set WHATSAPP_ACCESS_TOKEN.", msg360MetaAuth},
	190:    {ClassAuth, "The Meta access token has expired or was revoked. Create a new system-user token and set WHATSAPP_ACCESS_TOKEN.", msg360MetaAuth},
	3:      {ClassAuth, "The Meta app lacks the capability to call this API. Check the app's WhatsApp product and permissions in the Meta app dashboard.", msg360MetaAuth},
	10:     {ClassAuth, "Meta denied permission for this call. Give the system user access to the WhatsApp account and the whatsapp_business_messaging permission, then create a new token.", msg360MetaAuth},
	131005: {ClassAuth, "Meta denied access to this phone number. Check WHATSAPP_PHONE_NUMBER_ID and that the token's system user has the number among its assets.", msg360MetaAuth},
	131045: {ClassAuth, "The phone number's certificate is wrong (a registration problem). Register the number again in WhatsApp Manager.", ""},
	133010: {ClassAuth, "The phone number is not registered on the WhatsApp Business Platform. Register it before sending.", "The phone number is not registered on the WhatsApp Business Platform. Finish its setup in the 360dialog hub."},

	// Throughput.
	4:      {ClassRate, "Meta's API call limit for this app was reached. wagate pauses the channel and retries.", ""},
	80007:  {ClassRate, "The WhatsApp Business Account's rate limit was reached. wagate pauses the channel and retries.", ""},
	130429: {ClassRate, "Meta's throughput limit for this number was reached. wagate pauses the channel and retries.", ""},
	131056: {ClassPairRate, "Too many messages to this recipient in a short time. wagate paces this recipient and retries.", ""},
	133016: {ClassRetry, "Too many register or deregister attempts for this number. Wait before trying again.", ""},

	// Policy and quality.
	368:    {ClassPolicy, "The number is temporarily blocked for policy violations. Check the account's policy notices in WhatsApp Manager.", ""},
	131031: {ClassPolicy, "The WhatsApp Business Account is locked (a policy violation or failed verification). Check WhatsApp Manager and appeal there.", ""},
	131048: {ClassPolicy, "Meta is limiting messages from this number because of spam reports or low quality. Check the quality rating and improve the messages; wagate does not retry.", ""},
	131049: {ClassPolicy, "Meta held back this marketing message to keep engagement healthy (per-user marketing limit). Don't resend it now: retrying makes it worse.", ""},
	131050: {ClassPolicy, "The recipient has stopped marketing messages from this business. Don't send them marketing templates.", ""},
	130472: {ClassPolicy, "The recipient is part of a Meta marketing experiment and did not get this message. Don't resend it.", ""},
	131042: {ClassPolicy, "Meta refused the message because of a business eligibility or payment problem. Check the payment method in WhatsApp Manager.", "Meta refused the message because of a business eligibility or payment problem. Check billing in the 360dialog hub."},

	// The customer-service window.
	131047: {ClassWindow, "More than 24 hours have passed since the contact last wrote: free-form messages are refused. Send an approved template instead.", ""},

	// Templates and flows.
	132000: {ClassTemplate, "The number of template parameters doesn't match the approved template. Send exactly the placeholders the template has.", ""},
	132001: {ClassTemplate, "The template doesn't exist in that language or isn't approved. Check the template name and language code.", ""},
	132005: {ClassTemplate, "The template text is too long once the parameters are filled in. Shorten the parameters.", ""},
	132007: {ClassTemplate, "The template content breaks a WhatsApp formatting policy. Check the parameter values.", ""},
	132012: {ClassTemplate, "A template parameter has the wrong format (for example text where the template expects an image). Match the parameter types of the approved template.", ""},
	132015: {ClassTemplate, "The template is paused because of low quality. Edit it or use another template.", ""},
	132016: {ClassTemplate, "The template was disabled for good because of low quality. Create a new template.", ""},
	132068: {ClassTemplate, "The Flow is blocked. Check the Flow's status in WhatsApp Manager.", ""},
	132069: {ClassTemplate, "The Flow is throttled (about 10 sends an hour in this state). Send it again later.", ""},

	// The recipient.
	131026: {ClassRecipient, "The message could not be delivered: the number may not be on WhatsApp, may use an old app, or may have blocked you.", ""},
	131021: {ClassRecipient, "The recipient is the sending number itself: WhatsApp can't send a message to its own number.", ""},

	// Temporary failures.
	1:      {ClassRetry, "Meta reported an unknown API error. wagate will retry; if it persists, check the request.", ""},
	2:      {ClassRetry, "Meta's WhatsApp service is temporarily down or overloaded. wagate will retry.", ""},
	131000: {ClassRetry, "Meta failed with an unknown error. wagate will retry a few times.", ""},
	131016: {ClassRetry, "Meta's WhatsApp service is temporarily unavailable. wagate will retry.", ""},
	131057: {ClassRetry, "The WhatsApp account is in maintenance (for example a throughput upgrade). wagate will retry in about a minute.", ""},
	133004: {ClassRetry, "Meta's server is temporarily unavailable. wagate will retry.", ""},

	// The request itself.
	33:     {ClassInvalid, "The business phone number was deleted or its id is wrong. Check WHATSAPP_PHONE_NUMBER_ID.", "The business phone number was deleted or is unknown. Check the number in the 360dialog hub."},
	100:    {ClassInvalid, "Meta refused a request parameter (an unsupported or misspelt field, or a bad value). Check the message fields.", ""},
	131008: {ClassInvalid, "A required parameter is missing from the request.", ""},
	131009: {ClassInvalid, "A parameter value is not valid (for mark-read: the message id is unknown or too old).", ""},
	131051: {ClassInvalid, "This message type is not supported.", ""},
	131052: {ClassInvalid, "The media the contact sent could not be downloaded. Ask them to send it again.", ""},
	131053: {ClassInvalid, "The media could not be uploaded or processed (unsupported type, bad encoding or too large). Fix the file and send again.", ""},
	133000: {ClassInvalid, "A previous deregistration of the number did not complete. Deregister it again before registering.", ""},
	133005: {ClassInvalid, msgRegister, ""},
	133006: {ClassInvalid, msgRegister, ""},
	133007: {ClassInvalid, msgRegister, ""},
	133008: {ClassInvalid, msgRegister, ""},
	133009: {ClassInvalid, msgRegister, ""},
	133015: {ClassInvalid, "The number was deleted recently. Wait a few minutes before registering it again.", ""},
	135000: {ClassInvalid, "Meta refused the request with a generic user error. Check the request parameters.", ""},
}

// onPremCodes classifies the On-Premise error codes (360dialog's waba.360dialog.io), docs/provider-api.md §4.3: the webhook
// and status codes 400-500 and the synchronous application codes 1000-2003.
var onPremCodes = map[int]codeInfo{
	// Webhook and status errors.
	400: {ClassInvalid, "The media could not be downloaded. Ask the sender to send it again.", ""},
	402: {ClassPolicy, "WhatsApp refused the message because of a business eligibility or payment problem. Check billing in the 360dialog hub.", ""},
	408: {ClassRetry, "The message was pending for too long (over a day) and was dropped. wagate will retry.", ""},
	410: {ClassRecipient, "The message expired before it could be delivered (the recipient's phone was offline too long).", ""},
	429: {ClassRate, "The WhatsApp rate limit for this number was reached. wagate pauses the channel and retries.", ""},
	430: {ClassAuth, "The number's WhatsApp certificate is wrong. Check the number's setup in the 360dialog hub.", ""},
	432: {ClassAuth, "The number's WhatsApp certificate is wrong. Check the number's setup in the 360dialog hub.", ""},
	433: {ClassAuth, "The number's WhatsApp certificate is wrong. Check the number's setup in the 360dialog hub.", ""},
	470: {ClassWindow, "More than 24 hours have passed since the contact last wrote: free-form messages are refused. Send an approved template instead.", ""},
	471: {ClassPolicy, "WhatsApp is limiting messages from this number because of spam reports or low quality. Check the quality rating and improve the messages; wagate does not retry.", ""},
	472: {ClassPolicy, "The recipient is part of a WhatsApp experiment and did not get this message. Don't resend it.", ""},
	500: {ClassRetry, "The WhatsApp service failed with a generic error. wagate will retry.", ""},

	// Application (synchronous) errors.
	1000: {ClassRetry, "The WhatsApp client failed with a generic error. wagate will retry.", ""},
	1001: {ClassInvalid, "The message is too long (text is limited to 4096 characters). Shorten it.", ""},
	1002: {ClassInvalid, "The recipient type is not valid.", ""},
	1004: {ClassInvalid, "The resource already exists.", ""},
	1005: {ClassAuth, "Access denied by the WhatsApp client. Check the number's setup in the 360dialog hub.", ""},
	1006: {ClassInvalid, "The resource was not found (for media: the id is unknown or expired).", ""},
	1007: {ClassRecipient, "The recipient has blocked this number.", ""},
	1008: {ClassInvalid, "A required parameter is missing from the request.", ""},
	1009: {ClassInvalid, "A parameter value is not valid.", ""},
	1010: {ClassInvalid, "The request has a parameter that is not allowed here.", ""},
	1011: {ClassRetry, "The WhatsApp client is not ready yet. wagate will retry.", ""},
	1013: {ClassInvalid, "The recipient is not a valid WhatsApp user. Check the phone number.", ""},
	1014: {ClassRetry, "The WhatsApp client failed internally. wagate will retry.", ""},
	1015: {ClassRate, "Too many requests to the WhatsApp client. wagate pauses the channel and retries.", ""},
	1016: {ClassRetry, "The WhatsApp client is overloaded. wagate will retry.", ""},
	1017: {ClassRetry, "The WhatsApp client is switching masters. wagate will retry.", ""},
	1018: {ClassRetry, "The WhatsApp client is switching masters. wagate will retry.", ""},
	1026: {ClassRecipient, "The recipient's WhatsApp can't receive this message (old app or unsupported type).", ""},
	2000: {ClassTemplate, msgTemplate, ""},
	2001: {ClassTemplate, msgTemplate, ""},
	2002: {ClassTemplate, msgTemplate, ""},
	2003: {ClassTemplate, msgTemplate, ""},
}

// lookupCloud finds a Cloud code, including the permission range 200-299.
func lookupCloud(code int) (codeInfo, bool) {
	if ci, ok := cloudCodes[code]; ok {
		return ci, true
	}
	if code >= 200 && code <= 299 {
		return codeInfo{class: ClassAuth, msg: "The Meta access token lacks a permission this call needs. Grant the system user the WhatsApp permissions and create a new token.", msg36: msg360MetaAuth}, true
	}
	return codeInfo{}, false
}

// lookup finds code in both tables; preferOnPrem decides which one answers first (they do not overlap today, but
// a provider's own shape is the better guide should they ever).
func lookup(code int, preferOnPrem bool) (codeInfo, bool) {
	onPrem := func(code int) (codeInfo, bool) { ci, ok := onPremCodes[code]; return ci, ok }
	first, second := lookupCloud, onPrem
	if preferOnPrem {
		first, second = onPrem, lookupCloud
	}
	if ci, ok := first(code); ok {
		return ci, true
	}
	return second(code)
}

// CodeInfo classifies a provider error code, as found in a response or in a webhook's statuses[].errors[]:
// kind (KindMeta, Kind360Dialog or Kind360DialogOnPremise) chooses the message wording and which table answers
// first. known is false for a code the catalogue does not list; class and message are then a best guess by range.
func CodeInfo(kind string, code int) (class Class, message string, known bool) {
	ci, ok := lookup(code, kind == Kind360DialogOnPremise)
	if !ok {
		return guessByRange(kind, code), unknownCodeMessage(code), false
	}
	return ci.class, ci.text(kind), true
}

func (ci codeInfo) text(kind string) string {
	if ci.msg36 != "" && is360(kind) {
		return ci.msg36
	}
	return ci.msg
}

// guessByRange classifies a code the catalogue does not list by its family (Cloud 132xxx and On-Premise 2xxx are
// template errors; Graph uses 2xxx for other things, such as 2500 for an unknown path); ClassInvalid (permanent)
// otherwise, so that an unknown refusal is shown to people rather than retried blindly.
func guessByRange(kind string, code int) Class {
	switch {
	case code >= 132000 && code <= 132999:
		return ClassTemplate
	case kind == Kind360DialogOnPremise && code >= 2000 && code <= 2999:
		return ClassTemplate
	default:
		return ClassInvalid
	}
}

func unknownCodeMessage(code int) string {
	return fmt.Sprintf("WhatsApp refused the request (code %d).", code)
}

func is360(kind string) bool { return kind == Kind360Dialog || kind == Kind360DialogOnPremise }

// MissingKey is the error of a channel without credentials: ClassAuth, "WhatsApp isn't configured (missing API
// key).".
func MissingKey(kind string) *Error {
	return &Error{Provider: kind, Op: OpConfig, Class: ClassAuth, Message: msgMissingKey}
}

// NetworkError is the error of a call that got no HTTP answer: a timeout (context deadline or a network timeout)
// sets Timeout, anything else sets Network; both are ClassRetry and wrap err.
func NetworkError(kind, op string, err error) *Error {
	e := &Error{Provider: kind, Op: op, Class: ClassRetry, Err: err}
	if isTimeout(err) {
		e.Timeout, e.Message = true, msgTimeout
	} else {
		e.Network, e.Message = true, msgNetwork
	}
	return e
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ErrorFromResponse turns a provider's non-2xx answer into an *Error. It reads the Cloud shape
// {"error":{"code",...}}, the On-Premise shape {"errors":[{"code",...}]} and 360dialog's gateway bodies
// ({"error":"text"}, {"meta":{"developer_message"}} or plain text). A code in the body decides the class (Meta
// throttles with HTTP 400); the HTTP status decides only when there is no code. Retry-After (seconds or an HTTP
// date) fills RetryAfter. It never panics, whatever body holds.
func ErrorFromResponse(kind, op string, status int, header http.Header, body []byte) *Error {
	e := &Error{Provider: kind, Op: op, HTTPStatus: status}
	if header != nil {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	p := parseBody(body)
	e.Code, e.Subcode, e.Title, e.Details, e.FBTraceID = p.code, p.subcode, p.title, p.details, p.fbtrace
	if p.hasCode {
		class, msg, known := CodeInfo(kind, p.code)
		if !known {
			class = classifyUnknown(kind, p.code, status)
			if p.details == "" && p.title != "" {
				msg += " Provider says: " + p.title
			}
		}
		e.Class, e.Message = class, withDetails(msg, p.details)
		return e
	}
	e.Class, e.Message = byStatus(kind, op, status, p.details)
	return e
}

// classifyUnknown is the class of a code the catalogue lacks: its family when it has one, else a temporary
// failure when the provider itself says so with a 5xx or 429.
func classifyUnknown(kind string, code, status int) Class {
	if c := guessByRange(kind, code); c != ClassInvalid {
		return c
	}
	switch {
	case status == http.StatusTooManyRequests:
		return ClassRate
	case status >= 500:
		return ClassRetry
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ClassAuth
	}
	return ClassInvalid
}

// byStatus classifies an answer without a code by its HTTP status.
func byStatus(kind, op string, status int, detail string) (Class, string) {
	d360 := is360(kind)
	switch {
	case status >= 300 && status < 400:
		return ClassAuth, msgRedirect
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		if d360 {
			return ClassAuth, msg360Auth
		}
		if status == http.StatusUnauthorized {
			return ClassAuth, "Meta rejected the access token. Create a new system-user token and set WHATSAPP_ACCESS_TOKEN."
		}
		return ClassAuth, "Meta denied access to this WhatsApp number. Check that the token's system user has the number among its assets."
	case status == http.StatusNotFound:
		if op == OpDownloadMedia {
			return ClassInvalid, withDetails("The media was not found: its id is unknown or expired (media ids from webhooks live 7 days).", detail)
		}
		if d360 {
			return ClassAuth, msg360NotFound
		}
		return ClassAuth, "Meta did not find this WhatsApp number. Check WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_API_VERSION."
	case status == http.StatusTooManyRequests:
		if d360 {
			return ClassRate, msg360Rate
		}
		return ClassRate, "Meta is rate-limiting WhatsApp messages right now. wagate will retry; slow down bulk sends."
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return ClassRetry, msgTimeout
	case status >= 500:
		return ClassRetry, msgUnavailable
	case status == http.StatusBadRequest && d360:
		// 360dialog's gateway answers 400 for a disabled API, unpaid invoices or its own endpoint rate limit.
		class := ClassAuth
		if l := strings.ToLower(detail); strings.Contains(l, "rate limit") || strings.Contains(l, "too many") {
			class = ClassRate
		}
		if detail != "" {
			return class, detail
		}
		return class, msg360Refused
	case status == http.StatusRequestEntityTooLarge:
		return ClassInvalid, withDetails("The WhatsApp service refused the request as too large. Send a smaller file.", detail)
	}
	name := "Meta"
	if d360 {
		name = "360dialog"
	}
	return ClassInvalid, withDetails(fmt.Sprintf("%s refused the request (HTTP %d).", name, status), detail)
}

func withDetails(msg, details string) string {
	if details == "" {
		return msg
	}
	return msg + " Provider says: " + details
}

// parsed is what parseBody found in an error body.
type parsed struct {
	hasCode bool
	code    int
	subcode int
	title   string
	details string
	fbtrace string
}

// flexInt is a JSON number or a string holding one.
type flexInt struct {
	v  int
	ok bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	n, err := strconv.ParseFloat(string(b), 64)
	if err != nil || n != n || n > 1<<31 || n < -(1<<31) {
		return nil // not a usable number: treated as absent
	}
	f.v, f.ok = int(n), true
	return nil
}

// flexText is a JSON string, or anything else rendered as nothing.
type flexText string

func (t *flexText) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = flexText(s)
	}
	return nil
}

type cloudErr struct {
	Message   flexText `json:"message"`
	Code      flexInt  `json:"code"`
	Subcode   flexInt  `json:"error_subcode"`
	ErrorData struct {
		Details flexText `json:"details"`
	} `json:"error_data"`
	UserTitle flexText `json:"error_user_title"`
	UserMsg   flexText `json:"error_user_msg"`
	FBTrace   flexText `json:"fbtrace_id"`
}

type onPremErr struct {
	Code    flexInt  `json:"code"`
	Title   flexText `json:"title"`
	Message flexText `json:"message"`
	Details flexText `json:"details"`
}

// parseBody reads every error shape wagate knows; unknown or broken bodies give a parsed with only the readable
// text (if any) in details.
func parseBody(body []byte) parsed {
	var p parsed
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return p
	}
	if trimmed[0] != '{' {
		p.details = plainText(trimmed)
		return p
	}
	var root struct {
		Error   json.RawMessage   `json:"error"`
		Errors  []json.RawMessage `json:"errors"`
		Message flexText          `json:"message"`
		Detail  flexText          `json:"detail"`
		Meta    struct {
			DeveloperMessage flexText `json:"developer_message"`
		} `json:"meta"`
	}
	if json.Unmarshal(trimmed, &root) != nil {
		// Not JSON after all (or a type we cannot read): keep nothing rather than half-parsed noise.
		return p
	}
	if e := bytes.TrimSpace(root.Error); len(e) > 0 {
		switch e[0] {
		case '{':
			var ce cloudErr
			if json.Unmarshal(e, &ce) == nil {
				p.hasCode, p.code = ce.Code.ok, ce.Code.v
				p.subcode = ce.Subcode.v
				p.title = clean(stripCodePrefix(string(ce.Message)))
				p.details = clean(string(ce.ErrorData.Details))
				if p.details == "" {
					p.details = clean(string(ce.UserMsg))
				}
				if p.title == "" {
					p.title = clean(string(ce.UserTitle))
				}
				p.fbtrace = clean(string(ce.FBTrace))
				if !p.hasCode && p.details == "" {
					p.details = p.title
				}
				return p
			}
		case '"':
			var s string
			if json.Unmarshal(e, &s) == nil {
				p.details = clean(s)
				return p
			}
		}
	}
	for _, raw := range root.Errors {
		var oe onPremErr
		if json.Unmarshal(raw, &oe) != nil {
			continue
		}
		p.hasCode, p.code = oe.Code.ok, oe.Code.v
		p.title = clean(string(oe.Title))
		p.details = clean(string(oe.Details))
		if p.details == "" {
			p.details = clean(string(oe.Message))
		}
		if !p.hasCode && p.details == "" {
			p.details = p.title
		}
		return p
	}
	for _, s := range []flexText{root.Meta.DeveloperMessage, root.Message, root.Detail} {
		if d := clean(string(s)); d != "" {
			p.details = d
			break
		}
	}
	return p
}

// stripCodePrefix removes Meta's "(#131047) " from a message.
func stripCodePrefix(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(#") {
		if i := strings.Index(s, ")"); i > 0 {
			return strings.TrimSpace(s[i+1:])
		}
	}
	return s
}

// plainText keeps a plain-text body as a detail, but not an HTML page (a proxy's error page says nothing useful)
// nor JSON that is not an object.
func plainText(b []byte) string {
	if b[0] == '<' || b[0] == '[' {
		return ""
	}
	return clean(string(b))
}

// maxDetail bounds the provider text wagate repeats to people.
const maxDetail = 300

// clean makes provider text safe to show: valid UTF-8, no control characters, collapsed spaces, bounded length.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		need := 1
		if space {
			need = 2
		}
		if n+need > maxDetail {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// maxRetryAfter bounds a Retry-After so that a broken header cannot park a channel for years.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date; 0 when absent, past or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
