package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
)

const tokenUsage = `Usage:
  wagate token create --name NAME --scopes send,read,admin [--rate-per-minute N] [--rate-per-hour N] [--json]
  wagate token list [--all] [--json]
  wagate token revoke ID [ID...]

Scopes: send (send, retry, mark read, write contacts), read (read everything but tokens), admin (everything,
including tokens and channel settings). The token is printed once: wagate keeps only its SHA-256.
`

func (e Env) token(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.Stderr, tokenUsage)
		return 2
	}
	sub := args[0]
	var name, scopes string
	var perMin, perHour int
	var all, asJSON bool
	cfg, rest := e.loadArgs(args[1:], func(fs *flagSet) {
		switch sub {
		case "create":
			fs.StringVar(&name, "name", "", "what the token is for, e.g. crm")
			fs.StringVar(&scopes, "scopes", "", "comma-separated: send, read, admin")
			fs.IntVar(&perMin, "rate-per-minute", 0, "this token's request limit per minute (0: WAGATE_API_RATE_PER_MINUTE)")
			fs.IntVar(&perHour, "rate-per-hour", 0, "this token's request limit per hour (0: WAGATE_API_RATE_PER_HOUR)")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		case "list":
			fs.BoolVar(&all, "all", false, "include revoked tokens")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		}
	})
	if cfg == nil {
		return 2
	}
	switch sub {
	case "create", "list", "revoke":
	default:
		fmt.Fprint(e.Stderr, tokenUsage)
		return 2
	}
	var spec auth.TokenSpec
	if sub == "create" {
		sc, err := auth.ParseScopes(scopes)
		if err != nil {
			fmt.Fprintf(e.Stderr, "wagate token create: --scopes: %v\n", err)
			return 2
		}
		spec = auth.TokenSpec{Name: name, Scopes: sc, RatePerMinute: perMin, RatePerHour: perHour}
		if err := spec.Check(); err != nil {
			fmt.Fprintf(e.Stderr, "wagate token create: %v (--name, --rate-per-minute, --rate-per-hour)\n", err)
			return 2
		}
	}
	if sub == "revoke" && len(rest) == 0 {
		fmt.Fprint(e.Stderr, tokenUsage)
		return 2
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate token: %v\n", err)
		return 1
	}
	defer b.Close()
	if pending, err := b.Pending(ctx); err != nil || pending {
		fmt.Fprintln(e.Stderr, "wagate token: the database is not migrated: run 'wagate migrate' first")
		return 1
	}
	switch sub {
	case "create":
		secret, tok, err := auth.Issue(ctx, b.Store, spec)
		if err != nil {
			fmt.Fprintf(e.Stderr, "wagate token create: %v\n", err)
			return 1
		}
		if asJSON {
			out, _ := json.Marshal(map[string]any{"id": tok.ID, "name": tok.Name, "scopes": tok.Scopes, "display": tok.Display, "token": secret})
			fmt.Fprintln(e.Stdout, string(out))
			return 0
		}
		fmt.Fprintln(e.Stdout, secret)
		fmt.Fprintf(e.Stderr, "created token %s (%s, scopes %s, id %s): store it now, it is not shown again\n",
			tok.Display, tok.Name, strings.Join(tok.Scopes, ","), tok.ID)
		return 0
	case "list":
		toks, err := b.Store.TokenList(ctx, all)
		if err != nil {
			fmt.Fprintf(e.Stderr, "wagate token list: %v\n", err)
			return 1
		}
		if asJSON {
			out, _ := json.Marshal(toks)
			fmt.Fprintln(e.Stdout, string(out))
			return 0
		}
		tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTOKEN\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		for _, t := range toks {
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Display, strings.Join(t.Scopes, ","),
				t.CreatedAt.Format("2006-01-02 15:04"), when(t.LastUsedAt.IsZero(), "never", t.LastUsedAt.Format("2006-01-02 15:04")),
				when(t.Revoked(), t.RevokedAt.Format("2006-01-02 15:04"), "-"))
		}
		_ = tw.Flush()
		return 0
	}
	code := 0
	for _, id := range rest {
		tok, err := b.Store.TokenRevoke(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(e.Stderr, "wagate token revoke: no token %s (see wagate token list)\n", id)
			code = 1
			continue
		}
		if err != nil {
			fmt.Fprintf(e.Stderr, "wagate token revoke %s: %v\n", id, err)
			code = 1
			continue
		}
		fmt.Fprintf(e.Stdout, "revoked %s (%s)\n", tok.ID, tok.Name)
	}
	return code
}

func when(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// logAPIAccess says at startup how the API is guarded, and how to make a token when one is needed.
func logAPIAccess(ctx context.Context, cfg *config.Config, b *server.Backend, log *slog.Logger) {
	switch {
	case cfg.APIToken.IsSet():
		log.Info("api: WAGATE_API_TOKEN and tokens made with 'wagate token create' are accepted")
	case cfg.APIIsOpen():
		log.Info("api: open without a token (demo mode or WAGATE_API_OPEN=true)")
	default:
		n, err := b.Store.TokenActiveCount(ctx)
		if err == nil && n == 0 {
			log.Warn("api: every request needs a token and none exists yet: create one with: wagate token create --name NAME --scopes send,read,admin")
		} else {
			log.Info("api: every request needs an API token", "active_tokens", n)
		}
	}
}
