package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/wagate/wagate/internal/media"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/store"
)

// The media part of the error catalogue.
var (
	ErrMediaNotReady = &Error{Status: http.StatusConflict, Code: "media_not_ready", Message: "the message's media is not available",
		Fix: "wait while it is pending; when it failed, POST /v1/messages/{id}/media/retry"}
	ErrMediaNotRetryable = &Error{Status: http.StatusConflict, Code: "media_not_retryable", Message: "only media whose fetch failed can be fetched again",
		Fix: "check the message's media.status: pending media are being fetched, ready media are stored"}
	ErrMediaRefused = &Error{Status: http.StatusUnprocessableEntity, Code: "media_refused", Message: "WhatsApp would not accept this file",
		Fix: "see the message; convert or compress the file"}
	ErrUnknownFile = &Error{Status: http.StatusUnprocessableEntity, Code: "unknown_file", Message: "no stored media file has this id",
		Fix: "upload the file with POST /v1/media and send the returned file id"}
	ErrInvalidUpload = &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: "expected a multipart/form-data body with a file field",
		Fix: "curl -F file=@photo.jpg .../v1/media"}
	ErrFileTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Message: "the file is larger than 100 MB",
		Fix: "WhatsApp accepts at most 100 MB (documents), 16 MB for audio and video, 5 MB for images"}
)

// SetMedia gives the API wagate's media store: uploads are kept by wagate, stored media are served at
// GET /v1/media/{id} and failed fetches can be retried. Call it before Register.
func (a *API) SetMedia(m *media.Service) { a.media = m }

// registerMedia mounts the media endpoints.
func (a *API) registerMedia(h route) {
	if a.media == nil {
		return
	}
	h(ScopeRead, "GET /v1/media/{id}", a.serveMedia)
	h(ScopeSend, "POST /v1/messages/{id}/media/retry", a.retryMedia)
}

