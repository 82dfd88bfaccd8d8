package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/sender"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// The template picker: the inbox's composer loads GET /inbox/{id}/templates when a conversation's 24-hour
// window is closed. It offers the channel's approved templates; choosing one shows a field per value with a
// live preview of what the contact will read, and sending goes through the send path like the API's short
// form. Opened directly (not by htmx) the picker is a page of its own, for deep links.
func (h *Handler) registerTemplatePicker(mux *http.ServeMux) {
	h.page(mux, RoleAgent, "GET /inbox/{id}/templates", h.pickerPage)
	h.page(mux, RoleAgent, "GET /inbox/{id}/templates/form", h.pickerForm)
	h.page(mux, RoleAgent, "POST /inbox/{id}/templates/preview", h.pickerPreview)
	h.page(mux, RoleAgent, "POST /inbox/{id}/templates", h.pickerSend)
	h.page(mux, RoleDirector, "POST /inbox/{id}/templates/sync", h.pickerSync)
}

// maxPickerForm bounds the picker's form posts.
const maxPickerForm = 64 << 10

// pickerView is the picker.
type pickerView struct {
	Conv    store.Conversation
	Channel string
	// Available says templates are in use at all; Synced that the channel's templates were read.
	Available, Synced, CanSync bool
	WindowOpen                 bool
	// NoPhone says the contact has no phone number to send to.
	NoPhone  bool
	Approved []tplOption
	Selected string
	Form     *pickerFormView
	// Sent is the message just sent; SyncNotes the outcome of a sync just run.
	Sent      *store.Message
	SyncNotes []tplSyncNote
}

// pickerFormView is the form of one template.
type pickerFormView struct {
	ConvID   string
	Selected string
	Key      string // the idempotency key of this form's send
	Ref      templates.Ref
	Fields   []pickerField
	Preview  pickerPreview
	// Errors are refusals that concern no single field, each with its fix.
	Errors []tplSyncNote
}

// pickerField is one input of the form.
type pickerField struct {
	templates.Field
	Label, Value, Error, Hint string
}

// pickerPreview is the message as the contact will read it. Ready: every value is given and Text is the
// rendered message; otherwise the texts are shown with the missing placeholders marked.
type pickerPreview struct {
	Ready   bool
	Text    string
	Media   string
	Header  []pickerPiece
	Body    []pickerPiece
	Footer  string
	Buttons []templates.FormButton
	Missing int
}

// pickerPiece is a piece of a template text in the preview.
type pickerPiece struct {
	Text           string
	Filled, Absent bool
}

// selectedRef reads the template choice "name|language".
func selectedRef(v string) (name, lang string, ok bool) {
	name, lang, ok = strings.Cut(v, "|")
	return name, lang, ok && name != "" && lang != ""
}

// pickerBase loads the conversation and what the picker offers on its channel.
func (h *Handler) pickerBase(r *http.Request, s *Session) (*pickerView, error) {
	conv, err := h.st.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	v := &pickerView{Conv: conv, Channel: conv.Channel, WindowOpen: conv.WindowOpen(h.now()), NoPhone: conv.Contact.Phone == ""}
	cat := h.catalogue()
	if cat == nil {
		return v, nil
	}
	v.Available = true
	v.Synced = cat.Synced(conv.Channel)
	v.CanSync = s.Director()
	for _, ref := range cat.Approved(conv.Channel) {
		label := ref.Name + " · " + ref.Language
		if ref.Category != "" {
			label += " · " + translated(s.L, "templates.category."+strings.ToUpper(ref.Category), ref.Category)
		}
		v.Approved = append(v.Approved, tplOption{Value: ref.Name + "|" + ref.Language, Label: label})
	}
	return v, nil
}

func (h *Handler) pickerPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	v, err := h.pickerBase(r, s)
	if err != nil {
		return err
	}
	if sel := r.URL.Query().Get("template"); sel != "" && v.Synced {
		if v.Form, err = h.newPickerForm(s, v, sel); err != nil {
			return err
		}
		v.Selected = sel
	}
	return h.render(w, r, s, http.StatusOK, "templates_picker", "inbox", v)
}

// pickerForm is the form of the chosen template (the picker's select asks for it on change).
func (h *Handler) pickerForm(w http.ResponseWriter, r *http.Request, s *Session) error {
	v, err := h.pickerBase(r, s)
	if err != nil {
		return err
	}
	sel := r.URL.Query().Get("template")
	if sel == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return nil // no template chosen: no form
	}
	if v.Form, err = h.newPickerForm(s, v, sel); err != nil {
		return err
	}
	v.Selected = sel
	return h.renderFragment(w, r, s, http.StatusOK, "templates_form", v)
}

// newPickerForm is the empty form of template sel, with a fresh idempotency key.
func (h *Handler) newPickerForm(s *Session, v *pickerView, sel string) (*pickerFormView, error) {
	key, err := randomToken()
	if err != nil {
		return nil, err
	}
	f, ok := h.pickerFormFor(s, v, sel, key, func(string) string { return "" })
	if !ok {
		return nil, userError(http.StatusNotFound, "templates.picker_gone")
	}
	return f, nil
}

