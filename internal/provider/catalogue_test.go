package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// cloudBody is Meta's error body for code with HTTP-style details.
func cloudBody(code int, details string) []byte {
	return fmt.Appendf(nil, `{"error":{"message":"(#%d) Some title","type":"OAuthException","code":%d,"error_data":{"messaging_product":"whatsapp","details":%q},"fbtrace_id":"Atrace"}}`, code, code, details)
}

func onPremBody(code int, details string) []byte {
	return fmt.Appendf(nil, `{"errors":[{"code":%d,"title":"Some title","details":%q}],"meta":{"api_status":"stable","version":"2.45.1"}}`, code, details)
}

// wantCloud is every code of docs/provider-api.md §4.2 with the HTTP status Meta answers it with and the class wagate
// gives it.
var wantCloud = []struct {
	code   int
	status int
	class  Class
}{
	{0, 401, ClassAuth},
	{190, 401, ClassAuth},
	{3, 500, ClassAuth},
	{10, 403, ClassAuth},
	{200, 403, ClassAuth},
	{250, 403, ClassAuth},
	{299, 403, ClassAuth},
	{4, 400, ClassRate},
	{80007, 400, ClassRate},
	{130429, 400, ClassRate},
	{131048, 400, ClassPolicy},
	{131056, 400, ClassPairRate},
	{133016, 400, ClassRetry},
	{368, 403, ClassPolicy},
	{131031, 403, ClassPolicy},
	{1, 400, ClassRetry},
	{2, 503, ClassRetry},
	{33, 400, ClassInvalid},
	{100, 400, ClassInvalid},
	{130472, 400, ClassPolicy},
	{131000, 500, ClassRetry},
	{131005, 403, ClassAuth},
	{131008, 400, ClassInvalid},
	{131009, 400, ClassInvalid},
	{131016, 500, ClassRetry},
	{131021, 400, ClassRecipient},
	{131026, 400, ClassRecipient},
	{131042, 400, ClassPolicy},
	{131045, 500, ClassAuth},
	{131047, 400, ClassWindow},
	{131049, 400, ClassPolicy},
	{131050, 400, ClassPolicy},
	{131051, 400, ClassInvalid},
	{131052, 400, ClassInvalid},
	{131053, 400, ClassInvalid},
	{131057, 500, ClassRetry},
	{132000, 400, ClassTemplate},
	{132001, 404, ClassTemplate},
	{132005, 400, ClassTemplate},
	{132007, 400, ClassTemplate},
	{132012, 400, ClassTemplate},
	{132015, 400, ClassTemplate},
	{132016, 400, ClassTemplate},
	{132068, 400, ClassTemplate},
	{132069, 400, ClassTemplate},
	{133000, 500, ClassInvalid},
	{133004, 503, ClassRetry},
	{133005, 400, ClassInvalid},
	{133006, 400, ClassInvalid},
	{133007, 400, ClassInvalid},
	{133008, 400, ClassInvalid},
	{133009, 400, ClassInvalid},
	{133015, 400, ClassInvalid},
	{133010, 400, ClassAuth},
	{135000, 400, ClassInvalid},
}

// wantOnPrem is every code of docs/provider-api.md §4.3 and its class.
var wantOnPrem = []struct {
	code  int
	class Class
}{
	{400, ClassInvalid},
	{402, ClassPolicy},
	{408, ClassRetry},
	{410, ClassRecipient},
	{429, ClassRate},
	{430, ClassAuth},
	{432, ClassAuth},
	{433, ClassAuth},
	{470, ClassWindow},
	{471, ClassPolicy},
	{472, ClassPolicy},
	{500, ClassRetry},
	{1000, ClassRetry},
	{1001, ClassInvalid},
	{1002, ClassInvalid},
	{1004, ClassInvalid},
	{1005, ClassAuth},
	{1006, ClassInvalid},
	{1007, ClassRecipient},
	{1008, ClassInvalid},
	{1009, ClassInvalid},
	{1010, ClassInvalid},
	{1011, ClassRetry},
	{1013, ClassInvalid},
	{1014, ClassRetry},
	{1015, ClassRate},
	{1016, ClassRetry},
	{1017, ClassRetry},
	{1018, ClassRetry},
	{1026, ClassRecipient},
	{2000, ClassTemplate},
	{2001, ClassTemplate},
	{2002, ClassTemplate},
	{2003, ClassTemplate},
}

