package sender_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/wagate/wagate/internal/provider/providertest"
)

// uploadFile stores a PNG through POST /v1/media (which uploads it to the provider) and returns wagate's file id.
func uploadFile(t *testing.T, s *stack) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{3}, 100)...))
	mw.Close()
	resp, err := http.Post(s.inst.URL+"/v1/media", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var up struct{ ID, File string }
	json.NewDecoder(resp.Body).Decode(&up)
	if resp.StatusCode != 201 || up.File == "" || up.ID == "" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	return up.File
}

// sentImageID returns the media id of the n-th message the fake accepted.
func sentImageID(t *testing.T, s *stack, n int) string {
	t.Helper()
	sent := s.fake.Sent()
	if len(sent) <= n {
		t.Fatalf("provider accepted %d messages, want more than %d", len(sent), n)
	}
	var body struct{ Image struct{ ID string } }
	json.Unmarshal(sent[n].Body, &body)
	return body.Image.ID
}

// TestSend_StaleMediaIDUploadsAgainOnce: when the provider refuses the cached media id of a stored file, the
// send forgets it, uploads the file again and succeeds with the new id, which later sends reuse. A second
// refusal fails the message without a third upload, and refusals that are not about the media leave the cache.
func TestSend_StaleMediaIDUploadsAgainOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind providertest.Kind
		code int
	}{{providertest.KindMeta, 131053}, {providertest.Kind360Dialog, 100}, {providertest.Kind360DialogOnPremise, 1006}} {
		t.Run(string(c.kind), func(t *testing.T) {
			t.Parallel()
			s := setup(t, "sqlite", c.kind, nil, nil)
			file := uploadFile(t, s)
			first := s.fake.Uploaded()[0].ID
			send := map[string]any{"to": "+34696247355", "type": "image", "image": map[string]any{"file": file}}

			s.fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Code: c.code, Details: "media id not found"})
			if a := s.do(t, "POST", "/v1/messages?wait=5s", send, nil); a.Status != 200 {
				t.Fatalf("send after a stale id: %d %s", a.Status, a.Raw)
			}
			up := s.fake.Uploaded()
			if len(up) != 2 || up[1].ID == first {
				t.Fatalf("uploads = %d, want a second one with a new id", len(up))
			}
			if got := sentImageID(t, s, 0); got != up[1].ID {
				t.Fatalf("sent media id %q, want the fresh %q", got, up[1].ID)
			}
			if a := s.do(t, "POST", "/v1/messages?wait=5s", send, nil); a.Status != 200 || sentImageID(t, s, 1) != up[1].ID {
				t.Fatalf("next send: %d %s, want the new id reused", a.Status, a.Raw)
			}

			// Refused again after the fresh upload: failed, one upload more at most.
			s.fake.FailNext(providertest.EndpointSend, 2, providertest.Fault{Code: c.code, Details: "media id not found"})
			if a := s.do(t, "POST", "/v1/messages?wait=5s", send, nil); a.Status == 200 || a.errCode() == "" {
				t.Fatalf("send refused twice: %d %s, want an error", a.Status, a.Raw)
			}
			if n := len(s.fake.Uploaded()); n != 3 {
				t.Fatalf("uploads after two refusals = %d, want 3 (one retry)", n)
			}

			// A refusal that is not about the media keeps the cached id.
			s.fake.FailNext(providertest.EndpointSend, 1, providertest.Fault{Code: 131026})
			if a := s.do(t, "POST", "/v1/messages?wait=5s", send, nil); a.Status == 200 {
				t.Fatalf("undeliverable: %d %s", a.Status, a.Raw)
			}
			if n := len(s.fake.Uploaded()); n != 3 {
				t.Fatalf("uploads after an unrelated refusal = %d, want 3", n)
			}
		})
	}
}
