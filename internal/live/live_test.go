package live

import (
	"strings"
	"testing"

	"github.com/wagate/wagate/internal/store"
)

func TestHub_SlowSubscriberGetsReset(t *testing.T) {
	t.Parallel()
	h := NewHub()
	s := h.Subscribe()
	defer s.Close()
	many := make([]store.Change, subBuffer+10)
	for i := range many {
		many[i] = store.Change{Kind: store.ChangeMessage, ConversationID: "c", MessageID: string(rune('a' + i%26))}
	}
	h.Publish(many)
	for range subBuffer {
		<-s.C
	}
	h.Publish([]store.Change{{Kind: store.ChangeRead, ConversationID: "c"}})
	if got := <-s.C; got.Kind != Reset {
		t.Fatalf("after a loss: %+v, want a reset", got)
	}
	if got := <-s.C; got.Kind != store.ChangeRead {
		t.Fatalf("after the reset: %+v", got)
	}
	if h.Subscribers() != 1 {
		t.Fatal("subscriber count")
	}
}

func TestEncode_LargeBatchIsReset(t *testing.T) {
	t.Parallel()
	small := []store.Change{{Kind: store.ChangeStatus, ConversationID: "c1", MessageID: "m1"}}
	if got := Decode(Encode(small)); len(got) != 1 || got[0] != small[0] {
		t.Fatalf("round trip: %+v", got)
	}
	big := make([]store.Change, 500)
	for i := range big {
		big[i] = store.Change{Kind: store.ChangeMessage, ConversationID: strings.Repeat("c", 30)}
	}
	if got := Decode(Encode(big)); len(got) != 1 || got[0].Kind != Reset {
		t.Fatalf("large batch: %+v", got)
	}
	if got := Decode("not json"); got[0].Kind != Reset {
		t.Fatalf("garbage: %+v", got)
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	c := store.Change{Kind: store.ChangeStatus, MessageID: "m"}
	if got := dedupe([]store.Change{c, c, {Kind: store.ChangeRead}, c}); len(got) != 2 {
		t.Fatalf("dedupe: %+v", got)
	}
}