func TestCatalogue_CloudCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range wantCloud {
		for _, kind := range []string{KindMeta, Kind360Dialog} {
			t.Run(fmt.Sprintf("%s/%d", kind, tc.code), func(t *testing.T) {
				t.Parallel()
				e := ErrorFromResponse(kind, OpSend, tc.status, nil, cloudBody(tc.code, "the details"))
				if e.Class != tc.class {
					t.Errorf("class = %q, want %q", e.Class, tc.class)
				}
				if e.Code != tc.code || e.HTTPStatus != tc.status || e.Provider != kind || e.Op != OpSend {
					t.Errorf("fields = %+v", e)
				}
				if e.Title != "Some title" || e.Details != "the details" || e.FBTraceID != "Atrace" {
					t.Errorf("title %q details %q trace %q", e.Title, e.Details, e.FBTraceID)
				}
				if !strings.HasSuffix(e.Message, " Provider says: the details") {
					t.Errorf("message %q does not end with the provider's details", e.Message)
				}
				if _, _, known := CodeInfo(kind, tc.code); !known {
					t.Errorf("code %d is not in the catalogue", tc.code)
				}
			})
		}
	}
}

func TestCatalogue_OnPremiseCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range wantOnPrem {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			e := ErrorFromResponse(Kind360DialogOnPremise, OpSend, 400, nil, onPremBody(tc.code, "more"))
			if e.Class != tc.class {
				t.Errorf("class = %q, want %q", e.Class, tc.class)
			}
			if e.Code != tc.code || e.Title != "Some title" || e.Details != "more" {
				t.Errorf("fields = %+v", e)
			}
			if !strings.HasSuffix(e.Message, " Provider says: more") {
				t.Errorf("message = %q", e.Message)
			}
		})
	}
}

// Every row of the catalogue has a sentence for people, and every class in it is one of the declared ones.
func TestCatalogue_MessagesAreSentences(t *testing.T) {
	t.Parallel()
	valid := map[Class]bool{ClassRetry: true, ClassRate: true, ClassPairRate: true, ClassRecipient: true, ClassAuth: true,
		ClassPolicy: true, ClassTemplate: true, ClassWindow: true, ClassInvalid: true}
	for name, table := range map[string]map[int]codeInfo{"cloud": cloudCodes, "onprem": onPremCodes} {
		for code, ci := range table {
			for _, m := range []string{ci.msg, ci.msg36} {
				if m == "" && ci.msg36 == "" {
					continue
				}
				if m != "" && (!strings.HasSuffix(m, ".") || m[0] < 'A' || m[0] > 'Z') {
					t.Errorf("%s %d: message %q is not a sentence", name, code, m)
				}
			}
			if ci.msg == "" || !valid[ci.class] {
				t.Errorf("%s %d: %+v", name, code, ci)
			}
		}
	}
	// Both tables are complete against the test's lists, and nothing is in the tables that the test forgot.
	listed := map[int]bool{}
	for _, tc := range wantCloud {
		listed[tc.code] = true
	}
	for code := range cloudCodes {
		if !listed[code] {
			t.Errorf("cloud code %d has no expectation in wantCloud", code)
		}
	}
	listed = map[int]bool{}
	for _, tc := range wantOnPrem {
		listed[tc.code] = true
	}
	for code := range onPremCodes {
		if !listed[code] {
			t.Errorf("on-premise code %d has no expectation in wantOnPrem", code)
		}
	}
}

