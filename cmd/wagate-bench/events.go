package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/internal/subscriber"
)

const eventsBenchmark = "event deliveries"

// eventsMinRate is the goal of deliveries per second on SQLite.
const eventsMinRate = 1000

// eventsBacklog is how many webhooks the rate phase posts; eventsLatencyRate and eventsLatencyFor shape the
// latency phase.
const (
	eventsBacklog     = 10_000
	eventsLatencyRate = 100
	eventsLatencyFor  = 5 * time.Second
)

func eventsScenario() Scenario {
	s := Scenario{Name: eventsBenchmark, Key: "events", Targets: []string{"baseline", "sqlite", "postgres"},
		Goals: fmt.Sprintf("goal: >= %d deliveries/s on SQLite", eventsMinRate), About: eventsAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runEvents(ctx, env, s) }
	return s
}

var eventsAbout = fmt.Sprintf(`
- **event deliveries**: a wagate in demo mode with one subscription (wagate format, Standard Webhooks signatures)
  to a receiver on 127.0.0.1 that answers 204. %d distinct inbound-message webhooks are posted by 32 clients; the
  rate is deliveries received divided by the time from the first webhook posted to the last delivery received,
  so it includes ingest, the delivery jobs and the signed POSTs. Latency: webhooks posted at %d/s for %s; each
  is timed from its POST to the receiver getting its event (p50, p99).
- **baseline** (of event deliveries): the same receiver fed by a direct loop of signed POSTs (32 clients) without
  wagate.
`, eventsBacklog, eventsLatencyRate, eventsLatencyFor)

// eventReceiver counts deliveries and records when each wamid arrived.
type eventReceiver struct {
	srv     *http.Server
	url     string
	count   atomic.Int64
	mu      sync.Mutex
	arrived map[string]time.Time
	last    atomic.Int64 // UnixNano of the last delivery
}

func startEventReceiver() (*eventReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &eventReceiver{arrived: map[string]time.Time{}, url: "http://" + ln.Addr().String() + "/events"}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		now := time.Now()
		var ev struct {
			Data struct {
				Message struct {
					ProviderID string `json:"provider_id"`
				} `json:"message"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &ev) == nil && ev.Data.Message.ProviderID != "" {
			r.mu.Lock()
			r.arrived[ev.Data.Message.ProviderID] = now
			r.mu.Unlock()
		}
		r.count.Add(1)
		r.last.Store(now.UnixNano())
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *eventReceiver) reset() {
	r.mu.Lock()
	clear(r.arrived)
	r.mu.Unlock()
	r.count.Store(0)
}

func (r *eventReceiver) arrival(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrived[id]
	return t, ok
}

// eventsWebhook is an inbound text message webhook from one of 500 senders.
func eventsWebhook(sender int, id string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{`+
		`"messaging_product":"whatsapp","contacts":[{"profile":{"name":"Bench"},"wa_id":"3469%07d"}],`+
		`"messages":[{"from":"3469%07d","id":"%s","timestamp":"%d","type":"text","text":{"body":"hola"}}]}}]}]}`,
		sender%500, sender%500, id, at.Unix())
}

func runEvents(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	rcv, err := startEventReceiver()
	if err != nil {
		return nil, err
	}
	defer rcv.srv.Close()
	var rows []Row
	var errs []error
	var baseRate float64
	if env.Want(s, "baseline") {
		baseRate, err = eventsBaseline(ctx, rcv, env.Opts.Duration)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rows = append(rows, Row{Benchmark: eventsBenchmark, Target: "baseline: direct loop of signed POSTs", Rate: baseRate, Ratio: 1})
	}
	for _, t := range []struct{ key, label string }{{"sqlite", "wagate, SQLite"}, {"postgres", "wagate, PostgreSQL"}} {
		if !env.Want(s, t.key) {
			continue
		}
		if t.key == "postgres" && env.Opts.PostgresURL == "" {
			rows = append(rows, Row{Benchmark: eventsBenchmark, Target: t.label, Skipped: EnvPostgresURL + " is not set"})
			continue
		}
		env.Logf("-- %s", t.label)
		r, err := eventsWagate(ctx, env, rcv, t.key, t.label)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if baseRate > 0 {
			r.Ratio = r.Rate / baseRate
		}
		if t.key == "sqlite" {
			r.Goals = []Goal{{Desc: fmt.Sprintf("%.0f/s ≥ %d/s", r.Rate, eventsMinRate), Pass: r.Rate >= eventsMinRate}}
		}
		rows = append(rows, r)
	}
	return rows, errors.Join(errs...)
}

// eventsBaseline posts signed events straight to the receiver for d and returns the rate.
func eventsBaseline(ctx context.Context, rcv *eventReceiver, d time.Duration) (float64, error) {
	secret := subscriber.NewSecret()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	rcv.reset()
	deadline := time.Now().Add(d)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				id := fmt.Sprintf("evt-%d-%d", c, i)
				body := fmt.Appendf(nil, `{"id":"%s","type":"message.received","data":{"message":{"provider_id":"wamid.%s"}}}`, id, id)
				sig, _ := subscriber.Sign(secret, id, time.Now(), body)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rcv.url, bytes.NewReader(body))
				req.Header.Set("webhook-id", id)
				req.Header.Set("webhook-timestamp", fmt.Sprint(time.Now().Unix()))
				req.Header.Set("webhook-signature", sig)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return 0, fmt.Errorf("%d POSTs failed", n)
	}
	return float64(rcv.count.Load()) / time.Since(start).Seconds(), nil
}

