package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// wagateRun is a wagate process started by a send scenario on a fresh database, with its provider pointed at a
// fake.
type wagateRun struct {
	label    string
	p        *proc
	url      string // base URL, http://127.0.0.1:port
	startLog int    // length of its output when it became ready: what follows was logged under load
	cleanup  []func() error
}

// startSendWagate starts wagate on a fresh database (key sqlite or postgres) with one 360dialog Cloud channel
// whose base URL is fakeURL, pacing it at ratePerSecond (0: governor off), and waits until it is ready.
func (e *Env) startSendWagate(ctx context.Context, key, label, fakeURL, ratePerSecond string) (*wagateRun, error) {
	w := &wagateRun{label: label}
	fail := func(err error) (*wagateRun, error) {
		w.close(e)
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	dataDir, err := os.MkdirTemp("", "wagate-bench-data-*")
	if err != nil {
		return fail(err)
	}
	w.cleanup = append(w.cleanup, func() error { return os.RemoveAll(dataDir) })
	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	vars := []string{"WAGATE_LISTEN=" + addr, "WAGATE_DATA_DIR=" + dataDir, "WAGATE_LOG_LEVEL=warn",
		"WAGATE_API_TOKEN=" + sendAPIToken, "WAGATE_PROVIDER=360dialog", "WHATSAPP_API_KEY=" + sendAPIKey,
		"WAGATE_PROVIDER_BASE_URL=" + fakeURL, "WAGATE_WEBHOOK_SECRET=" + sendWebhookSecret,
		"WAGATE_PUBLIC_URL=https://wagate.example.com",
		"WAGATE_RATE_PER_SECOND=" + ratePerSecond, fmt.Sprintf("WAGATE_QUEUE_WORKERS=%d", sendWorkers),
		// The load sends free-form messages to synthetic recipients who never wrote; the window check is
		// measured on its own (templates scenario).
		"WAGATE_WINDOW_CHECK=false"}
	if key == "postgres" {
		dbURL, drop, err := createDatabase(ctx, e.Opts.PostgresURL)
		if err != nil {
			return fail(err)
		}
		w.cleanup = append(w.cleanup, drop)
		vars = append(vars, "WAGATE_DATABASE_URL="+dbURL)
	}
	p, err := e.procs.start("wagate-"+key, e.Opts.Wagate, []string{"serve"}, childEnv(vars...))
	if err != nil {
		return fail(err)
	}
	w.p = p
	w.url = "http://" + addr
	if err := waitReady(ctx, p, w.url+"/readyz", 2*time.Minute); err != nil {
		return fail(err)
	}
	w.startLog = len(p.logText())
	return w, nil
}

// finish stops wagate and reports what it logged at warn or above under load: in the progress log, and as a
// note when nothing else went wrong (failed says whether something did). It returns the errors of stopping.
func (w *wagateRun) finish(e *Env, failed bool) []error {
	var errs []error
	if err := w.p.stop(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", w.label, err))
	}
	out := w.p.logText()
	if logged := strings.TrimSpace(out[min(w.startLog, len(out)):]); logged != "" {
		lines := strings.Split(logged, "\n")
		e.Logf("   %s: wagate logged %d lines at warn or above under load; the last ones:\n%s", w.label, len(lines),
			indent(w.p.logTail(10), "     "))
		if !failed && len(errs) == 0 {
			e.Note("%s: wagate logged %d lines at warn or above during the run; the first: `%s`", w.label, len(lines), lines[0])
		}
	}
	if failed || len(errs) > 0 {
		errs = append(errs, fmt.Errorf("%s: wagate's last output:\n%s", w.label, indent(w.p.logTail(15), "    ")))
	}
	return errs
}

// close stops wagate if it still runs and removes its database.
func (w *wagateRun) close(e *Env) {
	if w.p != nil {
		_ = w.p.stop()
	}
	for i := len(w.cleanup) - 1; i >= 0; i-- {
		if err := w.cleanup[i](); err != nil {
			e.Logf("   %s: %v", w.label, err)
		}
	}
	w.cleanup = nil
}

// checkMessages reads messages by id through GET /v1/messages/{id} and checks that the provider accepted each
// one: status accepted (or a later receipt's) with a provider id.
func (w *wagateRun) checkMessages(ctx context.Context, ids []string) error {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	var problems []string
	for _, id := range ids {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/v1/messages/"+id, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+sendAPIToken)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("GET /v1/messages/%s: %w", id, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("GET /v1/messages/%s: %w", id, err)
		}
		var m struct {
			Status     string `json:"status"`
			ProviderID string `json:"provider_id"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &m) != nil {
			problems = append(problems, fmt.Sprintf("GET /v1/messages/%s: HTTP %d %.200s", id, resp.StatusCode, body))
			continue
		}
		if m.Status == "queued" || m.Status == "failed" || !strings.HasPrefix(m.ProviderID, "wamid.") {
			problems = append(problems, fmt.Sprintf("message %s: status %q provider id %q, want accepted with a wamid", id, m.Status, m.ProviderID))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// waitLine waits until the child p has printed a line starting with prefix, and returns the rest of it.
func waitLine(ctx context.Context, p *proc, prefix string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range strings.Split(p.logText(), "\n") {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				return strings.TrimSpace(rest), nil
			}
		}
		if p.exited() {
			return "", fmt.Errorf("%s exited while starting (%v): %s", p.name, p.Err(), p.logTail(20))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s did not print %q within %v", p.name, prefix, timeout)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s: %w", p.name, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
