package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

// userTests are the conformance tests of web users and their sessions.
var userTests = map[string]func(*testing.T, *store.Store){
	"UserLifecycle":    testUserLifecycle,
	"SessionLifecycle": testSessionLifecycle,
	"ChangeFeed":       testChangeFeed,
	"RateBuckets":      testRateBuckets,
	"LastDirector":     testLastDirector,
}

// testLastDirector checks that no change leaves wagate without an active director, also when two directors are
// demoted at the same time (each change alone would leave the other).
func testLastDirector(t *testing.T, st *store.Store) {
	ctx := context.Background()
	add := func(email, role string) store.User {
		t.Helper()
		u := store.User{Email: email, Name: email, Role: role, PasswordHash: "h"}
		if err := st.UserInsert(ctx, &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	a, b, agent := add("a@example.com", store.DirectorRole), add("b@example.com", store.DirectorRole), add("c@example.com", "agent")
	demote := func(u store.User) error {
		u.Role = "agent"
		return st.UserUpdate(ctx, u)
	}
	if err := demote(a); err != nil {
		t.Fatalf("demoting one of two directors: %v", err)
	}
	if err := demote(b); !errors.Is(err, store.ErrLastDirector) {
		t.Fatalf("demoting the last director: %v, want ErrLastDirector", err)
	}
	disabled := b
	disabled.DisabledAt = time.Now()
	if err := st.UserUpdate(ctx, disabled); !errors.Is(err, store.ErrLastDirector) {
		t.Fatalf("disabling the last director: %v, want ErrLastDirector", err)
	}
	if got, _ := st.UserGet(ctx, b.ID); got.Role != store.DirectorRole || got.Disabled() {
		t.Fatalf("the last director after refused changes: %+v", got)
	}
	// Other changes go on as before: the last director's own password, an agent's.
	b.PasswordHash, agent.PasswordHash = "h2", "h2"
	if err := st.UserUpdate(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := st.UserUpdate(ctx, agent); err != nil {
		t.Fatal(err)
	}
	// Two directors demoted at once: exactly one change is refused, every time.
	a.Role = store.DirectorRole
	if err := st.UserUpdate(ctx, a); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, u := range []store.User{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = demote(u)
			}()
		}
		close(start)
		wg.Wait()
		refused := 0
		for _, err := range errs {
			if errors.Is(err, store.ErrLastDirector) {
				refused++
			} else if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if refused != 1 {
			t.Fatalf("round %d: %d of two concurrent demotions refused, want 1: %v", round, refused, errs)
		}
		for _, u := range []store.User{a, b} {
			if err := st.UserUpdate(ctx, u); err != nil {
				t.Fatalf("round %d: restoring %s: %v", round, u.Email, err)
			}
		}
	}
}

func testUserLifecycle(t *testing.T, st *store.Store) {
	ctx := context.Background()
	if n, err := st.UserCount(ctx); err != nil || n != 0 {
		t.Fatalf("empty store: %d users, %v", n, err)
	}
	u := store.User{Email: " Ana@Example.COM ", Name: "Ana", Role: "agent", PasswordHash: "h1"}
	if err := st.UserInsert(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if u.Email != "ana@example.com" {
		t.Fatalf("email not normalised: %q", u.Email)
	}
	dup := store.User{Email: "ANA@example.com", Role: "agent", PasswordHash: "h2"}
	if err := st.UserInsert(ctx, &dup); !errors.Is(err, store.ErrUserExists) {
		t.Fatalf("same email twice: %v", err)
	}
	if err := st.UserInsert(ctx, &store.User{Email: "b@example.com", Role: "agent"}); err == nil {
		t.Fatal("user without password hash accepted")
	}
	got, err := st.UserGetByEmail(ctx, "ana@EXAMPLE.com")
	if err != nil || got.ID != u.ID || got.Role != "agent" || got.PasswordHash != "h1" || got.Disabled() {
		t.Fatalf("by email: %+v %v", got, err)
	}
	if _, err := st.UserGetByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown email: %v", err)
	}
	if _, err := st.UserGet(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	got.Language, got.Role = "es", store.DirectorRole
	if err := st.UserUpdate(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := st.UserLoggedIn(ctx, u.ID, time.UnixMilli(1_700_000_000_000)); err != nil {
		t.Fatal(err)
	}
	list, err := st.UserList(ctx)
	if err != nil || len(list) != 1 || list[0].Language != "es" || list[0].Role != store.DirectorRole ||
		list[0].LastLoginAt.UnixMilli() != 1_700_000_000_000 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := st.UserUpdate(ctx, store.User{ID: "nope", Role: "agent", PasswordHash: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
}

func testSessionLifecycle(t *testing.T, st *store.Store) {
	ctx := context.Background()
	u := store.User{Email: "agent@example.com", Role: "agent", PasswordHash: "h"}
	if err := st.UserInsert(ctx, &u); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000).UTC()
	for _, h := range []string{"s1", "s2"} {
		if err := st.SessionInsert(ctx, store.WebSession{Hash: h, UserID: u.ID, CSRF: "c-" + h, CreatedAt: now,
			ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ws, su, err := st.SessionGet(ctx, "s1", now)
	if err != nil || ws.CSRF != "c-s1" || su.ID != u.ID || su.Email != u.Email || !ws.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("get: %+v %+v %v", ws, su, err)
	}
	if _, _, err := st.SessionGet(ctx, "s1", now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session returned: %v", err)
	}
	if err := st.SessionTouch(ctx, "s1", now.Add(30*time.Minute), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SessionGet(ctx, "s1", now.Add(90*time.Minute)); err != nil {
		t.Fatalf("touched session expired: %v", err)
	}
	if n, err := st.SessionDeleteExpired(ctx, now.Add(90*time.Minute)); err != nil || n != 1 {
		t.Fatalf("expired sessions deleted: %d %v", n, err)
	}
	if err := st.SessionDelete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SessionGet(ctx, "s1", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session returned: %v", err)
	}
	// A new password ends every session of the user.
	if err := st.SessionInsert(ctx, store.WebSession{Hash: "s3", UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = "h2"
	if err := st.UserUpdate(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SessionGet(ctx, "s3", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session survived a password change: %v", err)
	}
}

// changeSink records what a store reports of its transactions.
type changeSink struct {
	mu     sync.Mutex
	before [][]store.Change
	after  [][]store.Change
}

func (c *changeSink) BeforeCommit(_ context.Context, _ store.Tx, ch []store.Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.before = append(c.before, ch)
	return nil
}

func (c *changeSink) AfterCommit(ch []store.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = append(c.after, ch)
}

func testChangeFeed(t *testing.T, st *store.Store) {
	ctx := context.Background()
	sink := &changeSink{}
	st.SetChangeSink(sink)
	m, _ := inbound(t, st, "main", "+34600000001", "wamid.c1", time.Now())
	if len(sink.after) != 1 || len(sink.after[0]) != 1 || sink.after[0][0] != (store.Change{Kind: store.ChangeMessage,
		Channel: "main", ConversationID: m.ConversationID, MessageID: m.ID}) {
		t.Fatalf("inbound message: %+v", sink.after)
	}
	// A transaction that fails reaches BeforeCommit at most, never AfterCommit.
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx store.Tx) error {
		c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34600000002"})
		if err != nil {
			return err
		}
		conv, err := st.ConversationEnsure(ctx, tx, "main", c.ID)
		if err != nil {
			return err
		}
		if _, err := st.MessageInsert(ctx, tx, &store.Message{Channel: "main", ConversationID: conv, ContactID: c.ID,
			Direction: store.DirectionIn, ProviderID: "wamid.c2", Type: "text", Text: "x"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || len(sink.after) != 1 {
		t.Fatalf("rolled back transaction reported: %v %+v", err, sink.after)
	}
	out := outbound(t, st, "main", "+34600000001", "wamid.c3")
	if _, _, err := st.ConversationMarkRead(ctx, m.ConversationID); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, b := range sink.after {
		for _, c := range b {
			kinds = append(kinds, c.Kind)
		}
	}
	if !slices.Contains(kinds, store.ChangeStatus) || !slices.Contains(kinds, store.ChangeRead) || len(sink.before) < len(sink.after) {
		t.Fatalf("changes after an outbound message %s and a read mark: %v", out.ID, kinds)
	}
}

func testRateBuckets(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	ch := store.RateAsk{Key: "c:main", Interval: 100 * time.Millisecond, Burst: 1, Hold: 250 * time.Millisecond}
	// Slots 100 ms apart: now, +100, +200 are granted with those waits; +300 is beyond the hold.
	for i, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
		g, err := st.RateReserve(ctx, now, ch)
		if err != nil || !g.Granted || g.Delay != want {
			t.Fatalf("slot %d: %+v %v, want a wait of %s", i, g, err, want)
		}
	}
	g, err := st.RateReserve(ctx, now, ch)
	if err != nil || g.Granted || g.Paused || g.Delay != 50*time.Millisecond {
		t.Fatalf("beyond the hold: %+v %v", g, err)
	}
	// A recipient with a burst of 2, one per second, and no hold.
	rc := store.RateAsk{Key: "r:main:+34600000001", Interval: time.Second, Burst: 2}
	later := now.Add(time.Hour)
	for i := range 2 {
		// The recipient admits both at once; the channel spaces them.
		if g, err := st.RateReserve(ctx, later, rc, ch); err != nil || !g.Granted || g.Delay != time.Duration(i)*100*time.Millisecond {
			t.Fatalf("burst %d: %+v %v", i, g, err)
		}
	}
	g, err = st.RateReserve(ctx, later, rc, ch)
	if err != nil || g.Granted || g.Delay != time.Second {
		t.Fatalf("after the burst: %+v %v", g, err)
	}
	// That refusal took nothing from the channel: its next slot is still 200 ms away.
	if g, err := st.RateReserve(ctx, later, ch); err != nil || !g.Granted || g.Delay != 200*time.Millisecond {
		t.Fatalf("channel after a refused pair: %+v %v", g, err)
	}
	// Pauses refuse, strikes count until cleared.
	if err := st.RatePause(ctx, "c:main", later.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if g, err := st.RateReserve(ctx, later.Add(time.Second), ch); err != nil || g.Granted || !g.Paused || g.Delay != 2*time.Second {
		t.Fatalf("paused: %+v %v", g, err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := st.RateStrike(ctx, "c:main"); err != nil || n != want {
			t.Fatalf("strike %d: %d %v", want, n, err)
		}
	}
	if err := st.RateClear(ctx, "c:main"); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RateStrike(ctx, "c:main"); err != nil || n != 1 {
		t.Fatalf("strike after clear: %d %v", n, err)
	}
	if n, err := st.RateSweep(ctx, later.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("sweep: %d %v", n, err)
	}
}
