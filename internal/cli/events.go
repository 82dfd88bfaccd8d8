package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/wagate/wagate/internal/inbound"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
)

const eventsUsage = `Usage:
  wagate events list [--state pending|processed|failed] [--limit N]
  wagate events replay ID [ID...]
`

func (e Env) events(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.Stderr, eventsUsage)
		return 2
	}
	sub := args[0]
	var state string
	var limit int
	cfg, rest := e.loadArgs(args[1:], func(fs *flagSet) {
		if sub == "list" {
			fs.StringVar(&state, "state", "", "only events in this state")
			fs.IntVar(&limit, "limit", 50, "how many events")
		}
	})
	if cfg == nil {
		return 2
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate events: %v\n", err)
		return 1
	}
	defer b.Close()
	if pending, err := b.Pending(ctx); err != nil || pending {
		fmt.Fprintln(e.Stderr, "wagate events: the database is not migrated: run 'wagate migrate' first")
		return 1
	}
	switch sub {
	case "list":
		page, err := b.Store.EventList(ctx, store.EventFilter{State: state, Limit: limit})
		if err != nil {
			fmt.Fprintf(e.Stderr, "wagate events list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tCHANNEL\tSTATE\tMESSAGES\tRECEIPTS\tERROR")
		for _, ev := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d/%d\t%s\n", ev.ID, ev.ReceivedAt.Format("2006-01-02 15:04:05"),
				ev.Channel, ev.State, ev.Counts.Stored, ev.Counts.Received, ev.Counts.Updated, ev.Counts.Statuses, ev.Error)
		}
		_ = tw.Flush()
		return 0
	case "replay":
		ids := rest
		if len(ids) == 0 {
			fmt.Fprint(e.Stderr, eventsUsage)
			return 2
		}
		proc := inbound.NewProcessor(b.Store, server.Channels(cfg))
		code := 0
		for _, id := range ids {
			ev, err := inbound.Replay(ctx, b.Store, proc, id)
			if errors.Is(err, store.ErrNotFound) {
				fmt.Fprintf(e.Stderr, "wagate events replay: no event %s\n", id)
				code = 1
				continue
			}
			if err != nil {
				fmt.Fprintf(e.Stderr, "wagate events replay %s: %v\n", id, err)
				code = 1
				continue
			}
			out, _ := json.Marshal(map[string]any{"id": ev.ID, "state": ev.State, "error": ev.Error, "counts": ev.Counts})
			fmt.Fprintln(e.Stdout, string(out))
			if ev.State == store.EventFailed {
				code = 1
			}
		}
		return code
	}
	fmt.Fprint(e.Stderr, eventsUsage)
	return 2
}
