package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/wagate/wagate/internal/childproc"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/outbound"
	"github.com/wagate/wagate/internal/wa"
)

// TestSendBodies checks the messages with wagate's own request decoder, and that the provider body is the one
// wagate would send for the same message.
func TestSendBodies(t *testing.T) {
	g := newSendGen()
	tos := map[string]bool{}
	for _, i := range []int{0, 1, 7, 999_999, 1_000_000, 123_456_789} {
		req, err := outbound.Decode(g.apiBody(i))
		if err != nil {
			t.Fatalf("body %d: %v\n%s", i, err, g.apiBody(i))
		}
		m := req.Message
		if m.Type != "text" || m.To != g.to(i) {
			t.Errorf("body %d: %+v", i, m)
		}
		tos[m.To] = true
		want, err := wa.Outbound{To: m.To, Type: m.Type, Content: m.Content}.CloudBody()
		if err != nil || !bytes.Equal(want, g.cloudBody(i)) {
			t.Errorf("body %d: cloud body\n%s\nwant\n%s (%v)", i, g.cloudBody(i), want, err)
		}
		for _, b := range [][]byte{g.apiBody(i), g.cloudBody(i)} {
			if got, ok := g.index(b); !ok || got != i {
				t.Errorf("index of body %d: %d %v", i, got, ok)
			}
		}
	}
	if len(tos) != 5 { // 0 and 1,000,000 share a recipient
		t.Errorf("recipients %v", tos)
	}
	if _, ok := newSendGen().index(g.apiBody(3)); ok {
		t.Error("another run's marker matched")
	}
}

func TestCheckAnswers(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		ok     bool
	}{
		{202, `{"id":"m1","status":"queued","channel":"default"}`, true},
		{200, `{"id":"m1","status":"queued"}`, false},
		{202, `{"id":"","status":"queued"}`, false},
		{202, `{"id":"m1","status":"accepted"}`, false},
		{202, `nope`, false},
	} {
		id, err := checkQueued(c.status, []byte(c.body))
		if (err == nil) != c.ok || (c.ok && id != "m1") {
			t.Errorf("%d %s: %q %v", c.status, c.body, id, err)
		}
	}
	if checkProviderAnswer(200, []byte(`{"messaging_product":"whatsapp","messages":[{"id":"wamid.X"}]}`)) != nil ||
		checkProviderAnswer(400, []byte(`{"messages":[{"id":"wamid.X"}]}`)) == nil || checkProviderAnswer(200, []byte(`{}`)) == nil {
		t.Error("checkProviderAnswer")
	}
	ok, n, found := parseSendLoopSummary("ready\nsendloop ok 1234 errors 5\n  5 × HTTP 400: x\n")
	if !found || ok != 1234 || n != 5 {
		t.Errorf("summary: %d %d %v", ok, n, found)
	}
	if _, _, found := parseSendLoopSummary("ready\n"); found {
		t.Error("no summary found")
	}
}

func TestGovernorStats(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ts []time.Time
	for i := range 401 { // exactly 80/s for 5 s
		ts = append(ts, t0.Add(time.Duration(i)*12500*time.Microsecond))
	}
	st := governorStatsOf(ts, 80)
	if math.Abs(st.mean-80) > 1e-9 || st.max1s != 80 || st.min1s != 80 || st.above != 0 || st.gapP50 != 12500*time.Microsecond {
		t.Errorf("%+v", st)
	}
	// One send early: 81 in the windows that hold it.
	ts[200] = ts[200].Add(-13 * time.Millisecond)
	ts[200], ts[199] = ts[199], ts[200]
	st = governorStatsOf(ts, 80)
	if st.max1s != 81 || st.above == 0 {
		t.Errorf("early send: %+v", st)
	}
}

