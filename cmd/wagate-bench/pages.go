package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/store/postgres"
	"github.com/wagate/wagate/internal/store/sqlite"
	"github.com/wagate/wagate/internal/wa"
)

// Goal and shape of the pages scenario.
const (
	pagesBenchmark = "page render"
	// pagesGoal is the most a page may take to render with the seeded history.
	pagesGoal = 100 * time.Millisecond
	// pagesContacts is how many contacts (each with one conversation) the messages are spread over.
	pagesContacts = 2000
	// pagesDays is how far back the seeded messages go.
	pagesDays = 90
	// pagesEvents is how many provider webhooks the activity page has to list from.
	pagesEvents = 5000
	pagesUser   = "bench@example.com"
	pagesPass   = "bench-password-123"
)

func pagesScenario() Scenario {
	s := Scenario{Name: pagesBenchmark, Key: "pages", Targets: []string{"baseline", "sqlite", "postgres"},
		Goals: fmt.Sprintf("goal (%s): every page under %d ms (p99) with the seeded history", pagesBenchmark, pagesGoal/time.Millisecond),
		About: pagesAbout}
	s.Run = func(ctx context.Context, env *Env) ([]Row, error) { return runPages(ctx, env, s) }
	return s
}

var pagesAbout = `
- **` + pagesBenchmark + `**: a wagate in demo mode on a database seeded with ` + "`-pages-messages`" + ` messages (100,000 by
  default) over the last 90 days, spread across 2,000 contacts with one conversation each: 60% inbound, 40% outbound;
  outbound ones carry sent (with pricing), delivered and mostly read receipts, 3% fail with a provider error; plus
  5,000 provider webhooks (2% failed). PostgreSQL gets the same rows (seeded in SQLite, copied with COPY, then
  VACUUM ANALYZE as autovacuum would have done on a live database). A director signs in; each main page is requested
  ` + "`-pages-requests`" + ` times one after another (after 3 unmeasured ones) and timed from request to the last byte
  on the same machine: **p50 / p99** are those times, **rate** is requests per second of that sequence, **ratio** is
  the rate over the baseline's. A page answering anything but 200 is reported, not timed.
- **baseline** (of page render): a bare handler in the harness's process answering a static page as large as the
  largest page measured, timed the same way: the cost of HTTP and of moving the bytes.
`

// pageTarget is one page requested by the scenario; Path may name the seeded contact or conversation.
type pageTarget struct {
	Name string
	Path string
}

func pagesList(conversationID, contactID string) []pageTarget {
	return []pageTarget{
		{"/inbox", "/inbox"},
		{"/inbox/{id}", "/inbox/" + conversationID},
		{"/contacts", "/contacts"},
		{"/contacts/{id}", "/contacts/" + contactID},
		{"/templates", "/templates"},
		{"/activity", "/activity"},
		{"/activity/deliveries", "/activity/deliveries"},
		{"/dashboard", "/dashboard"},
		{"/dashboard?days=90", "/dashboard?days=90"},
		{"/settings", "/settings"},
	}
}

// pagesSeed is what seeding produced: the SQLite file and the ids the pages name.
type pagesSeed struct {
	dir            string // holds wagate.db
	conversationID string
	contactID      string
	took           time.Duration
}