func TestErrorFromResponse_ThrottlingByCodeNotStatus(t *testing.T) {
	t.Parallel()
	body := []byte(`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"AbC"}}`)
	for _, kind := range []string{KindMeta, Kind360Dialog} {
		e := ErrorFromResponse(kind, OpSend, http.StatusBadRequest, nil, body)
		if e.Class != ClassRate || !e.Class.Retryable() {
			t.Errorf("%s: class = %q, want rate", kind, e.Class)
		}
		want := "Meta's throughput limit for this number was reached. wagate pauses the channel and retries. Provider says: Cloud API message throughput has been reached."
		if e.Message != want {
			t.Errorf("%s: message = %q", kind, e.Message)
		}
		if e.Title != "Rate limit hit" {
			t.Errorf("title = %q", e.Title)
		}
	}
	// 131056 with 400: the pair limit, not the channel's.
	if e := ErrorFromResponse(KindMeta, OpSend, 400, nil, cloudBody(131056, "")); e.Class != ClassPairRate ||
		e.Message != "Too many messages to this recipient in a short time. wagate paces this recipient and retries." {
		t.Errorf("131056: %+v", e)
	}
}

func TestErrorFromResponse_CloudShapeFields(t *testing.T) {
	t.Parallel()
	body := []byte(`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_subcode":2494010,
		"error_user_title":"Outside window","error_user_msg":"user msg","fbtrace_id":"A1b2C3"}}`)
	e := ErrorFromResponse(KindMeta, OpSend, 400, nil, body)
	if e.Class != ClassWindow || e.Code != 131047 || e.Subcode != 2494010 || e.Title != "Re-engagement message" ||
		e.Details != "user msg" || e.FBTraceID != "A1b2C3" {
		t.Fatalf("%+v", e)
	}
	want := "More than 24 hours have passed since the contact last wrote: free-form messages are refused. Send an approved template instead. Provider says: user msg"
	if e.Message != want {
		t.Errorf("message = %q", e.Message)
	}
	if got := e.Error(); got != "meta send: "+want+" (code 131047)" {
		t.Errorf("Error() = %q", got)
	}
	// Codes as strings, and error_data.details winning over error_user_msg.
	e = ErrorFromResponse(KindMeta, OpSend, 401, nil, []byte(`{"error":{"message":"x","code":"190","error_data":{"details":"d"},"error_user_msg":"u"}}`))
	if e.Code != 190 || e.Class != ClassAuth || e.Details != "d" || e.Title != "x" ||
		e.Message != "The Meta access token has expired or was revoked. Create a new system-user token and set WHATSAPP_ACCESS_TOKEN. Provider says: d" {
		t.Errorf("%+v", e)
	}
	// For a 360dialog channel, Meta's token codes point at 360dialog, not at a Meta token the user does not have.
	e = ErrorFromResponse(Kind360Dialog, OpSend, 401, nil, cloudBody(190, ""))
	if e.Class != ClassAuth || strings.Contains(e.Message, "WHATSAPP_ACCESS_TOKEN") || !strings.Contains(e.Message, "360dialog") {
		t.Errorf("360 190: %q", e.Message)
	}
}

func TestErrorFromResponse_UnknownCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind         string
		code, status int
		class        Class
	}{
		{KindMeta, 132999, 400, ClassTemplate},
		{Kind360DialogOnPremise, 2999, 400, ClassTemplate},
		{KindMeta, 2500, 400, ClassInvalid}, // Graph: unknown path components
		{KindMeta, 999999, 400, ClassInvalid},
		{KindMeta, 999999, 503, ClassRetry},
		{Kind360Dialog, 999999, 429, ClassRate},
		{KindMeta, 999999, 401, ClassAuth},
	}
	for _, tc := range tests {
		e := ErrorFromResponse(tc.kind, OpSend, tc.status, nil, []byte(fmt.Sprintf(`{"error":{"message":"(#%d) Odd thing","code":%d}}`, tc.code, tc.code)))
		if e.Class != tc.class {
			t.Errorf("%d/%d: class = %q, want %q", tc.code, tc.status, e.Class, tc.class)
		}
		if want := fmt.Sprintf("WhatsApp refused the request (code %d). Provider says: Odd thing", tc.code); e.Message != want {
			t.Errorf("message = %q", e.Message)
		}
	}
}

