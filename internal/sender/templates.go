package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/templates"
	"github.com/wagate/wagate/internal/wa"
)

// templateState is what the send path needs for template preflight and the window check.
type templateState struct {
	cat         *templates.Catalogue
	windowCheck map[string]bool // channel -> refuse free-form messages outside the 24-hour window
	now         func() time.Time
}

// UseTemplates turns on, for every send: the template preflight against cat (a template that does not exist in
// that language, is not approved or whose parameters do not match is refused with a *templates.Error), the
// text the contact reads stored on the message, and, on the channels windowCheck maps to true, the refusal of
// free-form messages outside the contact's 24-hour window (*WindowClosedError). now is the clock (nil:
// time.Now).
func (s *Service) UseTemplates(cat *templates.Catalogue, windowCheck map[string]bool, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.tpl = templateState{cat: cat, windowCheck: windowCheck, now: now}
}

// Templates returns the catalogue the send path checks templates against (nil when UseTemplates was not
// called).
func (s *Service) Templates() *templates.Catalogue { return s.tpl.cat }

// freeForm reports whether a message type may only be sent inside the 24-hour window: everything but
// templates (reactions follow the window rules too).
func freeForm(typ string) bool { return typ != "template" && typ != "read" }

// WindowClosedError refuses a free-form message to a contact whose 24-hour window is closed.
type WindowClosedError struct {
	Channel string
	To      string
	// LastInboundAt is when the contact last wrote on the channel; ClosedAt when the window closed (its
	// LastInboundAt plus 24 hours). Both are zero when the contact never wrote.
	LastInboundAt time.Time
	ClosedAt      time.Time
	// Templates are the channel's approved templates, to send instead.
	Templates []templates.Ref
}

func (e *WindowClosedError) Error() string {
	if e.ClosedAt.IsZero() {
		return fmt.Sprintf("the 24-hour window with %s on channel %s is closed: the contact has never written; send an approved template", e.To, e.Channel)
	}
	return fmt.Sprintf("the 24-hour window with %s on channel %s closed at %s (last message from the contact at %s); send an approved template",
		e.To, e.Channel, e.ClosedAt.UTC().Format(time.RFC3339), e.LastInboundAt.UTC().Format(time.RFC3339))
}

// preflight checks msg before it is queued on channel ch and returns the text to store on it: the window
// check for free-form messages, the template check for templates, and the rendered text of a template.
func (s *Service) preflight(ctx context.Context, ch string, msg *wa.Outbound) (string, error) {
	t := s.tpl
	if t.cat == nil {
		return Preview(*msg), nil
	}
	if freeForm(msg.Type) && t.windowCheck[ch] {
		w, err := s.st.WindowFor(ctx, ch, msg.To)
		if err != nil {
			return "", err
		}
		if !w.Open(t.now()) {
			return "", &WindowClosedError{Channel: ch, To: msg.To, LastInboundAt: w.LastInboundAt, ClosedAt: w.ExpiresAt, Templates: t.cat.Approved(ch)}
		}
	}
	if msg.Type != "template" {
		return Preview(*msg), nil
	}
	text, err := t.cat.Preflight(ch, *msg)
	if err != nil {
		return "", err
	}
	if p, ok := s.providers[ch]; ok && p.Kind() == provider.Kind360DialogOnPremise {
		s.addNamespace(ch, msg)
	}
	if text != "" {
		return text, nil
	}
	return Preview(*msg), nil
}

// addNamespace gives an On-Premise template send the namespace its synced template carries, when the request
// names none (the configured namespace remains the client's fallback).
func (s *Service) addNamespace(ch string, msg *wa.Outbound) {
	name, lang := templateContent(*msg)
	ns := s.tpl.cat.Namespace(ch, name, lang)
	if ns == "" {
		return
	}
	var c map[string]json.RawMessage
	if json.Unmarshal(msg.Content, &c) != nil || c["namespace"] != nil {
		return
	}
	c["namespace"], _ = json.Marshal(ns)
	if b, err := json.Marshal(c); err == nil {
		msg.Content = b
	}
}

// SendRequest is a send with wagate's template conveniences.
type SendRequest struct {
	Channel string
	// Message is the message; with Template set only its To and ReplyTo are used.
	Message wa.Outbound
	// Template is a short-form template send ({"name","language","params"...}), expanded to the component
	// form from the channel's synced template.
	Template *templates.Simple
	// Fallback is the template sent instead of a free-form Message when the contact's window is closed.
	Fallback       *templates.Simple
	IdempotencyKey string
}

