package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wagate/wagate/internal/webhook"
)

// Receipt delivery: attempts per webhook and the first pause between them (doubled each time).
const (
	postAttempts = 4
	postBackoff  = 100 * time.Millisecond
)

// errNoWebhook is returned by PostWebhook when no webhook URL is configured (or, for Meta, the app was
// unsubscribed from the WABA).
var errNoWebhook = errors.New("providertest: no webhook URL configured")

// Cloud webhook envelope (docs/provider-api.md §3.1).
type cloudWebhook struct {
	Object string       `json:"object"`
	Entry  []cloudEntry `json:"entry"`
}

type cloudEntry struct {
	ID      string        `json:"id"`
	Changes []cloudChange `json:"changes"`
}

type cloudChange struct {
	Value cloudValue `json:"value"`
	Field string     `json:"field"`
}

type cloudValue struct {
	MessagingProduct string           `json:"messaging_product"`
	Metadata         cloudMetadata    `json:"metadata"`
	Contacts         []webhookContact `json:"contacts,omitempty"`
	Messages         []inboundJSON    `json:"messages,omitempty"`
	Statuses         []statusJSON     `json:"statuses,omitempty"`
}

type cloudMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// onPremWebhook is the On-Premise root shape (docs/provider-api.md §3.2).
type onPremWebhook struct {
	Contacts []webhookContact `json:"contacts,omitempty"`
	Messages []inboundJSON    `json:"messages,omitempty"`
	Statuses []statusJSON     `json:"statuses,omitempty"`
}

type webhookContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WAID string `json:"wa_id"`
}

type inboundJSON struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      struct {
		Body string `json:"body"`
	} `json:"text"`
}

type statusJSON struct {
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Timestamp    string            `json:"timestamp"`
	RecipientID  string            `json:"recipient_id"`
	BizOpaque    string            `json:"biz_opaque_callback_data,omitempty"`
	Conversation *conversationJSON `json:"conversation,omitempty"`
	Pricing      *pricingJSON      `json:"pricing,omitempty"`
	Errors       []statusError     `json:"errors,omitempty"`
}

type conversationJSON struct {
	ID         string `json:"id"`
	Expiration any    `json:"expiration_timestamp,omitempty"` // string on Cloud, number On-Premise
	Origin     struct {
		Type string `json:"type"`
	} `json:"origin"`
}

type pricingJSON struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Category     string `json:"category"`
	Type         string `json:"type,omitempty"`
}

type statusError struct {
	Code      int             `json:"code"`
	Title     string          `json:"title"`
	Message   string          `json:"message,omitempty"`
	ErrorData *cloudErrorData `json:"error_data,omitempty"`
	Details   string          `json:"details,omitempty"`
}

// startReceipts posts Options.Receipts for an accepted message, asynchronously and in order.
func (s *Server) startReceipts(sent Sent, in sendInfo) {
	if len(s.opts.Receipts) == 0 {
		return
	}
	s.mu.Lock()
	if s.closed || s.hookURL == "" {
		s.mu.Unlock()
		return
	}
	s.posters.Add(1)
	s.mu.Unlock()
	convID := randomHex(16)
	go func() {
		defer s.posters.Done()
		for i, st := range s.opts.Receipts {
			if i > 0 && s.opts.ReceiptDelay > 0 && !sleep(s.postCtx, s.opts.ReceiptDelay) {
				return
			}
			if s.postCtx.Err() != nil {
				return
			}
			body, err := json.Marshal(s.receiptBody(sent, in, st, convID))
			if err != nil {
				return
			}
			_, _ = s.deliver(s.postCtx, body, sent.ID, st)
		}
	}()
}

// receiptBody builds one status webhook in the kind's shape.
func (s *Server) receiptBody(sent Sent, in sendInfo, status, convID string) any {
	now := s.opts.Now()
	st := statusJSON{ID: sent.ID, Status: status, Timestamp: unixString(now), RecipientID: sent.WAID,
		BizOpaque: in.bizOpaque}
	category, billable, ptype := "service", false, "free_customer_service"
	if in.template != "" {
		category, billable, ptype = "utility", true, "regular"
	}
	cloud := s.opts.Kind.cloud()
	conv := func(withExpiry bool) *conversationJSON {
		c := &conversationJSON{ID: convID}
		c.Origin.Type = category
		if withExpiry {
			exp := sent.At.Add(24 * time.Hour).Unix()
			if cloud {
				c.Expiration = strconv.FormatInt(exp, 10)
			} else {
				c.Expiration = exp
			}
		}
		return c
	}
	pricing := &pricingJSON{Billable: billable, PricingModel: "PMP", Category: category, Type: ptype}
	if !cloud {
		pricing = &pricingJSON{Billable: billable, PricingModel: "CBP", Category: category}
	}
	switch status {
	case "sent":
		st.Conversation, st.Pricing = conv(true), pricing
	case "delivered":
		st.Conversation, st.Pricing = conv(false), pricing
	case "failed":
		title := s.codeTitle(s.opts.FailedCode)
		e := statusError{Code: s.opts.FailedCode, Title: title}
		if cloud {
			e.Message = title
			e.ErrorData = &cloudErrorData{MessagingProduct: "whatsapp", Details: title}
		} else {
			e.Details = title
		}
		st.Errors = []statusError{e}
	}
	if !cloud {
		return onPremWebhook{Statuses: []statusJSON{st}}
	}
	return s.cloudEnvelope(cloudValue{Statuses: []statusJSON{st}})
}