func TestErrorFromResponse_360GatewayStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		class  Class
		msg    string
	}{
		{"401 json", 401, `{"error":"Invalid api key"}`, ClassAuth, "360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."},
		{"401 meta wrapper", 401, `{"meta":{"success":false,"http_code":401,"developer_message":"Invalid api key"}}`, ClassAuth, "360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."},
		{"401 empty", 401, ``, ClassAuth, "360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."},
		{"403 text", 403, `Forbidden`, ClassAuth, "360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number."},
		{"404", 404, `{"error":"not found"}`, ClassAuth, "WhatsApp number not found on 360dialog. Check that the API key belongs to a provisioned number."},
		{"429", 429, `{"error":"slow down"}`, ClassRate, "360dialog is rate-limiting WhatsApp messages right now. wagate will retry; slow down bulk sends."},
		{"400 no detail", 400, ``, ClassAuth, "360dialog refused the message (400). The number may be unverified, or the recipient is outside the 24-hour window (send an approved template)."},
		{"400 html", 400, `<html><body>Bad</body></html>`, ClassAuth, "360dialog refused the message (400). The number may be unverified, or the recipient is outside the 24-hour window (send an approved template)."},
		{"400 json detail", 400, `{"error":"API is disabled for this number"}`, ClassAuth, "API is disabled for this number"},
		{"400 plain detail", 400, "Unpaid invoices\n", ClassAuth, "Unpaid invoices"},
		{"400 rate limit", 400, `{"error":"Endpoint rate limit reached"}`, ClassRate, "Endpoint rate limit reached"},
		{"500", 500, `{"error":"internal"}`, ClassRetry, "The WhatsApp service is temporarily unavailable. wagate will retry."},
		{"502", 502, `Bad Gateway`, ClassRetry, "The WhatsApp service is temporarily unavailable. wagate will retry."},
		{"503", 503, ``, ClassRetry, "The WhatsApp service is temporarily unavailable. wagate will retry."},
	}
	for _, tc := range tests {
		for _, kind := range []string{Kind360Dialog, Kind360DialogOnPremise} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				e := ErrorFromResponse(kind, OpSend, tc.status, nil, []byte(tc.body))
				if e.Class != tc.class || e.Message != tc.msg || e.HTTPStatus != tc.status || e.Code != 0 {
					t.Errorf("got class %q message %q (%+v), want %q %q", e.Class, e.Message, e, tc.class, tc.msg)
				}
			})
		}
	}
	e := ErrorFromResponse(Kind360Dialog, OpSend, 401, nil, []byte(`{"error":"Invalid api key"}`))
	if e.Details != "Invalid api key" {
		t.Errorf("details = %q", e.Details)
	}
	if got := e.Error(); got != "360dialog send: 360dialog rejected the API key. Check WHATSAPP_API_KEY (or WAGATE_360DIALOG_API_KEY) and that the key belongs to this number. (HTTP 401)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestErrorFromResponse_MetaWithoutCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		class  Class
	}{
		{401, ``, ClassAuth},
		{403, `nope`, ClassAuth},
		{404, ``, ClassAuth},
		{429, ``, ClassRate},
		{500, `oops`, ClassRetry},
		{503, ``, ClassRetry},
		{504, ``, ClassRetry},
		{408, ``, ClassRetry},
		{400, `plain words`, ClassInvalid},
		{302, ``, ClassAuth},
		{413, ``, ClassInvalid},
	}
	for _, tc := range tests {
		e := ErrorFromResponse(KindMeta, OpHealth, tc.status, nil, []byte(tc.body))
		if e.Class != tc.class || e.Message == "" {
			t.Errorf("%d: class %q message %q, want %q", tc.status, e.Class, e.Message, tc.class)
		}
	}
	if e := ErrorFromResponse(KindMeta, OpSend, 400, nil, []byte("plain words")); e.Message != "Meta refused the request (HTTP 400). Provider says: plain words" {
		t.Errorf("message = %q", e.Message)
	}
	// A media lookup that finds nothing is about the media, not the number.
	if e := ErrorFromResponse(Kind360Dialog, OpDownloadMedia, 404, nil, nil); e.Class != ClassInvalid || !strings.Contains(e.Message, "media") {
		t.Errorf("media 404: %+v", e)
	}
}

