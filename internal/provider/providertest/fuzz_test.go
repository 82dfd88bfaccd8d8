package providertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzServeHTTP_Messages feeds arbitrary bodies to every kind's messages endpoint: the fake must answer each
// with a JSON body and never panic.
func FuzzServeHTTP_Messages(f *testing.F) {
	for _, seed := range []string{
		`{"messaging_product":"whatsapp","to":"491511234567","type":"text","text":{"body":"hi"}}`,
		`{"to":"491511234567","type":"template","template":{"name":"n","namespace":"x","language":{"code":"en","policy":"deterministic"}}}`,
		`{"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}`,
		`{"messaging_product":"whatsapp","to":"491511234567","type":"interactive","interactive":{"type":"list","body":{"text":"b"},"action":{"button":"x","sections":[{"rows":[{"id":"a","title":"b"}]}]}}}`,
		`{"type":"contacts","contacts":[{"name":{}}]}`,
		`[]`, `null`, `"x"`, ``, `{"to":{}}`,
	} {
		f.Add([]byte(seed))
	}
	servers := map[Kind]*Server{}
	for _, k := range allKinds {
		s, err := Start(Options{Kind: k, APIKey: testKey, AccessToken: testToken})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(s.Close)
		servers[k] = s
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, k := range allKinds {
			req := httptest.NewRequest(http.MethodPost, sendPath(k), bytes.NewReader(body))
			for h, v := range auth(k) {
				req.Header.Set(h, v)
			}
			w := httptest.NewRecorder()
			servers[k].ServeHTTP(w, req)
			if w.Code == 0 || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s: %d %q", k, w.Code, w.Body.Bytes())
			}
		}
	})
}
