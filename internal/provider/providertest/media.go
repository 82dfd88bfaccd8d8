package providertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// mediaURLLifetime is how long a media URL from GET /{media-id} stays valid (docs/provider-api.md §5).
const mediaURLLifetime = 5 * time.Minute

// lookasideHost is the host 360dialog's media info answers, unchanged from Meta's.
const lookasideHost = "https://lookaside.fbsbx.com"

// AddMedia makes media id downloadable (as if a user had sent it): GET /{version}/{id} and GET /{id} on the
// Cloud kinds, GET /v1/media/{id} On-Premise.
func (s *Server) AddMedia(id string, data []byte, mimeType string) {
	f := &MediaFile{ID: id, Data: bytes.Clone(data), MimeType: mimeType, SHA256: sha256Hex(data), At: s.opts.Now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = f
}

// Uploaded returns the media clients uploaded, oldest first.
func (s *Server) Uploaded() []MediaFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]MediaFile(nil), s.uploaded...)
}

// handleUpload answers POST .../media: multipart on the Cloud kinds, the raw file On-Premise.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, body []byte) {
	v := validator{cloud: s.opts.Kind.cloud()}
	now := s.opts.Now()
	if !v.cloud {
		if len(body) > maxOnPremMedia {
			s.writeError(w, &apiError{status: http.StatusBadRequest, code: 1009,
				details: fmt.Sprintf("Media file is larger than %d bytes", maxOnPremMedia)})
			return
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			s.writeError(w, v.missing("Content-Type"))
			return
		}
		if len(body) == 0 {
			s.writeError(w, v.missing("media"))
			return
		}
		f := MediaFile{ID: newUUID(), Data: body, MimeType: mt, SHA256: sha256Hex(body), At: now}
		s.storeUpload(f)
		writeJSON(w, http.StatusCreated, map[string]any{
			"media": []map[string]string{{"id": f.ID}},
			"meta":  newOnPremMeta(),
		})
		return
	}
	fields, file, filename, partType, ok := readMultipart(r.Header.Get("Content-Type"), body)
	if !ok {
		s.writeError(w, &apiError{status: http.StatusBadRequest, code: 100, message: "(#100) Invalid parameter",
			details: "The request body is not a valid multipart/form-data body."})
		return
	}
	mp, hasMP := fields["messaging_product"]
	switch {
	case !hasMP || mp == "":
		s.writeError(w, v.missing("messaging_product"))
		return
	case mp != "whatsapp":
		s.writeError(w, v.enum("messaging_product", "{WHATSAPP}", []byte(strconv.Quote(mp))))
		return
	case file == nil:
		s.writeError(w, v.missing("file"))
		return
	case fields["type"] == "":
		s.writeError(w, v.missing("type"))
		return
	}
	_ = partType // Meta takes the type field, not the part's Content-Type
	f := MediaFile{ID: newMediaID(), Data: file, MimeType: fields["type"], Filename: filename, SHA256: sha256Hex(file), At: now}
	s.storeUpload(f)
	writeJSON(w, http.StatusOK, map[string]string{"id": f.ID})
}

// readMultipart reads the form fields and the file part of a multipart body. A body that is not multipart
// yields no fields (Graph then reports the first missing parameter).
func readMultipart(contentType string, body []byte) (fields map[string]string, file []byte, filename,
	partType string, ok bool) {
	fields = map[string]string{}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return fields, nil, "", "", true
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return fields, file, filename, partType, true
		}
		if err != nil {
			return nil, nil, "", "", false
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, nil, "", "", false
		}
		if part.FormName() == "file" {
			file, filename, partType = data, part.FileName(), part.Header.Get("Content-Type")
			if file == nil {
				file = []byte{}
			}
			continue
		}
		fields[part.FormName()] = string(data)
	}
}

// storeUpload keeps an uploaded file, downloadable under its id.
func (s *Server) storeUpload(f MediaFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploaded = append(s.uploaded, f)
	s.media[f.ID] = &f
}

// mediaHandler answers GET (info, or the bytes On-Premise) and DELETE of a media id.
func (s *Server) mediaHandler(id string, del bool) handler {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if !del && s.penalised(w) {
			return
		}
		s.mu.Lock()
		f := s.media[id]
		if del && f != nil {
			delete(s.media, id)
		}
		s.mu.Unlock()
		cloud := s.opts.Kind.cloud()
		switch {
		case f == nil && cloud:
			if !del {
				s.lookupFailed()
			}
			s.writeError(w, graphUnsupported(r.Method, id))
		case f == nil:
			s.writeError(w, &apiError{status: http.StatusNotFound, code: 1006, details: "Media not found"})
		case del && cloud:
			writeJSON(w, http.StatusOK, map[string]bool{"success": true})
		case del:
			writeJSON(w, http.StatusOK, map[string]any{"meta": newOnPremMeta()})
		case cloud:
			writeJSON(w, http.StatusOK, map[string]any{
				"messaging_product": "whatsapp",
				"url":               s.mediaURL(f),
				"mime_type":         f.MimeType,
				"sha256":            f.SHA256,
				"file_size":         len(f.Data),
				"id":                f.ID,
			})
		default:
			writeMedia(w, f)
		}
	}
}

// mediaURL is the short-lived download URL of f: on this server for Meta, on lookaside.fbsbx.com for
// 360dialog (whose clients swap the host for their base URL).
func (s *Server) mediaURL(f *MediaFile) string {
	base := s.URL()
	if s.opts.Kind == Kind360Dialog {
		base = lookasideHost
	}
	expires := s.opts.Now().Add(mediaURLLifetime)
	if s.takeExpired() {
		expires = s.opts.Now().Add(-time.Second)
	}
	ext := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{"mid": {f.ID}, "ext": {ext}, "hash": {s.mediaHash(f.ID, ext)}}
	return base + attachmentsPath + "?" + q.Encode()
}

// mediaHash signs a media id and its expiry.
func (s *Server) mediaHash(id, ext string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id + "|" + ext))
	return "AT" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// handleDownload answers GET /whatsapp_business/attachments/?mid=..&ext=..&hash=..
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	id, ext, hash := q.Get("mid"), q.Get("ext"), q.Get("hash")
	exp, err := strconv.ParseInt(ext, 10, 64)
	valid := err == nil && id != "" &&
		hmac.Equal([]byte(hash), []byte(s.mediaHash(id, ext))) && s.opts.Now().Unix() <= exp
	var f *MediaFile
	if valid {
		s.mu.Lock()
		f = s.media[id]
		s.mu.Unlock()
	}
	if f == nil {
		writeGateway(w, http.StatusNotFound, "URL signature mismatch, expired or unknown media")
		return
	}
	writeMedia(w, f)
}

// writeMedia answers a file's bytes.
func writeMedia(w http.ResponseWriter, f *MediaFile) {
	mt := f.MimeType
	if mt == "" {
		mt = "application/octet-stream"
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.Data)
}

// sha256Hex is the lowercase hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newMediaID is a Graph-style numeric id of 16 digits.
func newMediaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:])%9e15+1e15, 10)
}

// newUUID is a random version 4 UUID, as On-Premise media ids are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