func TestErrorFromResponse_OnPremiseShape(t *testing.T) {
	t.Parallel()
	body := []byte(`{"errors":[{"code":1008,"title":"Required parameter is missing","details":"Parameter 'to' is required"}],"meta":{"api_status":"stable","version":"2.45.1"}}`)
	e := ErrorFromResponse(Kind360DialogOnPremise, OpSend, 400, nil, body)
	if e.Class != ClassInvalid || e.Code != 1008 || e.Title != "Required parameter is missing" || e.Details != "Parameter 'to' is required" {
		t.Fatalf("%+v", e)
	}
	if e.Message != "A required parameter is missing from the request. Provider says: Parameter 'to' is required" {
		t.Errorf("message = %q", e.Message)
	}
	// 470 is the window, even on a 200-ish or odd status.
	if e := ErrorFromResponse(Kind360DialogOnPremise, OpSend, 400, nil, onPremBody(470, "")); e.Class != ClassWindow ||
		e.Message != "More than 24 hours have passed since the contact last wrote: free-form messages are refused. Send an approved template instead." {
		t.Errorf("470: %+v", e)
	}
	// An errors[] element without a code falls back to the status, keeping its text.
	e = ErrorFromResponse(Kind360DialogOnPremise, OpSend, 500, nil, []byte(`{"errors":[{"title":"Boom"}]}`))
	if e.Class != ClassRetry || e.Details != "Boom" {
		t.Errorf("%+v", e)
	}
}

