package providertest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFault_StatusAndCodeInTheKindsShape(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind   Kind
		fault  Fault
		status int
		code   int
		text   string
	}{
		{KindMeta, Fault{Code: 130429}, 400, 130429, "(#130429) Rate limit hit"},
		{KindMeta, Fault{Status: 400, Code: 131047, Details: "more than 24 hours"}, 400, 131047, "more than 24 hours"},
		{KindMeta, Fault{Code: 190, Title: "Error validating access token"}, 401, 190, "Error validating access token"},
		{Kind360Dialog, Fault{Code: 131056}, 400, 131056, "pair rate limit"},
		{Kind360Dialog, Fault{Status: 500, Code: 131000}, 500, 131000, "Something went wrong"},
		{Kind360DialogOnPremise, Fault{Code: 470}, 400, 470, "24 hours"},
		{Kind360DialogOnPremise, Fault{Code: 1015}, 429, 1015, "Too many requests"},
		{Kind360DialogOnPremise, Fault{Status: 503, Code: 1011}, 503, 1011, "Service not ready"},
	}
	for _, c := range cases {
		t.Run(string(c.kind)+"/"+c.text, func(t *testing.T) {
			t.Parallel()
			b := setup(t, c.kind, nil)
			b.fake.Fail(EndpointSend, c.fault)
			r := b.send(t, "x")
			wantError(t, c.kind, r, c.status, c.code, c.text)
			if m := r.json(t); c.kind.cloud() && get(m, "error", "error_data", "messaging_product") != "whatsapp" {
				t.Errorf("error_data: %s", r.body)
			}
			if b.fake.SentCount() != 0 {
				t.Error("a failed send was counted")
			}
		})
	}
}

func TestFault_StatusWithoutCode(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			b.fake.FailNext("", 1, Fault{Status: http.StatusBadGateway, RetryAfter: 1500 * time.Millisecond})
			r := b.send(t, "x")
			if r.status != http.StatusBadGateway {
				t.Fatalf("status %d", r.status)
			}
			if got := r.header.Get("Retry-After"); got != "2" {
				t.Errorf("Retry-After %q, want 2", got)
			}
			if k == KindMeta {
				if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(string(r.body), "Bad Gateway") {
					t.Errorf("Meta edge failure: %q %s", r.header.Get("Content-Type"), r.body)
				}
			} else if get(r.json(t), "error") != "Bad Gateway" {
				t.Errorf("360dialog gateway body %s", r.body)
			}
		})
	}
}

func TestFault_FailNextCountsAndClear(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{} })
			b.fake.FailNext(EndpointSend, 2, Fault{Status: http.StatusServiceUnavailable})
			b.fake.FailNext(EndpointHealth, 5, Fault{Status: http.StatusInternalServerError}) // other endpoint
			var statuses []int
			for range 3 {
				statuses = append(statuses, b.send(t, "x").status)
			}
			if statuses[0] != 503 || statuses[1] != 503 || statuses[2]/100 != 2 {
				t.Errorf("statuses %v, want 503 503 2xx", statuses)
			}
			b.fake.Fail(EndpointSend, Fault{Status: http.StatusForbidden})
			b.fake.Fail("", Fault{Status: http.StatusTeapot}) // later and overlapping: wins
			if s := b.send(t, "x").status; s != http.StatusTeapot {
				t.Errorf("persistent fault: %d", s)
			}
			b.fake.Clear()
			if s := b.send(t, "x").status; s/100 != 2 {
				t.Errorf("after Clear: %d", s)
			}
			if n := b.fake.SentCount(); n != 2 {
				t.Errorf("SentCount %d, want 2", n)
			}
		})
	}
}

func TestFault_ToRestrictsToOneRecipient(t *testing.T) {
	t.Parallel()
	b := setup(t, Kind360Dialog, func(o *Options) { o.Receipts = []string{} })
	b.fake.Fail(EndpointSend, Fault{Code: 131056, To: "+49 151 2345 6789"})
	r := b.send(t, "x")
	wantError(t, Kind360Dialog, r, 400, 131056, "pair rate limit")
	other := msgBody(Kind360Dialog, map[string]any{"to": "4917000000000", "type": "text", "text": map[string]any{"body": "x"}})
	if r := call(t, http.MethodPost, b.fake.URL()+"/messages", auth(Kind360Dialog), other); r.status != 200 {
		t.Errorf("other recipient: %d %s", r.status, r.body)
	}
}

