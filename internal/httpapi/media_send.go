package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/outbound"
)

// The inline-file part of the error catalogue.
var (
	ErrInvalidSendUpload = &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: "expected a multipart/form-data body with a message part and a file part",
		Fix: `curl -F 'message={"to":"+34696247355","type":"image"};type=application/json' -F file=@photo.jpg .../v1/messages`}
	ErrNoMediaStore = &Error{Status: http.StatusUnprocessableEntity, Code: "media_store_off", Message: "this wagate keeps no media files, so it cannot take a file with a send",
		Fix: "upload the file to the provider first and send it by id, or send it by link"}
)

// placeholderFile stands in for the stored file's id while a request with an inline file is validated, so
// that a request that cannot be sent is refused before its file is stored.
const placeholderFile = "pending"

// sendBody reads a send request. A multipart/form-data request carries the JSON request in a part "message" and
// the file in a part "file"; a JSON request may carry its file as base64 in the media object's "data". Either
// way the file is checked and stored as POST /v1/media does (same refusals), and the returned body names it as
// {"<type>":{"file":"<id>"}}. Other JSON bodies are returned as read.
func (a *API) sendBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return a.multipartSend(w, r)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrBodyTooLarge
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: "unreadable_body", Message: "could not read the request body"}
	}
	// Most sends name no inline file: skip the extra parse unless "data" may be a key ("\u" may spell it).
	if !bytes.Contains(body, []byte(`data"`)) && !bytes.Contains(body, []byte(`\u`)) {
		return body, nil
	}
	f, ok, err := outbound.FindInlineFile(body, false)
	if err != nil {
		return nil, validationError(err)
	}
	if !ok {
		return body, nil
	}
	return StoreInlineFile(r.Context(), a.media, f, f.Data, f.MimeType, f.Filename)
}

// StoreInlineFile validates a send request that carries a file (outbound.FindInlineFile) with a placeholder in
// place of the file, so that a request that cannot be sent is refused before its file is stored; then checks
// and stores the file in m (media.Service.UploadOnce: the same refusals as POST /v1/media) and returns the
// request naming the stored file. Refusals are catalogue errors. The API's multipart and base64 sends and the
// web inbox's composer take files through it.
func StoreInlineFile(ctx context.Context, m *media.Service, f outbound.InlineFile, data []byte, declared, name string) ([]byte, error) {
	if m == nil {
		return nil, ErrNoMediaStore
	}
	if _, err := outbound.Decode(f.Attach(placeholderFile)); err != nil {
		return nil, validationError(err)
	}
	u, err := m.UploadOnce(ctx, f.Kind, data, declared, name)
	var refused *media.RefusedError
	if errors.As(err, &refused) {
		e := *ErrMediaRefused
		e.Message, e.Fix = refused.Reason, refused.Fix
		return nil, &e
	}
	if err != nil {
		return nil, err
	}
	return f.Attach(u.ID), nil
}

// multipartSend reads a multipart send: a part "message" (the JSON request, at most 1 MiB) and a part "file"
// (at most the largest media kind's limit, which the kind's own limit then narrows).
func (a *API) multipartSend(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if a.media == nil {
		return nil, ErrNoMediaStore
	}
	r.Body = http.MaxBytesReader(w, r.Body, media.MaxUpload+2*maxSendBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, ErrInvalidSendUpload
	}
	malformed := func(msg string) *Error {
		e := *ErrInvalidSendUpload
		e.Message = msg
		return &e
	}
	var msg, data []byte
	var name, declared string
	var seenMsg, seenFile bool
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrFileTooLarge
		}
		if err != nil {
			return nil, malformed("the multipart body is malformed")
		}
		switch part.FormName() {
		case "message":
			if seenMsg {
				return nil, malformed("the message part appears more than once")
			}
			seenMsg = true
			if msg, err = io.ReadAll(io.LimitReader(part, maxSendBody+1)); err != nil {
				return nil, malformed("could not read the message part")
			}
			if len(msg) > maxSendBody {
				return nil, ErrBodyTooLarge
			}
		case "file":
			if seenFile {
				return nil, malformed("the file part appears more than once: send one file per message")
			}
			seenFile = true
			data, err = io.ReadAll(io.LimitReader(part, media.MaxUpload+1))
			if errors.As(err, &tooBig) {
				return nil, ErrFileTooLarge
			}
			if err != nil {
				return nil, malformed("could not read the file")
			}
			if len(data) > media.MaxUpload {
				return nil, ErrFileTooLarge
			}
			name, declared = part.FileName(), part.Header.Get("Content-Type")
		default:
			return nil, malformed("unexpected part " + quoteName(part.FormName()) + ": the parts are message and file")
		}
	}
	switch {
	case !seenMsg:
		return nil, malformed("no message part: put the JSON send request in a part called message")
	case !seenFile:
		return nil, malformed("no file part: put the file in a part called file")
	}
	f, _, err := outbound.FindInlineFile(msg, true)
	if err != nil {
		return nil, validationError(err)
	}
	if f.MimeType != "" {
		declared = f.MimeType
	}
	if name == "" {
		name = f.Filename
	}
	return StoreInlineFile(r.Context(), a.media, f, data, declared, name)
}

// quoteName quotes a part name for an error message, shortened to 64 bytes.
func quoteName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}
