package auth

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGenerate_ShapeHashAndDisplay(t *testing.T) {
	t.Parallel()
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if a.Secret == b.Secret || !Looks(a.Secret) || len(a.Secret) != 4+43 || !strings.HasPrefix(a.Secret, "wgt_") {
		t.Fatalf("secret %q", a.Secret)
	}
	if a.Hash != Hash(a.Secret) || len(a.Hash) != 64 || strings.Contains(a.Hash, a.Secret[4:]) {
		t.Fatalf("hash %q", a.Hash)
	}
	if a.Display != a.Secret[:12] {
		t.Fatalf("display %q", a.Display)
	}
	for _, bad := range []string{"", "wgt_", "wgt_short", a.Secret + "x", "xyz_" + a.Secret[4:], a.Secret[:46] + "!"} {
		if Looks(bad) {
			t.Errorf("Looks(%q) = true", bad)
		}
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"send,read,admin": "send,read,admin", " read , SEND ,read": "send,read", "admin": "admin",
	}
	for in, want := range cases {
		got, err := ParseScopes(in)
		if err != nil || JoinScopes(got) != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ",", "write", "read,root"} {
		if _, err := ParseScopes(bad); !errors.Is(err, ErrBadScopes) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if !Allows([]Scope{ScopeAdmin}, ScopeSend) || Allows([]Scope{ScopeRead}, ScopeSend) || !Allows([]Scope{ScopeSend}, ScopeSend) {
		t.Fatal("Allows")
	}
}

func TestTokenSpec_Check(t *testing.T) {
	t.Parallel()
	ok := TokenSpec{Name: "crm", Scopes: []Scope{ScopeRead}}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []TokenSpec{
		{Name: "", Scopes: ok.Scopes}, {Name: "a\x00b", Scopes: ok.Scopes}, {Name: strings.Repeat("x", 101), Scopes: ok.Scopes},
		{Name: "crm"}, {Name: "crm", Scopes: []Scope{"root"}}, {Name: "crm", Scopes: ok.Scopes, RatePerMinute: -1},
	} {
		if s.Check() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLimiter_MinuteAndHour(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := NewLimiter(c.now, Limit{N: 100, Per: time.Minute}, Limit{N: 1000, Per: time.Hour})
	for i := 0; i < 100; i++ {
		if w := l.Allow("tok"); w != 0 {
			t.Fatalf("request %d waited %v", i, w)
		}
	}
	c.add(10 * time.Second)
	if w := l.Allow("tok"); w != 50*time.Second { // the first of the 100 leaves the minute window at 60 s
		t.Fatalf("101st request: wait %v", w)
	}
	if l.Allow("other") != 0 {
		t.Fatal("keys share a budget")
	}
	// Trying ten times a second for two hours: never more than 100 in a minute nor 1000 in an hour.
	var admitted []time.Time
	for i := 0; i < 7200*10; i++ {
		c.add(100 * time.Millisecond)
		if l.Allow("tok") == 0 {
			admitted = append(admitted, c.now())
		}
	}
	for i := range admitted {
		if i >= 100 && admitted[i].Sub(admitted[i-100]) < time.Minute {
			t.Fatalf("101 requests within a minute at %d", i)
		}
		if i >= 1000 && admitted[i].Sub(admitted[i-1000]) < time.Hour {
			t.Fatalf("1001 requests within an hour at %d", i)
		}
	}
	if len(admitted) < 1900 {
		t.Fatalf("admitted only %d in two hours, want about 2000", len(admitted))
	}
	// A token's own limits replace the defaults.
	for i := 0; i < 3; i++ {
		if l.Allow("own", Limit{N: 3, Per: time.Minute}) != 0 {
			t.Fatal("own limit: early refusal")
		}
	}
	if w := l.Allow("own", Limit{N: 3, Per: time.Minute}); w != time.Minute {
		t.Fatalf("own limit: wait %v", w)
	}
	l.Forget("own")
	if l.Allow("own", Limit{N: 3, Per: time.Minute}) != 0 {
		t.Fatal("Forget kept the state")
	}
	if NewLimiter(c.now, Limit{N: 0, Per: time.Minute}).Allow("x") != 0 {
		t.Fatal("a zero limit refused")
	}
}

func TestFailureLimiter_BlocksThenRecovers(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	f := NewFailureLimiter(Limit{N: 5, Per: time.Minute}, c.now)
	for i := 0; i < 5; i++ {
		if f.Blocked("1.2.3.4") != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		f.Fail("1.2.3.4")
	}
	if w := f.Blocked("1.2.3.4"); w <= 0 || w > 12*time.Second {
		t.Fatalf("after 5 failures: wait %v", w)
	}
	if f.Blocked("5.6.7.8") != 0 {
		t.Fatal("another address is blocked")
	}
	c.add(12 * time.Second)
	if f.Blocked("1.2.3.4") != 0 {
		t.Fatal("still blocked after one interval")
	}
	f.Fail("1.2.3.4")
	if f.Blocked("1.2.3.4") == 0 {
		t.Fatal("a failure at the edge did not block again")
	}
	c.add(2 * time.Minute)
	f.maxKeys = 1
	f.Fail("9.9.9.9") // sweeps the whole-again address
	if f.Size() != 1 || f.Blocked("1.2.3.4") != 0 {
		t.Fatalf("size %d after sweep", f.Size())
	}
}

func TestPassword_HashAndVerify(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery", 1000)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse battery", 1000)
	if h == h2 || !strings.HasPrefix(h, "pbkdf2-sha256$1000$") {
		t.Fatalf("hashes not salted or badly formed: %q %q", h, h2)
	}
	if ok, err := VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := VerifyPassword(h, "correct horse batterx"); ok {
		t.Fatal("wrong password accepted")
	}
	for _, bad := range []string{"", "plain", "pbkdf2-sha256$x$a$b", "pbkdf2-sha256$1000$!!$b", "md5$1$a$b", "pbkdf2-sha256$99999999999$a$b"} {
		if ok, err := VerifyPassword(bad, "x"); ok || !errors.Is(err, ErrBadHash) {
			t.Fatalf("hash %q: %v %v", bad, ok, err)
		}
	}
	if CheckPasswordPolicy("short") == nil || CheckPasswordPolicy(strings.Repeat("x", 300)) == nil ||
		CheckPasswordPolicy("long enough pw") != nil {
		t.Fatal("password policy")
	}
}