// pickerFormFor lays out the form of template sel with the values value gives, and its preview; false when
// the channel has no such approved template.
func (h *Handler) pickerFormFor(s *Session, v *pickerView, sel, key string, value func(string) string) (*pickerFormView, bool) {
	name, lang, ok := selectedRef(sel)
	cat := h.catalogue()
	if !ok || cat == nil {
		return nil, false
	}
	form, ok := cat.Form(v.Channel, name, lang)
	if !ok || form.Template.Status != wa.TemplateApproved {
		return nil, false
	}
	f := &pickerFormView{ConvID: v.Conv.ID, Selected: sel, Key: key,
		Ref: templates.Ref{Name: name, Language: lang, Category: form.Template.Category}}
	for _, fl := range form.Fields {
		f.Fields = append(f.Fields, pickerField{Field: fl, Label: fieldLabel(s.L, form, fl), Value: value(fl.Name), Hint: fieldHint(s.L, fl)})
	}
	f.Preview = h.preview(v.Channel, form, value)
	return f, true
}

// fieldLabel names a field by where its value goes and its placeholder: "Body · {{2}}".
func fieldLabel(L *Lang, form templates.Form, fl templates.Field) string {
	var where []string
	for _, c := range fl.Components {
		if n, ok := strings.CutPrefix(c, "button "); ok {
			text := n
			for _, b := range form.Buttons {
				if c == "button "+strconv.Itoa(b.Index) {
					text = b.Text
				}
			}
			where = append(where, L.T("templates.field_button", text))
			continue
		}
		if c == "header" {
			where = append(where, L.T("templates.field_header"))
		} else {
			where = append(where, L.T("templates.field_body"))
		}
	}
	label := strings.Join(where, ", ")
	switch fl.Kind {
	case templates.FieldHeader:
		if fl.Placeholder != "{{1}}" {
			return label + " · " + translated(L, "templates.header_"+strings.ToLower(fl.Placeholder), fl.Placeholder)
		}
	case templates.FieldButton:
		return label
	}
	return label + " · " + fl.Placeholder
}

// fieldHint says what a field takes.
func fieldHint(L *Lang, fl templates.Field) string {
	switch {
	case fl.Kind == templates.FieldHeader && fl.Placeholder != "{{1}}":
		return L.T("templates.hint_media")
	case fl.Kind == templates.FieldButton && strings.Contains(fl.Placeholder, "{{"):
		return L.T("templates.hint_button", fl.Placeholder)
	case fl.Kind == templates.FieldButton:
		return L.T("templates.hint_code")
	}
	return ""
}

// preview renders the message with the values given: the catalogue's rendering when they are complete,
// the template's texts with the missing placeholders marked otherwise.
func (h *Handler) preview(channel string, form templates.Form, value func(string) string) pickerPreview {
	p := pickerPreview{Footer: form.Footer, Buttons: form.Buttons}
	fill := func(parts []templates.Part, inHeader bool) []pickerPiece {
		out := make([]pickerPiece, 0, len(parts))
		for _, pt := range parts {
			if pt.Param == "" {
				out = append(out, pickerPiece{Text: pt.Text})
				continue
			}
			if v := strings.TrimSpace(value(form.FieldFor(inHeader, pt.Param))); v != "" {
				out = append(out, pickerPiece{Text: v, Filled: true})
				continue
			}
			p.Missing++
			out = append(out, pickerPiece{Text: pt.Text, Absent: true})
		}
		return out
	}
	p.Header = fill(form.Header, true)
	p.Body = fill(form.Body, false)
	if form.HeaderFormat != "" && form.HeaderFormat != "TEXT" {
		p.Media = strings.ToLower(form.HeaderFormat)
	}
	cat := h.catalogue()
	content, err := cat.Expand(channel, form.Simple(value))
	if err != nil {
		return p
	}
	p.Ready = true
	p.Text = cat.Render(channel, wa.Outbound{Type: "template", Content: content})
	return p
}

func (h *Handler) pickerPreview(w http.ResponseWriter, r *http.Request, s *Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxPickerForm)
	v, err := h.pickerBase(r, s)
	if err != nil {
		return err
	}
	f, ok := h.pickerFormFor(s, v, r.PostFormValue("template"), r.PostFormValue("key"), r.PostFormValue)
	if !ok {
		return userError(http.StatusNotFound, "templates.picker_gone")
	}
	v.Form = f
	return h.renderFragment(w, r, s, http.StatusOK, "templates_preview", v)
}

