package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/sender"
)

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"items": a.channels.List()})
	return nil
}

func (a *API) channelHealth(w http.ResponseWriter, r *http.Request) error {
	rep, ok := a.channels.Check(r.Context(), r.PathValue("id"))
	if !ok {
		return ErrNotFound
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// maxUpload is the largest media file accepted: the Cloud API's limit (documents); each kind has a smaller one.
const maxUpload = 100 << 20

// uploadMedia takes a multipart file ("file", optional "channel") and uploads it to the channel's provider,
// answering the provider's media id to send it by.
func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: "expected a multipart/form-data body with a file field",
			Fix: "curl -F file=@photo.jpg .../v1/media"}
	}
	var channel string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return &Error{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Message: "the file is larger than 100 MB", Fix: "WhatsApp accepts at most 100 MB (documents), 16 MB for audio and video, 5 MB for images"}
			}
			return &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: "the multipart body is malformed"}
		}
		switch part.FormName() {
		case "channel":
			b, _ := io.ReadAll(io.LimitReader(part, 100))
			channel = strings.TrimSpace(string(b))
		case "file":
			data, err := io.ReadAll(io.LimitReader(part, maxUpload+1))
			if err != nil {
				return &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: "could not read the file"}
			}
			if len(data) > maxUpload {
				return &Error{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Message: "the file is larger than 100 MB"}
			}
			mt := mediaType(part.Header.Get("Content-Type"), part.FileName(), data)
			id, err := a.sender.UploadMedia(r.Context(), channel, provider.MediaFile{Data: data, MimeType: mt, Filename: filepath.Base(part.FileName())})
			if errors.Is(err, sender.ErrUnknownChannel) {
				return ErrUnknownChannel
			}
			var pe *provider.Error
			if errors.As(err, &pe) {
				return &Error{Status: http.StatusBadGateway, Code: "provider_rejected", Message: pe.Message, ProviderCode: pe.Code, Detail: pe.Details,
					Fix: "check the file's type and size against WhatsApp's limits"}
			}
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusCreated, map[string]any{"id": id, "mime_type": mt, "size": len(data)})
			return nil
		}
	}
	return &Error{Status: http.StatusBadRequest, Code: "invalid_upload", Message: "no file field in the upload", Fix: "curl -F file=@photo.jpg .../v1/media"}
}

// mediaType picks the file's MIME type: the part's own when specific, else from the name, else sniffed.
func mediaType(declared, name string, data []byte) string {
	if mt, _, err := mime.ParseMediaType(declared); err == nil && mt != "application/octet-stream" {
		return mt
	}
	if mt := mime.TypeByExtension(filepath.Ext(name)); mt != "" {
		if base, _, err := mime.ParseMediaType(mt); err == nil {
			return base
		}
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	return mt
}