// TestSendBaselineRound runs the direct loop as a child (this test binary, through TestMain) against a fake.
func TestSendBaselineRound(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process for a second")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	env := &Env{Opts: options{Duration: time.Second, Warmup: 100 * time.Millisecond, Clients: 4, Rounds: 1, Rate: 100},
		Self: self, Log: &log, procs: &procs{}}
	defer env.procs.stopAll()
	fake, err := startFake(sendFakeHistory)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	base := &sendBase{gen: newSendGen(), next: 10}
	r, err := env.sendBaselineRound(context.Background(), fake, base, 100*time.Millisecond, 300*time.Millisecond)
	if err != nil {
		t.Fatalf("%v\n%s", err, &log)
	}
	if r.sent == 0 || r.rate <= 0 || len(base.rounds) != 1 || base.next < 10+r.sent || fake.SentCount() < r.sent {
		t.Errorf("round %+v, next %d, fake %d", r, base.next, fake.SentCount())
	}
	for _, s := range fake.Sent() {
		if i, ok := base.gen.index(s.Body); !ok || i < 10 || !strings.HasPrefix(s.To, "34696") {
			t.Errorf("sent %q to %q", s.Body, s.To)
		}
	}
}

// TestIntakeAndLatency drives the intake and the latency loop against a stand-in for wagate: it answers 202 and
// forwards each message to the fake provider a little later, as wagate's queue would.
func TestIntakeAndLatency(t *testing.T) {
	fake, err := startFake(0)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	gen := newSendGen()
	var ids atomic.Int64
	provider := &http.Client{}
	stand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		if r.Header.Get("Authorization") != "Bearer "+sendAPIToken {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		req, err := outbound.Decode(body.Bytes())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		i, _ := gen.index(body.Bytes())
		id := fmt.Sprintf("m%d", ids.Add(1))
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "status": "queued"})
		go func() {
			time.Sleep(2 * time.Millisecond)
			pb, _ := wa.Outbound{To: req.Message.To, Type: req.Message.Type, Content: req.Message.Content}.CloudBody()
			if _, ok := gen.index(pb); !ok {
				panic(fmt.Sprint("marker lost ", i))
			}
			hreq, _ := http.NewRequest(http.MethodPost, fake.URL()+"/messages", bytes.NewReader(pb))
			hreq.Header.Set("D360-API-KEY", sendAPIKey)
			hreq.Header.Set("Content-Type", "application/json")
			if resp, err := provider.Do(hreq); err == nil {
				resp.Body.Close()
			}
		}()
	}))
	defer stand.Close()
	var log bytes.Buffer
	env := &Env{Opts: options{Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond, Clients: 8, Rounds: 1, Rate: 100},
		Log: &log, procs: &procs{}}
	ctx := context.Background()
	lat, err := openLoopToFake(ctx, env, "stand-in", stand.URL+"/v1/messages", apiHeader(), fake, gen, 0, gen.apiBody,
		func(status int, b []byte) error { _, err := checkQueued(status, b); return err })
	if err != nil {
		t.Fatalf("%v\n%s", err, &log)
	}
	if lat.p50 < 2*time.Millisecond || lat.p99 < lat.p50 || lat.p50 > time.Second || lat.p50Answer <= 0 {
		t.Errorf("latency %+v", lat)
	}

	// The intake keeps at most about high messages waiting, and a round drains them all.
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	w := &wagateRun{label: "stand-in", p: &proc{Proc: childproc.Attach("self", self), name: "self"}}
	in := newIntake(stand.URL+"/v1/messages", gen, fake, 8, 50)
	defer in.close()
	r, err := in.round(ctx, w, 50*time.Millisecond, 300*time.Millisecond)
	if err != nil {
		t.Fatalf("%v\n%s", err, &log)
	}
	if r.sent == 0 || r.rate <= 0 || r.minBacklog > 60 || in.accepted.Load() == 0 || in.backlog() != 0 {
		t.Errorf("round %+v, accepted %d, backlog %d", r, in.accepted.Load(), in.backlog())
	}
}