func TestErrorFromResponse_PlainAndBrokenBodies(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 200)
	tests := []struct {
		name, body, details string
	}{
		{"plain", "Service Unavailable", "Service Unavailable"},
		{"controls", "bad\x00\x1b[31m thing\r\n", "bad [31m thing"},
		{"html", "<!DOCTYPE html><p>x</p>", ""},
		{"broken json", `{"error":{"code":13`, ""},
		{"json array", `[1,2,3]`, ""},
		{"wrong types", `{"error":{"code":{"x":1},"message":5,"error_data":"s"}}`, ""},
		{"error number", `{"error":42}`, ""},
		{"invalid utf8", "caf\xc3\x28 \xff", "caf( "},
	}
	for _, tc := range tests {
		e := ErrorFromResponse(KindMeta, OpSend, 502, nil, []byte(tc.body))
		if e.Class != ClassRetry || e.Code != 0 {
			t.Errorf("%s: %+v", tc.name, e)
		}
		if tc.name != "invalid utf8" && e.Details != tc.details {
			t.Errorf("%s: details = %q, want %q", tc.name, e.Details, tc.details)
		}
	}
	e := ErrorFromResponse(KindMeta, OpSend, 400, nil, []byte(long))
	if n := len([]rune(e.Details)); n > maxDetail+1 {
		t.Errorf("details not bounded: %d runes", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 120 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"abc", 0},
		{"1.5", 0},
		{"999999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"Sun, 06 Nov 1994 08:49:37 GMT", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	h := http.Header{}
	h.Set("Retry-After", "30")
	if e := ErrorFromResponse(Kind360Dialog, OpSend, 429, h, nil); e.RetryAfter != 30*time.Second || e.Class != ClassRate {
		t.Errorf("%+v", e)
	}
	h.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	if e := ErrorFromResponse(KindMeta, OpSend, 400, h, cloudBody(130429, "")); e.RetryAfter < 58*time.Minute || e.RetryAfter > time.Hour {
		t.Errorf("date: %v", e.RetryAfter)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name    string
		err     error
		timeout bool
	}{
		{"deadline", context.DeadlineExceeded, true},
		{"wrapped deadline", fmt.Errorf("post: %w", context.DeadlineExceeded), true},
		{"net timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, true},
		{"refused", refused, false},
		{"plain", errors.New("boom"), false},
	}
	for _, tc := range tests {
		e := NetworkError(Kind360Dialog, OpSend, tc.err)
		if e.Class != ClassRetry || e.Timeout != tc.timeout || e.Network == tc.timeout || !errors.Is(e, tc.err) {
			t.Errorf("%s: %+v", tc.name, e)
		}
		want := "Couldn't reach the WhatsApp service."
		if tc.timeout {
			want = "The WhatsApp service timed out. Try again."
		}
		if e.Message != want || e.Error() != "360dialog send: "+want {
			t.Errorf("%s: message %q / %q", tc.name, e.Message, e.Error())
		}
	}
}

func TestMissingKey(t *testing.T) {
	t.Parallel()
	e := MissingKey(Kind360Dialog)
	if e.Class != ClassAuth || e.Message != "WhatsApp isn't configured (missing API key)." || e.Provider != Kind360Dialog {
		t.Errorf("%+v", e)
	}
}

func TestCodeInfo(t *testing.T) {
	t.Parallel()
	if c, m, ok := CodeInfo(KindMeta, 131047); c != ClassWindow || !ok || m == "" {
		t.Errorf("131047: %v %q %v", c, m, ok)
	}
	if c, _, ok := CodeInfo(Kind360DialogOnPremise, 470); c != ClassWindow || !ok {
		t.Errorf("470: %v %v", c, ok)
	}
	if c, m, ok := CodeInfo(KindMeta, 7); c != ClassInvalid || ok || m != "WhatsApp refused the request (code 7)." {
		t.Errorf("7: %v %q %v", c, m, ok)
	}
}

func FuzzErrorFromResponse(f *testing.F) {
	seeds := [][]byte{
		nil,
		[]byte(``),
		[]byte(`{}`),
		[]byte(`null`),
		[]byte(`{"error":null}`),
		[]byte(`{"error":"Invalid api key"}`),
		[]byte(`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_subcode":2494010,"error_data":{"messaging_product":"whatsapp","details":"x"},"error_user_title":"t","error_user_msg":"m","fbtrace_id":"A"}}`),
		[]byte(`{"error":{"message":"(#","code":"1e400"}}`),
		[]byte(`{"errors":[{"code":1008,"title":"Required parameter is missing","details":"d"}],"meta":{"api_status":"stable"}}`),
		[]byte(`{"errors":[null,{"code":-1}]}`),
		[]byte(`{"meta":{"developer_message":"Invalid api key","http_code":401}}`),
		[]byte("Bad Gateway"),
		[]byte("<html>"),
		[]byte("\xff\xfe\x00"),
	}
	for _, s := range seeds {
		f.Add(400, "", s)
		f.Add(429, "5", s)
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		for _, kind := range []string{KindMeta, Kind360Dialog, Kind360DialogOnPremise} {
			e := ErrorFromResponse(kind, OpSend, status, h, body)
			if e == nil || e.Class == "" || e.Message == "" {
				t.Fatalf("%s: incomplete error %+v", kind, e)
			}
			if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
				t.Fatalf("retry after %v", e.RetryAfter)
			}
			if len(e.Details) > 4*maxDetail+8 || len(e.Title) > 4*maxDetail+8 {
				t.Fatalf("unbounded text: %d %d", len(e.Details), len(e.Title))
			}
			_ = e.Error()
		}
	})
}