func TestFault_DelayThenNormalAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, KindMeta, func(o *Options) { o.Receipts = []string{} })
	const delay = 150 * time.Millisecond
	b.fake.FailNext(EndpointSend, 1, Fault{Delay: delay})
	start := time.Now()
	r := b.send(t, "x")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if el := time.Since(start); el < delay {
		t.Errorf("answered after %v, want at least %v", el, delay)
	}
}

func TestFault_HangUntilTheClientGivesUp(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, nil)
			b.fake.FailNext(EndpointSend, 1, Fault{Hang: true})
			c := &http.Client{Timeout: 200 * time.Millisecond}
			_, err := do(context.Background(), c, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), textMsg(k, "x"))
			var ne interface{ Timeout() bool }
			if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("err %v, want a client timeout", err)
			}
			eventually(t, "the hung request to be recorded", func() bool {
				reqs := b.fake.Requests()
				return len(reqs) == 1 && reqs[0].Status == 0
			})
			if s := b.send(t, "x").status; s/100 != 2 {
				t.Errorf("next send: %d", s)
			}
		})
	}
}

func TestFault_HangIsReleasedByClose(t *testing.T) {
	t.Parallel()
	s, err := Start(Options{Kind: Kind360Dialog, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	s.Fail("", Fault{Hang: true})
	errc := make(chan error, 1)
	go func() {
		_, err := do(context.Background(), http.DefaultClient, http.MethodGet, s.URL()+"/health_status", auth(Kind360Dialog), nil)
		errc <- err
	}()
	eventually(t, "the request to hang", func() bool { return s.inflight.Load() == 1 })
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
	select {
	case <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("the client was not released")
	}
}

func TestFault_DropClosesTheConnection(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{} })
			b.fake.FailNext(EndpointSend, 1, Fault{Drop: true, Delay: 10 * time.Millisecond})
			_, err := do(context.Background(), http.DefaultClient, http.MethodPost, b.fake.URL()+sendPath(k), auth(k), textMsg(k, "x"))
			if err == nil {
				t.Fatal("dropped request got an answer")
			}
			if s := b.send(t, "x").status; s/100 != 2 {
				t.Errorf("next send: %d", s)
			}
			eventually(t, "both requests to be recorded", func() bool { return len(b.fake.Requests()) == 2 })
			dropped := 0
			for _, r := range b.fake.Requests() {
				if r.Status == 0 {
					dropped++
				}
			}
			if dropped != 1 {
				t.Errorf("%d requests recorded without a status, want 1", dropped)
			}
		})
	}
}

func TestFault_AllEndpointsMatchEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t, Kind360Dialog, nil)
	b.fake.FailNext("", 3, Fault{Status: 500, Code: 131016})
	for _, p := range []string{"/health_status", "/whatsapp_business_profile", "/v1/configs/webhook"} {
		r := call(t, http.MethodGet, b.fake.URL()+p, auth(Kind360Dialog), nil)
		wantError(t, Kind360Dialog, r, 500, 131016, "Service unavailable")
	}
	if r := call(t, http.MethodGet, b.fake.URL()+"/health_status", auth(Kind360Dialog), nil); r.status != 200 {
		t.Errorf("after three faults: %d", r.status)
	}
}

func TestThroughput_ThrottlesWithinOneSecond(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			b := setup(t, k, func(o *Options) { o.Receipts = []string{}; o.Now = clk.Now })
			const limit = 5
			b.fake.SetThroughput(limit)
			ok, throttled := 0, 0
			for range 2 * limit {
				r := b.send(t, "x")
				switch {
				case r.status/100 == 2:
					ok++
				case k.cloud():
					wantError(t, k, r, http.StatusBadRequest, 130429, "throughput")
					throttled++
				default:
					wantError(t, k, r, http.StatusTooManyRequests, 1015, "Too many requests")
					throttled++
				}
			}
			if ok != limit || throttled != limit {
				t.Errorf("accepted %d, throttled %d; want %d each", ok, throttled, limit)
			}
			clk.Advance(1001 * time.Millisecond)
			if r := b.send(t, "x"); r.status/100 != 2 {
				t.Errorf("after a second: %d %s", r.status, r.body)
			}
			b.fake.SetThroughput(0)
			for range 2 * limit {
				if r := b.send(t, "x"); r.status/100 != 2 {
					t.Fatalf("unlimited: %d %s", r.status, r.body)
				}
			}
		})
	}
}

func TestWaitSent(t *testing.T) {
	t.Parallel()
	b := setup(t, Kind360Dialog, func(o *Options) { o.Receipts = []string{} })
	done := make(chan error, 1)
	go func() { done <- b.fake.WaitSent(ctxTimeout(t), 3) }()
	for range 3 {
		b.sendOK(t, "x")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.fake.WaitSent(ctx, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitSent beyond the count: %v", err)
	}
}
