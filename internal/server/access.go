package server

import (
	"github.com/wagate/wagate/internal/config"
	"github.com/wagate/wagate/internal/httpapi"
)

// AccessOptions converts the configuration of API access for the API.
func AccessOptions(cfg *config.Config) httpapi.AccessOptions {
	return httpapi.AccessOptions{RequireTokens: !cfg.APIIsOpen(), RatePerMinute: cfg.APIRatePerMinute,
		RatePerHour: cfg.APIRatePerHour, TrustedProxies: cfg.TrustedProxies}
}
