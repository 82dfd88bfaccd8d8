package demo

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/wa"
	"github.com/wagate/wagate/internal/webhook"
)

type inbox struct {
	mu     sync.Mutex
	hooks  []wa.Webhook
	notify chan struct{}
}

func (b *inbox) deliver(ctx context.Context, body []byte) error {
	h, err := webhook.Parse(body)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.hooks = append(b.hooks, h)
	b.mu.Unlock()
	b.notify <- struct{}{}
	return nil
}

func (b *inbox) wait(t *testing.T, n int) []wa.Webhook {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-b.notify:
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d of %d webhooks", i, n)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hooks
}

func text(to string) wa.Outbound {
	return wa.Outbound{To: to, Type: "text", Content: json.RawMessage(`{"body":"hi"}`)}
}

func TestDemo_ReceiptsComeBackAsWebhooks(t *testing.T) {
	t.Parallel()
	b := &inbox{notify: make(chan struct{}, 10)}
	p := New(Config{Deliver: b.deliver, Replies: true, Delay: 5 * time.Millisecond})
	defer p.Close()
	res, err := p.Send(context.Background(), text("+34696247355"))
	if err != nil || res.ProviderID == "" {
		t.Fatalf("send: %+v %v", res, err)
	}
	hooks := b.wait(t, 4)
	seen := map[wa.Status]bool{}
	var reply *wa.InboundMessage
	for _, h := range hooks {
		for _, c := range h.Changes {
			for _, r := range c.Statuses {
				if r.MessageID != res.ProviderID {
					t.Fatalf("receipt for %s", r.MessageID)
				}
				seen[r.Status] = true
			}
			for i := range c.Messages {
				reply = &c.Messages[i]
			}
		}
	}
	if !seen[wa.StatusSent] || !seen[wa.StatusDelivered] || !seen[wa.StatusRead] {
		t.Fatalf("receipts: %v", seen)
	}
	if reply == nil || reply.From != "34696247355" || reply.Context == nil || reply.Context.MessageID != res.ProviderID {
		t.Fatalf("reply: %+v", reply)
	}
}

func TestDemo_MagicNumbers(t *testing.T) {
	t.Parallel()
	b := &inbox{notify: make(chan struct{}, 10)}
	p := New(Config{Deliver: b.deliver, Delay: time.Millisecond})
	defer p.Close()
	ctx := context.Background()
	sync := map[string]struct {
		class provider.Class
		code  int
	}{
		WindowClosed: {provider.ClassWindow, 131047},
		MediaError:   {provider.ClassRecipient, 131053},
		TokenExpired: {provider.ClassAuth, 190},
	}
	for to, want := range sync {
		_, err := p.Send(ctx, text(to))
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Class != want.class || pe.Code != want.code || pe.Message == "" {
			t.Errorf("%s: %v", to, err)
		}
	}
	for to, class := range map[string]provider.Class{Throughput: provider.ClassRate, PairRate: provider.ClassPairRate} {
		_, err := p.Send(ctx, text(to))
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Class != class {
			t.Errorf("%s first try: %v", to, err)
		}
		if _, err := p.Send(ctx, text(to)); err != nil {
			t.Errorf("%s second try: %v", to, err)
		}
	}
	res, err := p.Send(ctx, text(Undeliverable))
	if err != nil {
		t.Fatal(err)
	}
	// Three receipts for each of the two retried numbers, one failed receipt for the undeliverable one.
	found := false
	for _, h := range b.wait(t, 7) {
		for _, c := range h.Changes {
			for _, r := range c.Statuses {
				if r.MessageID != res.ProviderID {
					continue
				}
				found = true
				if r.Status != wa.StatusFailed || len(r.Errors) == 0 || r.Errors[0].Code != 131026 {
					t.Fatalf("undeliverable receipt: %+v", r)
				}
			}
		}
	}
	if !found {
		t.Fatal("no receipt for the undeliverable message")
	}
}

func TestDemo_Profile(t *testing.T) {
	t.Parallel()
	p := New(Config{})
	defer p.Close()
	ctx := context.Background()
	got, err := p.Profile(ctx)
	if err != nil || got.About != "wagate demo" {
		t.Fatalf("initial profile %+v %v", got, err)
	}
	if err := p.SetProfile(ctx, provider.Profile{Address: "Calle Mayor 1", Vertical: "restaurant", Websites: []string{"https://demo.example"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = p.Profile(ctx)
	if got.About != "wagate demo" || got.Address != "Calle Mayor 1" || got.Vertical != "RESTAURANT" || len(got.Websites) != 1 {
		t.Fatalf("after update %+v", got)
	}
	got.Websites[0] = "changed by the caller"
	if again, _ := p.Profile(ctx); again.Websites[0] != "https://demo.example" {
		t.Fatal("Profile shares its websites slice")
	}
	err = p.SetProfile(ctx, provider.Profile{Email: "nope"})
	var pe *provider.Error
	var fe *provider.ProfileFieldError
	if !errors.As(err, &pe) || pe.Class != provider.ClassInvalid || !errors.As(err, &fe) || fe.Field != "email" {
		t.Fatalf("invalid email: %v", err)
	}
}
