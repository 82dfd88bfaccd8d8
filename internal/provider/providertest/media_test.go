package providertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// upload uploads data the kind's way and returns the answer.
func upload(t *testing.T, b *bundle, data []byte, mimeType string, fields map[string]string) response {
	t.Helper()
	hdr := auth(b.kind)
	if b.kind == Kind360DialogOnPremise {
		hdr["Content-Type"] = mimeType
		return call(t, http.MethodPost, b.fake.URL()+"/v1/media", hdr, data)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if data != nil {
		fw, _ := mw.CreateFormFile("file", "photo.jpg")
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	hdr["Content-Type"] = mw.FormDataContentType()
	p := "/media"
	if b.kind == KindMeta {
		p = "/v21.0/" + DefaultPhoneNumberID + "/media"
	}
	return call(t, http.MethodPost, b.fake.URL()+p, hdr, buf.Bytes())
}

// download fetches a media id's bytes the way the kind's client must: info then URL (with the 360dialog
// lookaside host swapped for the base URL), or directly On-Premise.
func download(t *testing.T, b *bundle, id string) response {
	t.Helper()
	if b.kind == Kind360DialogOnPremise {
		return call(t, http.MethodGet, b.fake.URL()+"/v1/media/"+id, auth(b.kind), nil)
	}
	p := "/" + id
	if b.kind == KindMeta {
		p = "/v21.0/" + id
	}
	r := call(t, http.MethodGet, b.fake.URL()+p, auth(b.kind), nil)
	if r.status != http.StatusOK {
		return r
	}
	info := r.json(t)
	raw, _ := info["url"].(string)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("media url %q: %v", raw, err)
	}
	if b.kind == Kind360Dialog {
		if u.Scheme+"://"+u.Host != "https://lookaside.fbsbx.com" {
			t.Errorf("360dialog media url host %q, want https://lookaside.fbsbx.com", u.Host)
		}
		raw = b.fake.URL() + u.Path + "?" + u.RawQuery
	} else if !strings.HasPrefix(raw, b.fake.URL()+"/whatsapp_business/attachments/?") {
		t.Errorf("Meta media url %q does not point back at the fake", raw)
	}
	for _, q := range []string{"mid", "ext", "hash"} {
		if u.Query().Get(q) == "" {
			t.Errorf("media url %q lacks %s", raw, q)
		}
	}
	return call(t, http.MethodGet, raw, auth(b.kind), nil)
}

func TestMedia_RoundTrip(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("\xff\xd8jpeg"), 1000)
	sum := sha256.Sum256(data)
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			r := upload(t, b, data, "image/jpeg", map[string]string{"messaging_product": "whatsapp", "type": "image/jpeg"})
			if r.status/100 != 2 {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			var id string
			if k.cloud() {
				id, _ = get(r.json(t), "id").(string)
			} else {
				id, _ = get(r.json(t), "media", 0, "id").(string)
			}
			up := b.fake.Uploaded()
			if id == "" || len(up) != 1 || up[0].ID != id || !bytes.Equal(up[0].Data, data) ||
				up[0].MimeType != "image/jpeg" || up[0].SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("upload answer %s, Uploaded() %+v", r.body, up)
			}
			if k.cloud() && up[0].Filename != "photo.jpg" {
				t.Errorf("filename %q", up[0].Filename)
			}
			d := download(t, b, id)
			if d.status != http.StatusOK || !bytes.Equal(d.body, data) || d.header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("download: %d %q (%d bytes)", d.status, d.header.Get("Content-Type"), len(d.body))
			}

			b.fake.AddMedia("778899", []byte("voice"), "audio/ogg")
			if d := download(t, b, "778899"); d.status != 200 || string(d.body) != "voice" {
				t.Errorf("AddMedia download: %d %s", d.status, d.body)
			}
			d = download(t, b, "404404")
			if k.cloud() {
				wantError(t, k, d, http.StatusBadRequest, 100, "does not exist")
			} else {
				wantError(t, k, d, http.StatusNotFound, 1006, "not found")
			}
		})
	}
}

func TestMedia_URLNeedsAuthHashAndFreshness(t *testing.T) {
	t.Parallel()
	for _, k := range []Kind{KindMeta, Kind360Dialog} {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			b := setup(t, k, func(o *Options) { o.Now = clk.Now })
			b.fake.AddMedia("5551", []byte("data"), "text/plain")
			p := "/5551"
			if k == KindMeta {
				p = "/v21.0/5551"
			}
			info := call(t, http.MethodGet, b.fake.URL()+p, auth(k), nil).json(t)
			if info["sha256"] != func() string { s := sha256.Sum256([]byte("data")); return hex.EncodeToString(s[:]) }() ||
				info["file_size"] != float64(4) || info["mime_type"] != "text/plain" || info["id"] != "5551" ||
				info["messaging_product"] != "whatsapp" {
				t.Errorf("media info %v", info)
			}
			u, _ := url.Parse(info["url"].(string))
			local := b.fake.URL() + u.Path + "?" + u.RawQuery
			if r := call(t, http.MethodGet, local, nil, nil); r.status != http.StatusUnauthorized {
				t.Errorf("download without credentials: %d", r.status)
			}
			q := u.Query()
			q.Set("mid", "5552")
			if r := call(t, http.MethodGet, b.fake.URL()+u.Path+"?"+q.Encode(), auth(k), nil); r.status != http.StatusNotFound {
				t.Errorf("tampered url: %d", r.status)
			}
			clk.Advance(6 * time.Minute)
			if r := call(t, http.MethodGet, local, auth(k), nil); r.status != http.StatusNotFound {
				t.Errorf("expired url: %d", r.status)
			}
		})
	}
}

func TestMedia_UploadValidation(t *testing.T) {
	t.Parallel()
	for _, k := range []Kind{KindMeta, Kind360Dialog} {
		b := setup(t, k, nil)
		r := upload(t, b, []byte("x"), "", map[string]string{"type": "image/png"})
		wantError(t, k, r, http.StatusBadRequest, 100, "messaging_product")
		r = upload(t, b, nil, "", map[string]string{"messaging_product": "whatsapp", "type": "image/png"})
		wantError(t, k, r, http.StatusBadRequest, 100, "file")
		r = upload(t, b, []byte("x"), "", map[string]string{"messaging_product": "whatsapp"})
		wantError(t, k, r, http.StatusBadRequest, 100, "type")
	}
	b := setup(t, Kind360DialogOnPremise, nil)
	r := call(t, http.MethodPost, b.fake.URL()+"/v1/media", auth(b.kind), nil)
	wantError(t, b.kind, r, http.StatusBadRequest, 1008, "Content-Type")
	if len(b.fake.Uploaded()) != 0 {
		t.Error("invalid upload stored")
	}
}

func TestMedia_DeleteThenGone(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		b := setup(t, k, nil)
		b.fake.AddMedia("1234", []byte("x"), "text/plain")
		p := map[Kind]string{KindMeta: "/v21.0/1234", Kind360Dialog: "/1234", Kind360DialogOnPremise: "/v1/media/1234"}[k]
		if r := call(t, http.MethodDelete, b.fake.URL()+p, auth(k), nil); r.status != 200 {
			t.Errorf("%s delete: %d %s", k, r.status, r.body)
		}
		if r := call(t, http.MethodGet, b.fake.URL()+p, auth(k), nil); r.status/100 == 2 {
			t.Errorf("%s media still there after delete", k)
		}
	}
}