// eventsWagate measures one wagate target.
func eventsWagate(ctx context.Context, env *Env, rcv *eventReceiver, key, label string) (Row, error) {
	fail := func(err error) (Row, error) { return Row{}, fmt.Errorf("%s: %w", label, err) }
	dataDir, err := os.MkdirTemp("", "wagate-bench-events-*")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dataDir)
	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	vars := []string{"WAGATE_LISTEN=" + addr, "WAGATE_DATA_DIR=" + dataDir, "WAGATE_LOG_LEVEL=warn",
		"WAGATE_SUBSCRIBER_ALLOW_CIDRS=127.0.0.1", "WAGATE_QUEUE_WORKERS=200"}
	if key == "postgres" {
		dbURL, drop, err := createDatabase(ctx, env.Opts.PostgresURL)
		if err != nil {
			return fail(err)
		}
		defer drop()
		vars = append(vars, "WAGATE_DATABASE_URL="+dbURL)
	}
	p, err := env.procs.start("wagate-events-"+key, env.Opts.Wagate, []string{"serve"}, childEnv(vars...))
	if err != nil {
		return fail(err)
	}
	defer p.stop()
	base := "http://" + addr
	if err := waitReady(ctx, p, base+"/readyz", 2*time.Minute); err != nil {
		return fail(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	sub, _ := json.Marshal(map[string]any{"url": rcv.url, "types": []string{"message.received"}})
	if status, body, err := post(ctx, client, base+"/v1/subscriptions", nil, sub); err != nil || status != http.StatusCreated {
		return fail(fmt.Errorf("create subscription: %d %s %v", status, body, err))
	}
	run := fmt.Sprintf("%x", time.Now().UnixNano())

	// Rate: a backlog of distinct webhooks, posted by 32 clients; deliveries counted at the receiver.
	rcv.reset()
	start := time.Now()
	var next atomic.Int64
	var postErr atomic.Value
	var wg sync.WaitGroup
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > eventsBacklog || ctx.Err() != nil {
					return
				}
				body := eventsWebhook(int(i), fmt.Sprintf("wamid.ev%s-%d", run, i), time.Now())
				status, out, err := post(ctx, client, base+"/webhooks/whatsapp", nil, body)
				if err != nil || status != 200 || !bytes.Contains(out, []byte(`"stored":1`)) {
					postErr.Store(fmt.Sprintf("webhook: %d %.200s %v", status, out, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if v := postErr.Load(); v != nil {
		return fail(errors.New(v.(string)))
	}
	posted := time.Since(start)
	deadline := time.Now().Add(3 * time.Minute)
	for rcv.count.Load() < eventsBacklog {
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("%d of %d events delivered within 3 min", rcv.count.Load(), eventsBacklog))
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return fail(err)
		}
	}
	elapsed := time.Unix(0, rcv.last.Load()).Sub(start)
	rate := float64(eventsBacklog) / elapsed.Seconds()
	env.Logf("   %s: %d webhooks posted in %s; %d events delivered in %s: %.0f/s", label, eventsBacklog, posted.Round(time.Millisecond),
		eventsBacklog, elapsed.Round(time.Millisecond), rate)

	// Latency: webhooks at a fixed rate; each timed from its POST to its event's arrival.
	n := int(eventsLatencyRate * eventsLatencyFor.Seconds())
	sentAt := make([]time.Time, n)
	ids := make([]string, n)
	tick := time.NewTicker(time.Second / eventsLatencyRate)
	var lwg sync.WaitGroup
	for i := 0; i < n; i++ {
		<-tick.C
		ids[i] = fmt.Sprintf("wamid.lat%s-%d", run, i)
		sentAt[i] = time.Now()
		lwg.Add(1)
		go func(i int) {
			defer lwg.Done()
			if _, _, err := post(ctx, client, base+"/webhooks/whatsapp", nil, eventsWebhook(i, ids[i], sentAt[i])); err != nil {
				postErr.Store(err.Error())
			}
		}(i)
	}
	tick.Stop()
	lwg.Wait()
	if v := postErr.Load(); v != nil {
		return fail(errors.New(v.(string)))
	}
	var lat []time.Duration
	deadline = time.Now().Add(time.Minute)
	for i := 0; i < n; i++ {
		for {
			if at, ok := rcv.arrival(ids[i]); ok {
				lat = append(lat, at.Sub(sentAt[i]))
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("event of %s not delivered within a minute", ids[i]))
			}
			if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
				return fail(err)
			}
		}
	}
	slices.Sort(lat)
	rss, _ := p.peakRSS()
	if logged := strings.TrimSpace(p.logText()); strings.Contains(logged, "level=ERROR") {
		env.Note("%s: wagate logged errors: %s", label, p.logTail(3))
	}
	return Row{Benchmark: eventsBenchmark, Target: label, Rate: rate, P50: lat[len(lat)/2], P99: lat[len(lat)*99/100], PeakRSS: rss}, nil
}
