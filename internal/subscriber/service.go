package subscriber

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/store"
)

// ErrNotFailed is returned when replaying a delivery that is not failed.
var ErrNotFailed = errors.New("delivery is not failed")

// Service manages subscriptions and deliveries for the API and the command line.
type Service struct {
	st  *store.Store
	q   *queue.Queue
	hub *Hub
	d   *Deliverer
	cfg Config
}

// NewService returns the service. hub may be nil in a process that does not emit (the command line).
func NewService(st *store.Store, q *queue.Queue, hub *Hub, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{st: st, q: q, hub: hub, d: NewDeliverer(st, cfg), cfg: cfg}
}

// Input is a new subscription, or (Patch) changes to one.
type Input struct {
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Channels    []string `json:"channels"`
	Format      string   `json:"format"`
	Secret      string   `json:"secret"`
	Description string   `json:"description"`
}

// Patch changes the fields it sets.
type Patch struct {
	URL         *string   `json:"url"`
	Types       *[]string `json:"types"`
	Channels    *[]string `json:"channels"`
	Secret      *string   `json:"secret"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

// Create validates and stores a subscription. Without a secret one is generated; the returned subscription
// holds it (the only time it is shown).
func (s *Service) Create(ctx context.Context, in Input) (store.Subscription, error) {
	if in.Format == "" {
		in.Format = FormatWagate
	}
	sub := store.Subscription{URL: strings.TrimSpace(in.URL), Types: in.Types, Channels: in.Channels, Format: in.Format,
		Secret: in.Secret, Description: in.Description, Enabled: true}
	if sub.Secret == "" {
		if sub.Format == FormatMeta {
			sub.Secret = newMetaSecret()
		} else {
			sub.Secret = NewSecret()
		}
	}
	if err := s.validate(&sub); err != nil {
		return store.Subscription{}, err
	}
	if err := s.st.InTx(ctx, func(tx store.Tx) error { return s.st.SubscriptionInsert(ctx, tx, &sub) }); err != nil {
		return store.Subscription{}, err
	}
	s.refresh(ctx)
	return sub, nil
}

// Update applies p to a subscription. Enabling a disabled subscription clears its failure record.
func (s *Service) Update(ctx context.Context, id string, p Patch) (store.Subscription, error) {
	var sub store.Subscription
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if sub, err = s.st.SubscriptionGet(ctx, tx, id); err != nil {
			return err
		}
		if p.URL != nil {
			sub.URL = strings.TrimSpace(*p.URL)
		}
		if p.Types != nil {
			sub.Types = *p.Types
		}
		if p.Channels != nil {
			sub.Channels = *p.Channels
		}
		if p.Secret != nil {
			sub.Secret = *p.Secret
		}
		if p.Description != nil {
			sub.Description = *p.Description
		}
		if p.Enabled != nil {
			if *p.Enabled && !sub.Enabled {
				sub.DisabledReason, sub.FailingSince = "", time.Time{}
			}
			if !*p.Enabled && sub.Enabled {
				sub.DisabledReason = "disabled by an operator"
			}
			sub.Enabled = *p.Enabled
		}
		if err := s.validate(&sub); err != nil {
			return err
		}
		return s.st.SubscriptionUpdate(ctx, tx, &sub)
	})
	if err != nil {
		return store.Subscription{}, err
	}
	s.refresh(ctx)
	return sub, nil
}

// Delete removes a subscription.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.st.InTx(ctx, func(tx store.Tx) error { return s.st.SubscriptionDelete(ctx, tx, id) }); err != nil {
		return err
	}
	s.refresh(ctx)
	return nil
}

// Get returns one subscription.
func (s *Service) Get(ctx context.Context, id string) (store.Subscription, error) {
	return s.st.SubscriptionGet(ctx, nil, id)
}

// List returns every subscription.
func (s *Service) List(ctx context.Context) ([]store.Subscription, error) {
	return s.st.SubscriptionList(ctx)
}

// Deliveries lists deliveries.
func (s *Service) Deliveries(ctx context.Context, f store.DeliveryFilter) (store.Page[store.Delivery], error) {
	return s.st.DeliveryList(ctx, f)
}

// Test sends a test event to a subscription now, records it in the delivery log and returns the delivery. A
// failed test is not retried.
func (s *Service) Test(ctx context.Context, id string) (store.Delivery, error) {
	sub, err := s.st.SubscriptionGet(ctx, nil, id)
	if err != nil {
		return store.Delivery{}, err
	}
	ev := store.AppEvent{Type: store.EventTest, Data: []byte(`{"subscription_id":"` + sub.ID + `"}`)}
	var d store.Delivery
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		ev.ID, d.ID = "", ""
		if err := s.st.AppEventInsert(ctx, tx, &ev); err != nil {
			return err
		}
		d = store.Delivery{SubscriptionID: sub.ID, EventID: ev.ID}
		return s.st.DeliveryInsert(ctx, tx, &d)
	})
	if err != nil {
		return store.Delivery{}, err
	}
	work := store.DeliveryWork{Delivery: d, Event: ev, Subscription: sub}
	res := s.d.Attempt(ctx, &work)
	a := store.DeliveryAttempt{State: store.DeliveryDelivered, Status: res.Status, Latency: res.Latency, ResponseExcerpt: res.Excerpt,
		Error: res.Err, At: s.cfg.Now()}
	if !res.OK() {
		a.State = store.DeliveryFailed
		if a.Error == "" {
			a.Error = fmt.Sprintf("receiver answered HTTP %d", res.Status)
		}
	}
	if err := s.st.InTx(ctx, func(tx store.Tx) error { return s.st.DeliveryRecord(ctx, tx, d.ID, a) }); err != nil {
		return store.Delivery{}, err
	}
	return s.st.DeliveryGet(ctx, d.ID)
}

// Replay sends a failed delivery again, with a new retry period.
func (s *Service) Replay(ctx context.Context, id string) (store.Delivery, error) {
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		ok, err := s.st.DeliveryRequeue(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := s.st.DeliveryGet(ctx, id); err != nil {
				return err
			}
			return ErrNotFailed
		}
		return s.q.InsertTx(ctx, tx, DeliverArgs{DeliveryID: id}, nil)
	})
	if err != nil {
		return store.Delivery{}, err
	}
	return s.st.DeliveryGet(ctx, id)
}

// ReplayFailed sends every failed delivery again, of one subscription or ("") of all, and returns how many.
func (s *Service) ReplayFailed(ctx context.Context, subscriptionID string) (int, error) {
	if subscriptionID != "" {
		if _, err := s.st.SubscriptionGet(ctx, nil, subscriptionID); err != nil {
			return 0, err
		}
	}
	total := 0
	for {
		n := 0
		err := s.st.InTx(ctx, func(tx store.Tx) error {
			n = 0
			ids, err := s.st.DeliveryFailedIDs(ctx, tx, subscriptionID, 500)
			if err != nil {
				return err
			}
			for _, id := range ids {
				ok, err := s.st.DeliveryRequeue(ctx, tx, id)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				if err := s.q.InsertTx(ctx, tx, DeliverArgs{DeliveryID: id}, nil); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < 500 {
			return total, nil
		}
	}
}

func (s *Service) refresh(ctx context.Context) {
	if s.hub != nil {
		_ = s.hub.Refresh(ctx) // the periodic refresh catches up on failure
	}
}

// validate checks sub, normalising its lists.
func (s *Service) validate(sub *store.Subscription) error {
	var errs []FieldError
	bad := func(field, format string, a ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, a...)})
	}
	if sub.URL == "" {
		bad("url", "is required")
	} else if err := s.cfg.Guard.CheckURL(sub.URL); err != nil {
		bad("url", "%s", err.Error())
	}
	if !slices.Contains(Formats, sub.Format) {
		bad("format", "must be one of %s", strings.Join(Formats, ", "))
	}
	allowed, _ := typesOf(sub.Format)
	sub.Types = dedupe(sub.Types)
	for _, t := range sub.Types {
		if !slices.Contains(allowed, t) {
			bad("types", "%q is not an event type of the %s format: use %s", t, sub.Format, strings.Join(allowed, ", "))
		}
	}
	sub.Channels = dedupe(sub.Channels)
	for _, c := range sub.Channels {
		if strings.Contains(c, ",") {
			bad("channels", "%q: name each channel as its own list item", c)
		} else if len(s.cfg.Channels) > 0 && !slices.Contains(s.cfg.Channels, c) {
			bad("channels", "%q is not a configured channel", c)
		}
	}
	if sub.Format == FormatMeta {
		if n := len(sub.Secret); n < 8 || n > 512 {
			bad("secret", "must be 8 to 512 characters (the app secret your consumer checks X-Hub-Signature-256 with)")
		}
	} else if _, err := secretKey(sub.Secret); err != nil {
		bad("secret", "%s; omit it to have one generated", err.Error())
	}
	if len(sub.Description) > 500 {
		bad("description", "is longer than 500 characters")
	}
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

func dedupe(l []string) []string {
	out := []string{}
	for _, v := range l {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Delivery returns one delivery.
func (s *Service) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	return s.st.DeliveryGet(ctx, id)
}
