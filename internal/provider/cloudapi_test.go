package provider

import (
	"encoding/json"
	"testing"
)

// FuzzParseAnswers feeds provider success answers (untrusted bytes) to every parser of them.
func FuzzParseAnswers(f *testing.F) {
	for _, s := range []string{
		`{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.X","message_status":"accepted"}]}`,
		`{"messages":[{"id":"gBEG"}],"meta":{"api_status":"stable"}}`,
		`{"url":"https://l/x","mime_type":"image/jpeg","sha256":"abc","file_size":"12","id":"1"}`,
		`{"verified_name":"A","throughput":{"level":"HIGH"},"health_status":{"can_send_message":"LIMITED","entities":[{"entity_type":"WABA","id":"1","errors":[{"error_code":1,"error_description":"d"}],"additional_info":["i"]}]}}`,
		`{"can_send_message":true,"entities":null}`,
		`null`, `[]`, `{"health_status":[1]}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseSendResponse(b)
		_, _ = ParseMediaInfo(b)
		var h Health
		_ = ParsePhoneInfo(b, &h)
		_ = ParseHealthStatus(json.RawMessage(b), &h)
		_, _ = CheckSHA256(b, string(b))
	})
}
