// Package demo is the simulated provider of demo mode: sends are accepted locally with provider-like ids, and
// their receipts (sent, delivered, read, with jitter and sometimes out of order) come back through wagate's real
// inbound path as provider-shaped webhooks. Magic recipient numbers produce each important provider failure.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/wa"
)

// The magic recipients. Each is a valid Spanish mobile number whose last digits name the provider error it
// produces.
const (
	// WindowClosed (+34 600 131 047) is refused at once with 131047: outside the 24-hour window.
	WindowClosed = "+34600131047"
	// Throughput (+34 600 130 429) is throttled with 130429 on every other attempt: the channel pauses and the
	// message goes out on a retry.
	Throughput = "+34600130429"
	// PairRate (+34 600 131 056) is throttled with 131056 on every other attempt: only this recipient pauses.
	PairRate = "+34600131056"
	// Undeliverable (+34 600 131 026) is accepted, then a failed receipt with 131026 arrives.
	Undeliverable = "+34600131026"
	// MediaError (+34 600 131 053) is refused at once with 131053: the media could not be uploaded.
	MediaError = "+34600131053"
	// TokenExpired (+34 600 000 190) is refused at once with 190: the access token expired.
	TokenExpired = "+34600000190"
)

// Deliver hands a provider-shaped webhook body to wagate's inbound path.
type Deliver func(ctx context.Context, body []byte) error

// Config configures the demo provider.
type Config struct {
	// Deliver receives the receipt (and reply) webhooks. Nil disables them.
	Deliver Deliver
	// Replies makes the contact answer each message it read, as a person would.
	Replies bool
	// Delay is the mean time between one receipt and the next (default 400 ms), jittered ±50%.
	Delay time.Duration
}

// Provider is the demo provider.
type Provider struct {
	cfg     Config
	mu      sync.Mutex
	tries   map[string]int
	profile provider.Profile
	wg      sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
}

var _ provider.Provider = (*Provider)(nil)

// New returns a demo provider.
func New(cfg Config) *Provider {
	if cfg.Delay <= 0 {
		cfg.Delay = 400 * time.Millisecond
	}
	return &Provider{cfg: cfg, tries: map[string]int{}, stop: make(chan struct{}), profile: provider.Profile{About: "wagate demo"}}
}

// Close stops pending receipts and waits for the goroutines that deliver them.
func (p *Provider) Close() {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}

// Kind returns "demo".
func (p *Provider) Kind() string { return "demo" }

func demoErr(op string, class provider.Class, code int, title, msg string) *provider.Error {
	return &provider.Error{Provider: "demo", Op: op, HTTPStatus: 400, Code: code, Title: title, Class: class, Message: msg}
}

// Send accepts the message (or fails as its magic recipient says) and schedules its receipts.
func (p *Provider) Send(ctx context.Context, msg wa.Outbound) (provider.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return provider.SendResult{}, &provider.Error{Provider: "demo", Op: "send", Class: provider.ClassRetry, Timeout: true, Message: "The WhatsApp service timed out. Try again.", Err: err}
	}
	switch msg.To {
	case WindowClosed:
		return provider.SendResult{}, demoErr("send", provider.ClassWindow, 131047, "Re-engagement message",
			"More than 24 hours have passed since the contact last wrote: free-form messages are refused. Send an approved template instead. (demo number)")
	case MediaError:
		return provider.SendResult{}, demoErr("send", provider.ClassRecipient, 131053, "Media upload error",
			"The media could not be uploaded or processed: check its type and size. (demo number)")
	case TokenExpired:
		return provider.SendResult{}, demoErr("send", provider.ClassAuth, 190, "Access token has expired",
			"The Meta access token has expired or was revoked. Create a new system-user token and set WHATSAPP_ACCESS_TOKEN. (demo number)")
	case Throughput, PairRate:
		p.mu.Lock()
		p.tries[msg.To]++
		n := p.tries[msg.To]
		p.mu.Unlock()
		if n%2 == 1 {
			if msg.To == Throughput {
				return provider.SendResult{}, demoErr("send", provider.ClassRate, 130429, "Rate limit hit",
					"Meta's throughput limit for this number was reached. wagate pauses the channel and retries. (demo number)")
			}
			return provider.SendResult{}, demoErr("send", provider.ClassPairRate, 131056, "(Business Account, Consumer Account) pair rate limit hit",
				"Too many messages to this recipient in a short time. wagate paces this recipient and retries. (demo number)")
		}
	}
	id := simulate.NewWAMID(wa.Digits(msg.To))
	p.schedule(msg, id)
	return provider.SendResult{ProviderID: id, WAID: wa.Digits(msg.To), Status: "accepted"}, nil
}

