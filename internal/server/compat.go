package server

// DefaultRecipient is the configured default recipient (WAGATE_DEFAULT_RECIPIENT), which the notify endpoint
// sends to when a request names no number.
func (d channelDirectory) DefaultRecipient() string { return d.s.cfg.DefaultRecipient }