// cloudEnvelope wraps a value in object/entry/changes with the number's metadata.
func (s *Server) cloudEnvelope(v cloudValue) cloudWebhook {
	s.mu.Lock()
	display := digits(s.health.DisplayPhoneNumber)
	s.mu.Unlock()
	v.MessagingProduct = "whatsapp"
	v.Metadata = cloudMetadata{DisplayPhoneNumber: display, PhoneNumberID: s.opts.PhoneNumberID}
	return cloudWebhook{Object: "whatsapp_business_account", Entry: []cloudEntry{{
		ID: s.opts.WABAID, Changes: []cloudChange{{Value: v, Field: "messages"}},
	}}}
}

// PostInbound posts an inbound text message from the user from, in the kind's webhook shape, and registers
// its id so that marking it as read succeeds. It returns the message id, and an error when the webhook was
// not answered 2xx after the retries.
func (s *Server) PostInbound(ctx context.Context, from, text string) (string, error) {
	id := s.newMessageID()
	s.AddInbound(id)
	msg := inboundJSON{From: digits(from), ID: id, Timestamp: unixString(s.opts.Now()), Type: "text"}
	msg.Text.Body = text
	c := webhookContact{WAID: digits(from)}
	c.Profile.Name = "Test User"
	var v any = onPremWebhook{Contacts: []webhookContact{c}, Messages: []inboundJSON{msg}}
	if s.opts.Kind.cloud() {
		v = s.cloudEnvelope(cloudValue{Contacts: []webhookContact{c}, Messages: []inboundJSON{msg}})
	}
	body, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("providertest: post inbound: %w", err)
	}
	if _, err := s.deliver(ctx, body, id, ""); err != nil {
		return id, err
	}
	return id, nil
}

// PostWebhook posts body to the configured webhook exactly as receipts are posted (signature or registered
// headers, retries) and returns the last HTTP status answered.
func (s *Server) PostWebhook(ctx context.Context, body []byte) (int, error) {
	return s.deliver(ctx, bytes.Clone(body), "", "")
}

// deliver POSTs body to the current webhook URL, retrying until a 2xx answer, and records every attempt.
func (s *Server) deliver(ctx context.Context, body []byte, msgID, receipt string) (int, error) {
	wait := postBackoff
	var lastErr error
	status := 0
	for attempt := 1; attempt <= postAttempts; attempt++ {
		if attempt > 1 {
			if !sleep(ctx, wait) {
				break
			}
			wait *= 2
		}
		s.mu.Lock()
		u := s.hookURL
		if s.opts.Kind == KindMeta && !s.subscribed {
			u = ""
		}
		hdr := make(http.Header)
		for k, v := range s.hookHdr {
			hdr.Set(k, v)
		}
		s.mu.Unlock()
		if u == "" {
			return 0, errNoWebhook
		}
		hdr.Set("Content-Type", "application/json")
		if s.opts.Kind == KindMeta {
			hdr.Set("User-Agent", "facebookexternalua")
			if s.opts.AppSecret != "" {
				hdr.Set(webhook.SignatureHeader, webhook.Sign(body, []byte(s.opts.AppSecret)))
			}
		}
		status, lastErr = s.postOnce(ctx, u, hdr, body)
		p := PostedWebhook{URL: u, Header: hdr, Body: body, MessageID: msgID, Receipt: receipt, Attempt: attempt,
			Status: status, At: s.opts.Now()}
		if lastErr != nil {
			p.Err = lastErr.Error()
		}
		ok := lastErr == nil && status >= 200 && status < 300
		s.mu.Lock()
		s.posted = keep(append(s.posted, p), s.opts.History)
		if ok {
			s.postedOK++
		}
		s.notifyLocked()
		s.mu.Unlock()
		if ok {
			return status, nil
		}
		if lastErr == nil {
			lastErr = fmt.Errorf("providertest: webhook answered %d", status)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return status, lastErr
}

// postOnce makes one POST and returns the status answered.
func (s *Server) postOnce(ctx context.Context, u string, hdr http.Header, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReceiptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("providertest: webhook request: %w", err)
	}
	req.Header = hdr.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("providertest: post webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// unixString is t in Unix seconds, as webhooks carry it.
func unixString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
