package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

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
	if a.media != nil {
		return a.uploadStored(w, r)
	}
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

// maxProfileBody bounds a profile update request.
const maxProfileBody = 1 << 20

// profileTimeout bounds each provider call of the profile endpoints.
const profileTimeout = 15 * time.Second

// channelProvider is the provider client of the channel named in the path, or not_found.
func (a *API) channelProvider(r *http.Request) (provider.Provider, error) {
	p, ok := a.channels.Provider(r.PathValue("id"))
	if !ok || p == nil {
		return nil, ErrNotFound
	}
	return p, nil
}

// channelProfile answers the channel's business profile as the provider reports it now.
func (a *API) channelProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := a.channelProvider(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), profileTimeout)
	defer cancel()
	prof, err := p.Profile(ctx)
	if err != nil {
		return profileError(err)
	}
	writeJSON(w, http.StatusOK, prof)
	return nil
}

// updateChannelProfile changes the fields of the JSON body (about, address, description, email, vertical,
// websites) at the provider, leaving the others as they are, and answers the profile read back afterwards.
func (a *API) updateChannelProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := a.channelProvider(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProfileBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: ErrBodyTooLarge.Code, Message: ErrBodyTooLarge.Message,
				Fix: "send only the profile fields to change"}
		}
		return &Error{Status: http.StatusBadRequest, Code: "unreadable_body", Message: "could not read the request body"}
	}
	upd, ferr := decodeProfilePatch(body)
	if ferr != nil {
		return ferr
	}
	if _, err := provider.CheckProfile(p.Kind(), upd); err != nil {
		return profileError(err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), profileTimeout)
	defer cancel()
	if err := p.SetProfile(ctx, upd); err != nil {
		return profileError(err)
	}
	rctx, rcancel := context.WithTimeout(r.Context(), profileTimeout)
	defer rcancel()
	prof, err := p.Profile(rctx)
	if err != nil {
		e := profileError(err)
		if ae, ok := e.(*Error); ok {
			cp := *ae
			cp.Message = "the profile was updated, but reading it back failed: " + cp.Message
			return &cp
		}
		return e
	}
	writeJSON(w, http.StatusOK, prof)
	return nil
}

// profileTextFields are the profile's text fields a PATCH may change.
var profileTextFields = map[string]func(*provider.Profile) *string{
	"about":       func(p *provider.Profile) *string { return &p.About },
	"address":     func(p *provider.Profile) *string { return &p.Address },
	"description": func(p *provider.Profile) *string { return &p.Description },
	"email":       func(p *provider.Profile) *string { return &p.Email },
	"vertical":    func(p *provider.Profile) *string { return &p.Vertical },
}

// decodeProfilePatch reads a PATCH body: a JSON object with at least one of the changeable fields, each a
// non-empty string (websites: an array of strings). Every problem found is listed in the error's details.
func decodeProfilePatch(body []byte) (provider.Profile, *Error) {
	var p provider.Profile
	fail := func(details ...FieldError) (provider.Profile, *Error) {
		e := *ErrValidation
		e.Message = "the profile update is not valid"
		e.Fix = "send a JSON object with the fields to change: about, address, description, email, vertical, websites"
		e.Details = details
		if len(details) == 1 {
			if details[0].Field != "" {
				e.Message += ": " + details[0].Field
			}
			e.Message += ": " + details[0].Message
		}
		return provider.Profile{}, &e
	}
	trimmed := bytes.TrimSpace(body)
	var obj map[string]json.RawMessage
	switch {
	case len(trimmed) == 0:
		return fail(FieldError{Message: "the request body is empty: send a JSON object"})
	case trimmed[0] != '{' || json.Unmarshal(trimmed, &obj) != nil:
		return fail(FieldError{Message: "the request body must be a JSON object"})
	case len(obj) == 0:
		return fail(FieldError{Message: "the object names no field to change"})
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []FieldError
	const noClear = "must not be empty or null: a field cannot be cleared, only given a new value"
	for _, k := range keys {
		raw := bytes.TrimSpace(obj[k])
		if dst, ok := profileTextFields[k]; ok {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				errs = append(errs, FieldError{Field: k, Message: "must be a string"})
			} else if strings.TrimSpace(v) == "" {
				errs = append(errs, FieldError{Field: k, Message: noClear})
			} else {
				*dst(&p) = v
			}
			continue
		}
		switch k {
		case "websites":
			var v []string
			if err := json.Unmarshal(raw, &v); err != nil {
				errs = append(errs, FieldError{Field: k, Message: "must be an array of strings"})
			} else if len(v) == 0 {
				errs = append(errs, FieldError{Field: k, Message: noClear})
			} else {
				p.Websites = v
			}
		case "profile_picture_url":
			errs = append(errs, FieldError{Field: k, Message: "is read-only: change the picture in WhatsApp Manager or the 360dialog hub"})
		default:
			errs = append(errs, FieldError{Field: k, Message: "is not a business profile field (about, address, description, email, vertical, websites)"})
		}
	}
	if len(errs) > 0 {
		return fail(errs...)
	}
	return p, nil
}