// SendResult is the outcome of SendWith.
type SendResult struct {
	Message store.Message
	Created bool
	// FallbackUsed says that the window was closed and the fallback template was sent instead.
	FallbackUsed bool
}

// SendWith is Send with a short-form template or a fallback template: it expands them (errors are
// *templates.Error) and sends through Send, so every check of Send applies.
func (s *Service) SendWith(ctx context.Context, req SendRequest) (SendResult, error) {
	ch, err := s.Channel(req.Channel)
	if err != nil {
		return SendResult{}, err
	}
	msg := req.Message
	if req.Template != nil {
		if msg, err = s.expand(ch, msg, *req.Template); err != nil {
			return SendResult{}, err
		}
	}
	var used bool
	if req.Fallback != nil && s.tpl.cat != nil && freeForm(msg.Type) && s.tpl.windowCheck[ch] {
		w, err := s.st.WindowFor(ctx, ch, msg.To)
		if err != nil {
			return SendResult{}, err
		}
		if !w.Open(s.tpl.now()) {
			if msg, err = s.expand(ch, msg, *req.Fallback); err != nil {
				return SendResult{}, err
			}
			used = true
		}
	}
	m, created, err := s.Send(ctx, ch, msg, req.IdempotencyKey)
	return SendResult{Message: m, Created: created, FallbackUsed: used}, err
}

// expand builds the template message of a short-form send to msg's recipient.
func (s *Service) expand(ch string, msg wa.Outbound, t templates.Simple) (wa.Outbound, error) {
	if s.tpl.cat == nil {
		return wa.Outbound{}, &templates.Error{Code: templates.CodeNotSynced, Channel: ch, Template: t.Name, Language: t.Language}
	}
	content, err := s.tpl.cat.Expand(ch, t)
	if err != nil {
		return wa.Outbound{}, err
	}
	out := wa.Outbound{To: msg.To, Type: "template", Content: content, ReplyTo: msg.ReplyTo}
	if err := outbound.Validate(out); err != nil {
		return wa.Outbound{}, err
	}
	return out, nil
}

// UseTemplates lets the worker explain template and window refusals: after 132000 or 132001 it syncs the
// channel's templates at once and checks the message again, and a window refusal (131047, On-Premise 470)
// says when the contact's window closed.
func (w *Worker) UseTemplates(cat *templates.Catalogue) { w.tpl = cat }

// explain returns detail completed with what wagate found out about a permanent failure.
func (w *Worker) explain(ctx context.Context, m *store.Message, out wa.Outbound, pe *provider.Error, detail string) string {
	if w.tpl == nil {
		return detail
	}
	switch {
	case pe.Class == provider.ClassWindow:
		win, err := w.st.WindowFor(ctx, m.Channel, out.To)
		if err != nil {
			return detail
		}
		e := &WindowClosedError{Channel: m.Channel, To: out.To, LastInboundAt: win.LastInboundAt, ClosedAt: win.ExpiresAt}
		names := []string{}
		for _, r := range w.tpl.Approved(m.Channel) {
			names = append(names, r.Name+" ("+r.Language+")")
		}
		why := e.Error()
		if win.Open(time.Now()) {
			// The provider counts from a message wagate did not see, or its clock differs.
			why = fmt.Sprintf("the provider holds the 24-hour window with %s closed, although the contact's last message recorded by wagate was at %s; send an approved template",
				out.To, win.LastInboundAt.UTC().Format(time.RFC3339))
		}
		s := join(detail, why)
		if len(names) > 0 {
			s += ": " + strings.Join(names, ", ")
		}
		return s
	case pe.Class == provider.ClassTemplate && (pe.Code == 132000 || pe.Code == 132001) && out.Type == "template":
		which := "132001: the provider has no such template in that language (or it is not approved)"
		if pe.Code == 132000 {
			which = "132000: the number of parameters does not match the provider's template"
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := w.tpl.Sync(sctx, m.Channel); err != nil {
			return join(detail, which+"; wagate could not sync the channel's templates again: "+err.Error())
		}
		if err := w.tpl.Check(m.Channel, out); err != nil {
			return join(detail, which+"; after syncing the templates again wagate finds: "+err.Error())
		}
		return join(detail, which+"; the templates were synced again and the message matches them now: retry it")
	}
	return detail
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ". " + b
}

// templateContent is the name and language of a template message.
func templateContent(m wa.Outbound) (name, lang string) {
	var c struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
	}
	_ = json.Unmarshal(m.Content, &c)
	return c.Name, c.Language.Code
}
