package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/wagate/wagate/internal/queue"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/subscriber"
)

const subscriptionsUsage = `Usage:
  wagate subscriptions add --url URL [--format wagate|whatsable|meta] [--types T1,T2] [--channels C1,C2]
                           [--secret S] [--description D]
  wagate subscriptions list
  wagate subscriptions test ID
  wagate subscriptions enable ID | disable ID
  wagate subscriptions remove ID
  wagate subscriptions deliveries [--subscription ID] [--state pending|delivered|failed] [--limit N]
  wagate subscriptions replay DELIVERY_ID... | --all [--subscription ID]

Event types: message.received, message.status, message.failed, template.status, window.closing,
provider.webhook (the meta format's only type). A running wagate sees changes within 5 seconds.
`

// subscriptions runs `wagate subscriptions ...` on the database directly; deliveries it enqueues are sent by
// the running server.
func (e Env) subscriptions(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.Stderr, subscriptionsUsage)
		return 2
	}
	sub := args[0]
	var in subscriber.Input
	var types, channels, state, subID string
	var limit int
	var all bool
	cfg, rest := e.loadArgs(args[1:], func(fs *flagSet) {
		switch sub {
		case "add":
			fs.StringVar(&in.URL, "url", "", "the receiver's URL")
			fs.StringVar(&in.Format, "format", subscriber.FormatWagate, "payload format: wagate, whatsable or meta")
			fs.StringVar(&types, "types", "", "comma-separated event types (default: all the format carries)")
			fs.StringVar(&channels, "channels", "", "comma-separated channels (default: all)")
			fs.StringVar(&in.Secret, "secret", "", "signing secret (default: generated and printed once)")
			fs.StringVar(&in.Description, "description", "", "a note for operators")
		case "deliveries":
			fs.StringVar(&subID, "subscription", "", "only this subscription's deliveries")
			fs.StringVar(&state, "state", "", "only deliveries in this state")
			fs.IntVar(&limit, "limit", 50, "how many deliveries")
		case "replay":
			fs.BoolVar(&all, "all", false, "replay every failed delivery")
			fs.StringVar(&subID, "subscription", "", "with --all: only this subscription's")
		}
	})
	if cfg == nil {
		return 2
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate subscriptions: %v\n", err)
		return 1
	}
	defer b.Close()
	if pending, err := b.Pending(ctx); err != nil || pending {
		fmt.Fprintln(e.Stderr, "wagate subscriptions: the database is not migrated: run 'wagate migrate' first")
		return 1
	}
	q, err := b.NewQueue(queue.Config{})
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate subscriptions: %v\n", err)
		return 1
	}
	svc := subscriber.NewService(b.Store, q, nil, server.SubscriberConfig(cfg))
	fail := func(err error) int {
		var ve *subscriber.ValidationError
		switch {
		case errors.As(err, &ve):
			for _, f := range ve.Fields {
				fmt.Fprintf(e.Stderr, "wagate subscriptions %s: %s %s\n", sub, f.Field, f.Message)
			}
		case errors.Is(err, store.ErrNotFound):
			fmt.Fprintf(e.Stderr, "wagate subscriptions %s: not found: %v\n", sub, err)
		default:
			fmt.Fprintf(e.Stderr, "wagate subscriptions %s: %v\n", sub, err)
		}
		return 1
	}
	oneID := func() (string, bool) {
		if len(rest) != 1 {
			fmt.Fprint(e.Stderr, subscriptionsUsage)
			return "", false
		}
		return rest[0], true
	}
	switch sub {
	case "add":
		in.Types, in.Channels = splitComma(types), splitComma(channels)
		s, err := svc.Create(ctx, in)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.Stdout, "subscription %s created: %s events to %s\n", s.ID, s.Format, s.URL)
		if in.Secret == "" {
			fmt.Fprintf(e.Stdout, "signing secret (shown once; configure it in the receiver): %s\n", s.Secret)
		}
		return 0
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tFORMAT\tURL\tTYPES\tCHANNELS\tENABLED\tNOTE")
		for _, s := range list {
			note := s.DisabledReason
			if note == "" && !s.FailingSince.IsZero() {
				note = "failing since " + s.FailingSince.Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\t%s\n", s.ID, s.Format, s.URL, orAll(s.Types), orAll(s.Channels), s.Enabled, note)
		}
		_ = tw.Flush()
		return 0
	case "test":
		id, ok := oneID()
		if !ok {
			return 2
		}
		d, err := svc.Test(ctx, id)
		if err != nil {
			return fail(err)
		}
		out, _ := json.Marshal(d)
		fmt.Fprintln(e.Stdout, string(out))
		if d.State != store.DeliveryDelivered {
			return 1
		}
		return 0
	case "enable", "disable":
		id, ok := oneID()
		if !ok {
			return 2
		}
		on := sub == "enable"
		if _, err := svc.Update(ctx, id, subscriber.Patch{Enabled: &on}); err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.Stdout, "subscription %s %sd\n", id, sub)
		return 0
	case "remove":
		id, ok := oneID()
		if !ok {
			return 2
		}
		if err := svc.Delete(ctx, id); err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.Stdout, "subscription %s removed\n", id)
		return 0
	case "deliveries":
		page, err := svc.Deliveries(ctx, store.DeliveryFilter{SubscriptionID: subID, State: state, Limit: limit})
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tSUBSCRIPTION\tEVENT\tSTATE\tATTEMPTS\tHTTP\tLATENCY\tERROR")
		for _, d := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%dms\t%s\n", d.ID, d.CreatedAt.Format("2006-01-02 15:04:05"), d.SubscriptionID,
				d.EventType, d.State, d.Attempts, d.LastStatus, d.LastLatencyMS, d.LastError)
		}
		_ = tw.Flush()
		return 0
	case "replay":
		if all {
			n, err := svc.ReplayFailed(ctx, subID)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(e.Stdout, "%d failed deliveries queued again\n", n)
			return 0
		}
		if len(rest) == 0 {
			fmt.Fprint(e.Stderr, subscriptionsUsage)
			return 2
		}
		code := 0
		for _, id := range rest {
			if _, err := svc.Replay(ctx, id); err != nil {
				code = fail(err)
				continue
			}
			fmt.Fprintf(e.Stdout, "delivery %s queued again\n", id)
		}
		return code
	}
	fmt.Fprint(e.Stderr, subscriptionsUsage)
	return 2
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orAll(l []string) string {
	if len(l) == 0 {
		return "all"
	}
	return strings.Join(l, ",")
}