// pickerSend sends the chosen template with the form's values through the send path, with the form's
// idempotency key (a double submit sends once). Refusals are shown on the form, in the user's language.
func (h *Handler) pickerSend(w http.ResponseWriter, r *http.Request, s *Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxPickerForm)
	v, err := h.pickerBase(r, s)
	if err != nil {
		return err
	}
	sel, key := r.PostFormValue("template"), r.PostFormValue("key")
	if outbound.CheckIdempotencyKey(key) != nil {
		return userError(http.StatusBadRequest, "templates.picker_expired")
	}
	f, ok := h.pickerFormFor(s, v, sel, key, r.PostFormValue)
	if !ok {
		return userError(http.StatusNotFound, "templates.picker_gone")
	}
	v.Selected, v.Form = sel, f
	status := http.StatusOK
	refuse := func(e tplSyncNote) error {
		f.Errors = append(f.Errors, e)
		if r.Header.Get("HX-Request") == "" {
			status = http.StatusUnprocessableEntity
		}
		return h.render(w, r, s, status, "templates_picker", "inbox", v)
	}
	if v.NoPhone {
		return refuse(tplSyncNote{Message: s.L.T("templates.no_phone")})
	}
	form, _ := h.catalogue().Form(v.Channel, f.Ref.Name, f.Ref.Language)
	simple := form.Simple(r.PostFormValue)
	res, err := h.o.Sender.SendWith(r.Context(), sender.SendRequest{Channel: v.Channel,
		Message: wa.Outbound{To: v.Conv.Contact.Phone}, Template: &simple, IdempotencyKey: key})
	if err != nil {
		note, ok := h.sendRefusal(s.L, v.Channel, form, f, err)
		if !ok {
			return err
		}
		return refuse(note)
	}
	h.log.Info("template sent from the ui", "user", s.User.Email, "conversation", v.Conv.ID, "template", f.Ref.Name,
		"language", f.Ref.Language, "message", res.Message.ID)
	// A fresh picker: the next send is a new message with a new key.
	v.Selected, v.Form, v.Sent = "", nil, &res.Message
	trigger, _ := json.Marshal(map[string]any{"wagate:template-sent": map[string]string{"conversation": v.Conv.ID, "message": res.Message.ID}})
	w.Header().Set("HX-Trigger", string(trigger))
	return h.render(w, r, s, http.StatusOK, "templates_picker", "inbox", v)
}

// sendRefusal explains a refusal of the send path in the user's language, marking the fields it concerns;
// false for errors that are not refusals.
func (h *Handler) sendRefusal(L *Lang, channel string, form templates.Form, f *pickerFormView, err error) (tplSyncNote, bool) {
	var te *templates.Error
	var verrs outbound.Errors
	switch {
	case errors.As(err, &te):
		switch te.Code {
		case templates.CodeNotFound:
			return tplSyncNote{Message: L.T("templates.err_not_found", te.Template, te.Language), Fix: L.T("templates.err_not_found_fix")}, true
		case templates.CodeNotApproved:
			return tplSyncNote{Message: L.T("templates.err_not_approved", te.Template, strings.ToLower(statusLabel(L, te.Status))), Fix: L.T("templates.err_not_approved_fix")}, true
		case templates.CodeNotSynced:
			return tplSyncNote{Message: L.T("templates.err_not_synced", te.Channel), Fix: L.T("templates.err_not_synced_fix")}, true
		}
		var other []string
		for _, p := range te.Problems {
			name := form.FieldOf(p)
			found := false
			for i := range f.Fields {
				if f.Fields[i].Name == name {
					found = true
					if f.Fields[i].Error == "" {
						f.Fields[i].Error = problemText(L, p)
					}
				}
			}
			if !found {
				other = append(other, p.String())
			}
		}
		note := tplSyncNote{Message: L.Plural("templates.err_params", len(te.Problems)), Fix: L.T("templates.err_params_fix")}
		if len(other) > 0 {
			note.Message += " " + strings.Join(other, "; ")
		}
		return note, true
	case errors.Is(err, sender.ErrUnknownChannel):
		return tplSyncNote{Message: L.T("templates.unknown_channel", channel), Fix: L.T("templates.err_unknown_channel_fix")}, true
	case errors.Is(err, store.ErrIdempotencyConflict):
		return tplSyncNote{Message: L.T("templates.picker_expired")}, true
	case errors.As(err, &verrs):
		return tplSyncNote{Message: L.T("templates.err_invalid", verrs.Error()), Fix: L.T("templates.err_invalid_fix")}, true
	}
	return tplSyncNote{}, false
}

// problemText says what a field lacks: its value is missing, or it is not what the template takes.
func problemText(L *Lang, p templates.Problem) string {
	if p.Got == "none" {
		return L.T("templates.err_missing")
	}
	return L.T("templates.err_value", p.Expected)
}

// pickerSync syncs the conversation's channel and shows the picker again.
func (h *Handler) pickerSync(w http.ResponseWriter, r *http.Request, s *Session) error {
	v, err := h.pickerBase(r, s)
	if err != nil {
		return err
	}
	if !v.Available {
		return userError(http.StatusConflict, "templates.unavailable")
	}
	notes := h.syncTemplates(r.Context(), s, v.Channel)
	if v, err = h.pickerBase(r, s); err != nil {
		return err
	}
	v.SyncNotes = notes
	return h.render(w, r, s, http.StatusOK, "templates_picker", "inbox", v)
}