// schedule posts the message's receipts (and maybe a reply) through Deliver, with jitter; one time in five the
// read receipt overtakes the delivered one, as real providers sometimes do.
func (p *Provider) schedule(msg wa.Outbound, id string) {
	if p.cfg.Deliver == nil {
		return
	}
	statuses := []string{"sent", "delivered", "read"}
	if msg.To == Undeliverable {
		statuses = []string{"failed"}
	} else if mrand.IntN(5) == 0 {
		statuses = []string{"sent", "read", "delivered"}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		at := time.Now()
		for _, st := range statuses {
			d := p.cfg.Delay/2 + time.Duration(mrand.Int64N(int64(p.cfg.Delay)))
			select {
			case <-time.After(d):
			case <-p.stop:
				return
			}
			at = at.Add(d)
			o := simulate.ReceiptOptions{MessageID: id, Status: st, RecipientID: msg.To, Timestamp: at}
			if st == "failed" {
				o.ErrorCode, o.ErrorTitle, o.ErrorDetail = 131026, "Message undeliverable", "The recipient is not on WhatsApp (demo number)."
			}
			if body, err := simulate.Receipt(wa.ShapeCloud, o); err == nil {
				_ = p.cfg.Deliver(context.Background(), body)
			}
		}
		if p.cfg.Replies && msg.To != Undeliverable && msg.Type != "reaction" {
			select {
			case <-time.After(p.cfg.Delay * 2):
			case <-p.stop:
				return
			}
			body, err := simulate.Message(wa.ShapeCloud, simulate.MessageOptions{From: msg.To, Type: "text",
				Text: "Thanks, got it! (automatic demo reply)", ReplyTo: id, Timestamp: time.Now()})
			if err == nil {
				_ = p.cfg.Deliver(context.Background(), body)
			}
		}
	}()
}

// MarkRead succeeds.
func (p *Provider) MarkRead(ctx context.Context, providerMessageID string) error { return nil }

// UploadMedia keeps nothing and returns a media id derived from the bytes.
func (p *Provider) UploadMedia(ctx context.Context, f provider.MediaFile) (string, error) {
	sum := sha256.Sum256(f.Data)
	return "demo-" + hex.EncodeToString(sum[:8]), nil
}

// DownloadMedia returns a small generated PNG image: demo webhooks name media that exist nowhere, and an image
// shows the whole media path working without credentials.
func (p *Provider) DownloadMedia(ctx context.Context, mediaID string) (provider.MediaFile, error) {
	data := demoImage(mediaID)
	sum := sha256.Sum256(data)
	return provider.MediaFile{Data: data, MimeType: "image/png", Filename: "demo-" + mediaID + ".png", SHA256: hex.EncodeToString(sum[:])}, nil
}

// Health reports a healthy demo number.
func (p *Provider) Health(ctx context.Context) (provider.Health, error) {
	return provider.Health{CanSend: true, VerifiedName: "wagate demo", QualityRating: "GREEN", Throughput: "STANDARD",
		Details: []string{"Demo mode: no provider is contacted."}, CheckedAt: time.Now()}, nil
}

// Webhook reports that demo receipts need no webhook registration.
func (p *Provider) Webhook(ctx context.Context) (provider.WebhookConfig, error) {
	return provider.WebhookConfig{}, nil
}

// SetWebhook is not needed in demo mode.
func (p *Provider) SetWebhook(ctx context.Context, cfg provider.WebhookConfig) error {
	return &provider.Error{Provider: "demo", Op: "set_webhook", Class: provider.ClassUnsupported,
		Message: "Demo channels need no webhook registration: their receipts come back internally."}
}

// Profile returns the demo number's business profile, kept in memory (initially About "wagate demo").
func (p *Provider) Profile(ctx context.Context) (provider.Profile, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.profile
	out.Websites = slices.Clone(out.Websites)
	return out, nil
}

// SetProfile checks pr like the real providers (provider.CheckProfile) and stores its non-empty fields.
func (p *Provider) SetProfile(ctx context.Context, pr provider.Profile) error {
	pr, err := provider.CheckProfile("demo", pr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range []struct {
		dst *string
		v   string
	}{{&p.profile.About, pr.About}, {&p.profile.Address, pr.Address},
		{&p.profile.Description, pr.Description}, {&p.profile.Email, pr.Email}, {&p.profile.Vertical, pr.Vertical}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if len(pr.Websites) > 0 {
		p.profile.Websites = slices.Clone(pr.Websites)
	}
	return nil
}