func runPages(ctx context.Context, env *Env, s Scenario) ([]Row, error) {
	if !env.Want(s, "sqlite") && !env.Want(s, "postgres") && !env.Want(s, "baseline") {
		return nil, nil
	}
	env.Logf("-- %s: seeding %d messages into SQLite", pagesBenchmark, env.Opts.PageMessages)
	seed, err := seedPages(ctx, env.Opts.PageMessages)
	if seed.dir != "" {
		defer os.RemoveAll(seed.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	env.Logf("   seeded in %v", seed.took.Round(time.Second))
	pages := pagesList(seed.conversationID, seed.contactID)

	var rows []Row
	var errs []error
	largest := 0
	for _, key := range []string{"sqlite", "postgres"} {
		if !env.Want(s, key) {
			continue
		}
		if key == "postgres" && env.Opts.PostgresURL == "" {
			rows = append(rows, Row{Benchmark: pagesBenchmark, Target: "postgres", Skipped: EnvPostgresURL + " not set"})
			continue
		}
		r, size, err := pagesWagate(ctx, env, key, seed, pages)
		rows = append(rows, r...)
		largest = max(largest, size)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if env.Want(s, "baseline") {
		size := max(largest, 32<<10)
		b, err := pagesBaseline(ctx, env, size)
		if err != nil {
			errs = append(errs, err)
		} else {
			for i := range rows {
				if rows[i].Skipped == "" && b.Rate > 0 {
					rows[i].Ratio = rows[i].Rate / b.Rate
				}
			}
			rows = append([]Row{b}, rows...)
		}
	}
	return rows, errors.Join(errs...)
}

// seedPages creates a SQLite database with the scenario's history, through the store in transactions of 500
// messages. The store's clock is moved to each message's time, so that outbound messages and receipts land on
// their day.
func seedPages(ctx context.Context, messages int) (pagesSeed, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "wagate-bench-pages-*")
	if err != nil {
		return pagesSeed{}, err
	}
	seed := pagesSeed{dir: dir}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "wagate.db"))
	if err != nil {
		return seed, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return seed, err
	}
	now := time.Now().UTC()
	clock := now
	st := store.New(db, func() time.Time { return clock })

	hash, err := auth.HashPassword(pagesPass, 1000)
	if err != nil {
		return seed, err
	}
	if err := st.UserInsert(ctx, &store.User{Email: pagesUser, Name: "Bench", Role: "director", PasswordHash: hash}); err != nil {
		return seed, err
	}

	const channel = "default"
	contacts := make([]string, pagesContacts)
	convs := make([]string, pagesContacts)
	err = st.InTx(ctx, func(tx store.Tx) error {
		for i := range contacts {
			phone := fmt.Sprintf("+3460%07d", i)
			c, err := st.ContactResolve(ctx, tx, store.ContactInput{Phone: phone, WAID: wa.Digits(phone), Name: fmt.Sprintf("Contact %d", i)})
			if err != nil {
				return err
			}
			contacts[i] = c.ID
			if convs[i], err = st.ConversationEnsure(ctx, tx, channel, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return seed, err
	}
	seed.contactID, seed.conversationID = contacts[0], convs[0]

	pmp := func(category string) json.RawMessage {
		return json.RawMessage(`{"billable":true,"pricing_model":"PMP","category":"` + category + `","type":"regular"}`)
	}
	span := time.Duration(pagesDays) * 24 * time.Hour
	const batch = 500
	for first := 0; first < messages; first += batch {
		if err := ctx.Err(); err != nil {
			return seed, err
		}
		err := st.InTx(ctx, func(tx store.Tx) error {
			for i := first; i < min(first+batch, messages); i++ {
				k := i % pagesContacts
				at := now.Add(-span + time.Duration(int64(span)/int64(messages)*int64(i)))
				clock = at
				m := store.Message{Channel: channel, ConversationID: convs[k], ContactID: contacts[k], Type: "text",
					Text: fmt.Sprintf("Message %d about order A-%04d: is it on its way?", i, i%9973)}
				if i%5 < 3 {
					m.Direction, m.ProviderID, m.ProviderTime = store.DirectionIn, fmt.Sprintf("wamid.in.%d", i), at
					m.Status = wa.StatusReceived
					if _, err := st.MessageInsert(ctx, tx, &m); err != nil {
						return err
					}
					continue
				}
				m.Direction = store.DirectionOut
				if _, err := st.MessageInsert(ctx, tx, &m); err != nil {
					return err
				}
				wamid := fmt.Sprintf("wamid.out.%d", i)
				if err := st.MessageAccepted(ctx, tx, channel, m.ID, wamid, at); err != nil {
					return err
				}
				category := "utility"
				if i%7 == 0 {
					category = "marketing"
				}
				steps := []wa.Receipt{{Status: wa.StatusSent, Pricing: pmp(category)}, {Status: wa.StatusDelivered, Pricing: pmp(category)}}
				switch {
				case i%33 == 0:
					steps = []wa.Receipt{{Status: wa.StatusFailed, Errors: []wa.ProviderError{{Code: 131026, Title: "Message undeliverable"}}}}
				case i%97 == 0:
					steps = []wa.Receipt{{Status: wa.StatusFailed, Errors: []wa.ProviderError{{Code: 131047, Title: "Re-engagement message"}}}}
				case i%4 != 0:
					steps = append(steps, wa.Receipt{Status: wa.StatusRead})
				}
				for j, r := range steps {
					r.MessageID, r.Timestamp = wamid, at.Add(time.Duration(j+1)*time.Second)
					if _, err := st.ReceiptApply(ctx, tx, channel, "", r); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return seed, err
		}
	}
	clock = now
	evs := make([]*store.Event, 0, pagesEvents)
	for i := 0; i < pagesEvents; i++ {
		ev := &store.Event{Channel: channel, AuthChannels: []string{channel}, ContentType: "application/json",
			ReceivedAt: now.Add(-span + span/pagesEvents*time.Duration(i)), Shape: "cloud", State: store.EventProcessed,
			Body:   []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.out.%d","status":"read"}]}}]}]}`, i)),
			Counts: store.Counts{Statuses: 1, Updated: 1}}
		if i%50 == 0 {
			ev.State, ev.Error, ev.Body, ev.Counts = store.EventFailed, "webhook: malformed body", []byte("not json"), store.Counts{}
		}
		evs = append(evs, ev)
	}
	err = st.InTx(ctx, func(tx store.Tx) error { return st.EventInsertMany(ctx, tx, evs) })
	seed.took = time.Since(start)
	return seed, err
}

// pagesCopyToPostgres copies the seeded SQLite database into a new PostgreSQL database and returns its URL and
// a func that drops it.
func pagesCopyToPostgres(ctx context.Context, env *Env, seed pagesSeed) (string, func() error, error) {
	dbURL, drop, err := createDatabase(ctx, env.Opts.PostgresURL)
	if err != nil {
		return "", nil, err
	}
	fail := func(err error) (string, func() error, error) {
		_ = drop()
		return "", nil, err
	}
	pg, err := postgres.Open(ctx, dbURL, 4)
	if err != nil {
		return fail(err)
	}
	defer pg.Close()
	if err := pg.Migrate(ctx, nil); err != nil {
		return fail(err)
	}
	src, err := sqlite.Open(ctx, filepath.Join(seed.dir, "wagate.db"))
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	dst := store.New(pg, nil)
	err = dst.InTx(ctx, func(tx store.Tx) error {
		im, err := pg.Importer(tx)
		if err != nil {
			return err
		}
		return src.Snapshot(ctx, func(s *sqlite.Snapshot) error {
			tables, err := s.Tables(ctx)
			if err != nil {
				return err
			}
			for _, t := range tables {
				var cols []string
				var rows [][]any
				flush := func() error {
					if len(rows) == 0 {
						return nil
					}
					_, err := im.Copy(ctx, t, cols, rows)
					rows = rows[:0]
					return err
				}
				err := s.Rows(ctx, t, func(c []string, row []any) error {
					cols = c
					rows = append(rows, row)
					if len(rows) == 5000 {
						return flush()
					}
					return nil
				})
				if err == nil {
					err = flush()
				}
				if err != nil {
					return fmt.Errorf("copy %s: %w", t, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return fail(err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fail(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fail(err)
	}
	return dbURL, drop, nil
}

// pagesWagate starts wagate on the seeded database (key sqlite or postgres), signs in and times every page. It
// returns the rows and the size of the largest page.
func pagesWagate(ctx context.Context, env *Env, key string, seed pagesSeed, pages []pageTarget) ([]Row, int, error) {
	label := "wagate " + key
	dataDir, err := os.MkdirTemp("", "wagate-bench-data-*")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dataDir)
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	vars := []string{"WAGATE_LISTEN=" + addr, "WAGATE_DATA_DIR=" + dataDir, "WAGATE_LOG_LEVEL=warn"}
	switch key {
	case "sqlite":
		if err := copyFile(filepath.Join(seed.dir, "wagate.db"), filepath.Join(dataDir, "wagate.db")); err != nil {
			return nil, 0, err
		}
	case "postgres":
		env.Logf("   %s: copying the seeded rows into a new database", label)
		t0 := time.Now()
		dbURL, drop, err := pagesCopyToPostgres(ctx, env, seed)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", label, err)
		}
		defer func() {
			if err := drop(); err != nil {
				env.Logf("   %s: %v", label, err)
			}
		}()
		env.Logf("   copied in %v", time.Since(t0).Round(time.Second))
		vars = append(vars, "WAGATE_DATABASE_URL="+dbURL)
	}
	p, err := env.procs.start("wagate-pages-"+key, env.Opts.Wagate, []string{"serve"}, childEnv(vars...))
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = p.stop() }()
	base := "http://" + addr
	if err := waitReady(ctx, p, base+"/readyz", 3*time.Minute); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", label, err)
	}
	client, err := pagesSignIn(ctx, base)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", label, err)
	}
	defer client.CloseIdleConnections()
	var rows []Row
	largest := 0
	for _, pg := range pages {
		res, err := timeRequests(ctx, client, base+pg.Path, env.Opts.PageRequests)
		target := key + ": " + pg.Name
		if err != nil {
			var st *statusError
			if errors.As(err, &st) {
				rows = append(rows, Row{Benchmark: pagesBenchmark, Target: target, Skipped: fmt.Sprintf("HTTP %d, not timed", st.code)})
				env.Logf("   %s: HTTP %d, not timed", target, st.code)
				continue
			}
			return rows, largest, fmt.Errorf("%s %s: %w", label, pg.Path, err)
		}
		largest = max(largest, res.size)
		pass := res.p99 < pagesGoal
		rows = append(rows, Row{Benchmark: pagesBenchmark, Target: fmt.Sprintf("%s (%s)", target, formatKB(res.size)), Rate: res.rate,
			P50: res.p50, P99: res.p99, Goals: []Goal{{Desc: fmt.Sprintf("p99 %s < %d ms", formatLatency(res.p99), pagesGoal/time.Millisecond), Pass: pass}}})
		env.Logf("   %s: p50 %s p99 %s, %s", target, formatLatency(res.p50), formatLatency(res.p99), formatKB(res.size))
	}
	if n, err := p.peakRSS(); err == nil && len(rows) > 0 {
		rows[len(rows)-1].PeakRSS = n
	}
	return rows, largest, nil
}

// pagesBaseline times a bare handler answering a static page of size bytes.
func pagesBaseline(ctx context.Context, env *Env, size int) (Row, error) {
	page := []byte("<!doctype html><html><body>" + strings.Repeat("<p>wagate baseline page</p>\n", size/28+1))[:size]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Row{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	res, err := timeRequests(ctx, client, "http://"+ln.Addr().String()+"/", env.Opts.PageRequests)
	if err != nil {
		return Row{}, fmt.Errorf("baseline: %w", err)
	}
	env.Logf("   baseline: p50 %s p99 %s, %s", formatLatency(res.p50), formatLatency(res.p99), formatKB(res.size))
	return Row{Benchmark: pagesBenchmark, Target: fmt.Sprintf("baseline: static page (%s)", formatKB(size)), Rate: res.rate, Ratio: 1,
		P50: res.p50, P99: res.p99}, nil
}

var pagesCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// pagesSignIn signs in as the seeded director and returns a client carrying the session.
func pagesSignIn(ctx context.Context, base string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign-in page: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := pagesCSRF.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("sign-in page: HTTP %d without a CSRF field", resp.StatusCode)
	}
	form := url.Values{"csrf": {string(m[1])}, "email": {pagesUser}, "password": {pagesPass}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		return nil, fmt.Errorf("sign in refused (HTTP %d)", resp.StatusCode)
	}
	return client, nil
}

// statusError is a page that answered something else than 200.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

// timing is what timeRequests measured.
type timing struct {
	p50, p99 time.Duration
	rate     float64
	size     int
}

// timeRequests gets u n times one after another (after 3 unmeasured requests) and returns the latency
// percentiles, the rate of the sequence and the size of the page.
func timeRequests(ctx context.Context, client *http.Client, u string, n int) (timing, error) {
	get := func() (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
			return 0, &statusError{resp.StatusCode}
		}
		return len(b), nil
	}
	var t timing
	for i := 0; i < 3; i++ {
		size, err := get()
		if err != nil {
			return t, err
		}
		t.size = size
	}
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := get(); err != nil {
			return t, err
		}
		lat = append(lat, time.Since(t0))
	}
	t.rate = float64(n) / time.Since(start).Seconds()
	slices.Sort(lat)
	t.p50 = lat[len(lat)/2]
	t.p99 = lat[min(len(lat)-1, (len(lat)*99+99)/100-1)]
	return t, nil
}

func formatKB(n int) string { return fmt.Sprintf("%.0f kB", float64(n)/1000) }

// copyFile copies the file src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