// profileError turns a profile call's error into the catalogue's: a field the provider client refused before
// calling is validation_failed (422), a provider failure 502 with the provider's message and code.
func profileError(err error) error {
	var fe *provider.ProfileFieldError
	if errors.As(err, &fe) {
		e := *ErrValidation
		e.Message = fmt.Sprintf("the profile update is not valid: %s: %s", fe.Field, fe.Problem)
		e.Details = []FieldError{{Field: fe.Field, Message: fe.Problem}}
		return &e
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		return providerError(pe)
	}
	return err
}

// providerError is a failed provider call other than a send, as a 502 by the error's class.
func providerError(pe *provider.Error) *Error {
	e := &Error{Status: http.StatusBadGateway, Code: "provider_rejected", Message: pe.Message, ProviderCode: pe.Code, Detail: pe.Details,
		Fix: "see the provider's message and correct the request"}
	switch pe.Class {
	case provider.ClassAuth:
		e.Code, e.Fix = "provider_auth", "check the channel's credentials with `wagate check`"
	case provider.ClassRetry, provider.ClassRate, provider.ClassPairRate:
		e.Code, e.Fix = "provider_unavailable", "try again later"
	case provider.ClassUnsupported:
		e.Code, e.Fix = "provider_unsupported", "this channel's provider does not offer this operation"
	}
	if e.Message == "" {
		e.Message = "the provider refused the request"
	}
	return e
}

// maxContactsCheck is the most numbers one contacts check takes.
const maxContactsCheck = 100

// errContactsUnsupported answers a contacts check on a channel whose provider has none.
var errContactsUnsupported = &Error{Status: http.StatusUnprocessableEntity, Code: "unsupported",
	Message: "this channel's provider has no contacts check",
	Fix:     "the contacts check exists only on 360dialog On-Premise channels (WAGATE_PROVIDER=360dialog-onpremise); the Cloud API and Meta have none"}

// checkChannelContacts asks the channel's provider which of the body's numbers ({"contacts":["+34...",...]},
// 1 to 100) are on WhatsApp, answering {"contacts":[{"input","status","wa_id"}]}.
func (a *API) checkChannelContacts(w http.ResponseWriter, r *http.Request) error {
	p, err := a.channelProvider(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProfileBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: ErrBodyTooLarge.Code, Message: ErrBodyTooLarge.Message,
				Fix: fmt.Sprintf("send at most %d numbers per check", maxContactsCheck)}
		}
		return &Error{Status: http.StatusBadRequest, Code: "unreadable_body", Message: "could not read the request body"}
	}
	numbers, verr := decodeContactsCheck(body)
	if verr != nil {
		return verr
	}
	cc, ok := p.(provider.ContactChecker)
	if !ok {
		return errContactsUnsupported
	}
	ctx, cancel := context.WithTimeout(r.Context(), profileTimeout)
	defer cancel()
	res, err := cc.CheckContacts(ctx, numbers)
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) {
			if pe.Class == provider.ClassUnsupported {
				e := *errContactsUnsupported
				if pe.Message != "" {
					e.Message = pe.Message
				}
				return &e
			}
			return providerError(pe)
		}
		return err
	}
	if res == nil {
		res = []provider.ContactStatus{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": res})
	return nil
}

// decodeContactsCheck reads {"contacts":[...]}: 1 to maxContactsCheck non-empty strings, trimmed.
func decodeContactsCheck(body []byte) ([]string, *Error) {
	fail := func(field, msg string) ([]string, *Error) {
		e := *ErrValidation
		e.Message = "the contacts check is not valid: " + msg
		if field != "" {
			e.Message = "the contacts check is not valid: " + field + ": " + msg
		}
		e.Fix = fmt.Sprintf(`send {"contacts":["+34600111222", ...]} with 1 to %d phone numbers`, maxContactsCheck)
		e.Details = []FieldError{{Field: field, Message: msg}}
		return nil, &e
	}
	trimmed := bytes.TrimSpace(body)
	var obj map[string]json.RawMessage
	switch {
	case len(trimmed) == 0:
		return fail("", "the request body is empty: send a JSON object")
	case trimmed[0] != '{' || json.Unmarshal(trimmed, &obj) != nil:
		return fail("", "the request body must be a JSON object")
	}
	raw, ok := obj["contacts"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return fail("contacts", "is required")
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return fail("contacts", "must be an array of phone numbers (strings)")
	}
	if len(list) == 0 || len(list) > maxContactsCheck {
		return fail("contacts", fmt.Sprintf("must hold 1 to %d phone numbers, got %d", maxContactsCheck, len(list)))
	}
	for i, n := range list {
		list[i] = strings.TrimSpace(n)
		if list[i] == "" {
			return fail(fmt.Sprintf("contacts[%d]", i), "must not be empty")
		}
	}
	for k := range obj {
		if k != "contacts" {
			return fail(k, "is not a field of the contacts check (only contacts)")
		}
	}
	return list, nil
}
