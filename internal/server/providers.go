package server

import (
	"context"
	"net/http"
	"time"

	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/provider/demo"
	"github.com/wagate/wagate/internal/provider/dialog360"
	"github.com/wagate/wagate/internal/provider/meta"
	"github.com/wagate/wagate/internal/sender"
)

// NewProvider builds the provider client of a configured channel. deliver receives a demo channel's
// simulated webhooks.
func NewProvider(cfg *config.Config, ch *config.Channel, client *http.Client, deliver demo.Deliver) provider.Provider {
	switch ch.Provider {
	case config.ProviderMeta:
		return meta.New(meta.Config{BaseURL: ch.BaseURL, APIVersion: ch.APIVersion, PhoneNumberID: ch.PhoneNumberID,
			WABAID: ch.WABAID, AccessToken: ch.AccessToken.Reveal(), HTTP: client})
	case config.Provider360Dialog:
		return dialog360.NewCloud(dialog360.Config{BaseURL: ch.BaseURL, APIKey: ch.APIKey.Reveal(), HTTP: client})
	case config.Provider360DialogOnPremise:
		return dialog360.NewOnPremise(dialog360.Config{BaseURL: ch.BaseURL, APIKey: ch.APIKey.Reveal(), Namespace: ch.TemplateNamespace, HTTP: client})
	default:
		return demo.New(demo.Config{Deliver: deliver, Replies: cfg.DemoReplies})
	}
}

// providerHTTPClient is the client every provider call goes through: bounded, and never following a redirect
// to another host (the clients refuse those themselves too).
func providerHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// Limits returns the rate governor's limits per channel.
func Limits(cfg *config.Config) map[string]sender.Limits {
	out := map[string]sender.Limits{}
	for i := range cfg.Channels {
		c := &cfg.Channels[i]
		l := sender.DefaultLimits
		l.PerSecond = c.RatePerSecond
		if c.RatePerSecond == 0 {
			l.PairInterval = 0
		}
		out[c.Name] = l
	}
	return out
}

// HealthChannel describes a channel for the connection check.
func HealthChannel(cfg *config.Config, ch *config.Channel) health.Channel {
	return health.Channel{Name: ch.Name, Kind: string(ch.Provider), WebhookURL: cfg.WebhookURL(ch),
		WebhookSecret: ch.WebhookSecret.IsSet(), AppSecret: ch.AppSecret.IsSet()}
}

// CheckChannel runs the connection check of one channel.
func CheckChannel(ctx context.Context, cfg *config.Config, ch *config.Channel, p provider.Provider) health.Report {
	return health.Check(ctx, HealthChannel(cfg, ch), p)
}
