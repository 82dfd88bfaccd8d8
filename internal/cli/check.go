package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/server"
)

// channelsArg returns the configured channels named by name ("" for all).
func channelsArg(cfg *config.Config, name string) ([]*config.Channel, error) {
	if name == "" {
		out := make([]*config.Channel, 0, len(cfg.Channels))
		for i := range cfg.Channels {
			out = append(out, &cfg.Channels[i])
		}
		return out, nil
	}
	ch, ok := cfg.Channel(name)
	if !ok {
		return nil, fmt.Errorf("no channel named %q is configured", name)
	}
	return []*config.Channel{ch}, nil
}

// check reads each channel's provider without sending anything and prints what is wrong and how to fix it.
func (e Env) check(ctx context.Context, args []string) int {
	var channel string
	var asJSON bool
	cfg := e.load(args, func(fs *flagSet) {
		fs.StringVar(&channel, "channel", "", "check only this channel")
		fs.BoolVar(&asJSON, "json", false, "print the reports as JSON")
	})
	if cfg == nil {
		return 2
	}
	chans, err := channelsArg(cfg, channel)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate check: %v\n", err)
		return 2
	}
	code := 0
	var reports []health.Report
	for _, ch := range chans {
		p := server.NewProvider(cfg, ch, nil, nil)
		rep := server.CheckChannel(ctx, cfg, ch, p)
		reports = append(reports, rep)
		if !rep.OK() {
			code = 1
		}
		if !asJSON {
			printReport(e, rep)
		}
	}
	if asJSON {
		b, _ := json.MarshalIndent(reports, "", "  ")
		fmt.Fprintln(e.Stdout, string(b))
	}
	return code
}

func printReport(e Env, r health.Report) {
	fmt.Fprintf(e.Stdout, "channel %s (%s): %s\n", r.Channel, r.Provider, r.Title)
	if r.Detail != "" {
		fmt.Fprintf(e.Stdout, "  %s\n", r.Detail)
	}
	if r.Fix != "" && r.State != health.Live {
		fmt.Fprintf(e.Stdout, "  fix: %s\n", r.Fix)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		line := fmt.Sprintf("  [%s] %s", mark, c.Name)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(e.Stdout, line)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(e.Stdout, "         fix: %s\n", c.Fix)
		}
	}
}

const webhookUsage = `Usage: wagate webhook register [--channel NAME]

Registers the channel's webhook URL (WAGATE_PUBLIC_URL + /webhooks/whatsapp/<channel>) at 360dialog, with the
webhook secret as the X-Wagate-Webhook-Secret header that 360dialog sends back with every webhook. Meta sets
its callback URL in the app dashboard instead: the command prints what to enter there.
`

func (e Env) webhook(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != "register" {
		fmt.Fprint(e.Stderr, webhookUsage)
		return 2
	}
	var channel string
	cfg := e.load(args[1:], func(fs *flagSet) {
		fs.StringVar(&channel, "channel", "", "register only this channel")
	})
	if cfg == nil {
		return 2
	}
	chans, err := channelsArg(cfg, channel)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate webhook register: %v\n", err)
		return 2
	}
	code := 0
	for _, ch := range chans {
		url := cfg.WebhookURL(ch)
		switch ch.Provider {
		case config.ProviderDemo:
			fmt.Fprintf(e.Stdout, "channel %s: demo mode needs no webhook\n", ch.Name)
			continue
		case config.ProviderMeta:
			fmt.Fprintf(e.Stdout, "channel %s (meta): set the callback URL in the Meta app dashboard (WhatsApp > Configuration):\n  callback URL: %s\n  verify token: the value of WHATSAPP_WEBHOOK_VERIFY_TOKEN\n", ch.Name, url)
			if !ch.VerifyToken.IsSet() {
				fmt.Fprintln(e.Stdout, "  warning: WHATSAPP_WEBHOOK_VERIFY_TOKEN is not set: the dashboard's verification will fail")
				code = 1
			}
			continue
		}
		if cfg.PublicURL == "" || !strings.HasPrefix(cfg.PublicURL, "https://") {
			fmt.Fprintf(e.Stderr, "channel %s: WAGATE_PUBLIC_URL must be the https URL under which 360dialog reaches wagate (got %q)\n", ch.Name, cfg.PublicURL)
			code = 1
			continue
		}
		headers := map[string]string{}
		if ch.WebhookSecret.IsSet() {
			headers["X-Wagate-Webhook-Secret"] = ch.WebhookSecret.Reveal()
		}
		p := server.NewProvider(cfg, ch, nil, nil)
		err := p.SetWebhook(ctx, provider.WebhookConfig{URL: url, Headers: headers})
		var pe *provider.Error
		switch {
		case errors.As(err, &pe):
			fmt.Fprintf(e.Stderr, "channel %s: %s\n", ch.Name, pe.Message)
			code = 1
		case err != nil:
			fmt.Fprintf(e.Stderr, "channel %s: %v\n", ch.Name, err)
			code = 1
		default:
			fmt.Fprintf(e.Stdout, "channel %s: 360dialog now posts to %s", ch.Name, url)
			if len(headers) > 0 {
				fmt.Fprint(e.Stdout, " with the webhook secret header")
			} else {
				fmt.Fprint(e.Stdout, " (no WAGATE_WEBHOOK_SECRET: anyone who finds the URL can post)")
			}
			fmt.Fprintln(e.Stdout)
		}
	}
	return code
}