// mediaView is a message's media as API clients see it.
type mediaView struct {
	Status   string `json:"status"`
	URL      string `json:"url,omitempty"` // wagate's own URL of the bytes, once ready
	MimeType string `json:"mime_type,omitempty"`
	Filename string `json:"filename,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	Note     string `json:"note,omitempty"`
}

// messageView is a message with its media.
type messageView struct {
	store.Message
	Media *mediaView `json:"media,omitempty"`
}

// viewMessage adds the media state of a message that has media.
func (a *API) viewMessage(ctx context.Context, m store.Message) (messageView, error) {
	v := messageView{Message: m}
	if a.media == nil || m.MediaStatus == store.MediaNone {
		return v, nil
	}
	mm, err := a.st.MessageMediaGet(ctx, m.ID)
	if err != nil {
		return v, err
	}
	v.Media = &mediaView{Status: mm.Status, MimeType: mm.Mime, Filename: media.SafeFilename(mm.Filename), SHA256: mm.SHA256,
		Size: mm.Size, Error: mm.Error, Attempts: mm.Attempts, Note: mm.Note}
	if mm.Status == store.MediaReady {
		v.Media.URL = "/v1/media/" + m.ID
	}
	return v, nil
}

// viewMessages adds the media state to a page of messages.
func (a *API) viewMessages(ctx context.Context, p store.Page[store.Message]) (store.Page[messageView], error) {
	out := store.Page[messageView]{Items: make([]messageView, 0, len(p.Items)), Next: p.Next}
	for _, m := range p.Items {
		v, err := a.viewMessage(ctx, m)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// serveMedia answers a stored file: by upload id or by the id of a message whose media is ready.
func (a *API) serveMedia(w http.ResponseWriter, r *http.Request) error {
	f, err := a.media.Open(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, media.ErrNotReady):
		e := *ErrMediaNotReady
		e.Message = err.Error()
		return &e
	case errors.Is(err, media.ErrNoContent):
		e := *ErrMediaNotReady
		e.Message = "the media's bytes are no longer stored"
		return &e
	case err != nil:
		return err
	}
	media.Serve(w, r, f)
	return nil
}

// retryMedia fetches again the media of a message whose fetch failed.
func (a *API) retryMedia(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	mm, err := a.media.Retry(r.Context(), id)
	if errors.Is(err, store.ErrMediaNotRetryable) {
		e := *ErrMediaNotRetryable
		e.Message = err.Error()
		return &e
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/messages/"+id)
	writeJSON(w, http.StatusAccepted, mediaView{Status: mm.Status, MimeType: mm.Mime, Attempts: mm.Attempts})
	return nil
}

// uploadStored takes a multipart upload (fields file, optional channel and kind), checks the file for its kind,
// keeps it in wagate and uploads it to the channel's provider. The answer keeps the provider's media id as id
// (as before wagate kept files) and adds file, the wagate id to send with {"<kind>":{"file":"..."}}, which
// wagate uploads again by itself once the provider's id expires. With upload=false the provider upload is left
// to the first send.
func (a *API) uploadStored(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, media.MaxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return ErrInvalidUpload
	}
	fields := map[string]string{}
	var data []byte
	var name, declared string
	seen := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return ErrFileTooLarge
			}
			e := *ErrInvalidUpload
			e.Message = "the multipart body is malformed"
			return &e
		}
		if part.FormName() == "file" {
			data, err = io.ReadAll(io.LimitReader(part, media.MaxUpload+1))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					return ErrFileTooLarge
				}
				e := *ErrInvalidUpload
				e.Message = "could not read the file"
				return &e
			}
			if len(data) > media.MaxUpload {
				return ErrFileTooLarge
			}
			name, declared, seen = part.FileName(), part.Header.Get("Content-Type"), true
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(part, 100))
		fields[part.FormName()] = strings.TrimSpace(string(b))
	}
	if !seen {
		e := *ErrInvalidUpload
		e.Message = "no file field in the upload"
		return &e
	}
	kind := fields["kind"]
	if kind == "" {
		kind = fields["type"]
	}
	channel, err := a.sender.Channel(fields["channel"])
	if err != nil {
		return ErrUnknownChannel
	}
	u, err := a.media.Upload(r.Context(), kind, data, declared, name)
	var refused *media.RefusedError
	if errors.As(err, &refused) {
		e := *ErrMediaRefused
		e.Message, e.Fix = refused.Reason, refused.Fix
		return &e
	}
	if err != nil {
		return err
	}
	answer := map[string]any{"file": u.ID, "kind": u.Kind, "mime_type": u.Mime, "size": u.Size, "sha256": u.SHA256,
		"filename": u.Filename, "url": "/v1/media/" + u.ID, "channel": channel}
	if fields["upload"] != "false" {
		p, ok := a.channels.Provider(channel)
		if !ok {
			return ErrUnknownChannel
		}
		id, _, err := a.media.ProviderID(r.Context(), channel, p, u.ID)
		var pe *provider.Error
		if errors.As(err, &pe) {
			return &Error{Status: http.StatusBadGateway, Code: "provider_rejected", Message: pe.Message, ProviderCode: pe.Code, Detail: pe.Details,
				Fix: "the file is stored as " + u.ID + ": send it by {\"file\":\"" + u.ID + "\"} to upload it again at send time"}
		}
		if err != nil {
			return err
		}
		answer["id"] = id
	}
	w.Header().Set("Location", "/v1/media/"+u.ID)
	writeJSON(w, http.StatusCreated, answer)
	return nil
}

// fileError turns a refused stored-file send into a validation error naming the field.
func fileError(kind string, err error) *Error {
	field := kind + ".file"
	e := *ErrValidation
	var refused *media.RefusedError
	switch {
	case errors.As(err, &refused):
		e.Message, e.Fix = field+": "+refused.Reason, refused.Fix
	case errors.Is(err, media.ErrUnknownFile):
		e.Message, e.Fix = field+": no stored media file has this id", ErrUnknownFile.Fix
	default:
		e.Message = field + ": " + err.Error()
	}
	e.Details = []FieldError{{Field: field, Message: strings.TrimPrefix(e.Message, field+": ")}}
	return &e
}
