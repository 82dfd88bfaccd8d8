package server

import "github.com/wagate/wagate/internal/config"

// ReadReceipts returns whether marking a conversation read sends a read mark to WhatsApp on a channel, by
// each channel's read_receipts setting; an unknown channel sends none.
func ReadReceipts(cfg *config.Config) func(channel string) bool {
	return func(channel string) bool {
		ch, ok := cfg.Channel(channel)
		return ok && ch.SendsReadReceipts()
	}
}
