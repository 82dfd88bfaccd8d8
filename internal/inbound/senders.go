package inbound

import (
	"sync"

	"github.com/wagate/wagate/internal/store"
)

// sender is a contact as a webhook names it (wa_id, user id and profile, before any normalisation), with the
// contact and conversation it resolved to on a channel.
type sender struct {
	channel        string
	in             store.ContactInput
	contactID      string
	conversationID string
}

func (s sender) key() string { return s.channel + "\x00" + s.in.WAID + "\x00" + s.in.UserID }

// senderCache remembers resolved senders, so that the next message from the same sender with the same profile
// skips the contact and conversation lookups. Entries are added only after their transaction committed, and
// ids never change once created; a sender whose profile (name, username, wa_id) differs goes through the
// store, which updates the contact. It is bounded: when full, it starts over.
type senderCache struct {
	mu  sync.Mutex
	max int
	m   map[string]sender
}

func newSenderCache(max int) *senderCache { return &senderCache{max: max, m: map[string]sender{}} }

func (c *senderCache) get(s sender) (sender, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.m[s.key()]
	return got, ok && got.in == s.in
}

func (c *senderCache) put(s sender) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[s.key()] = s
}
