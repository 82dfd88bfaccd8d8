package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	env := func(k string) string { return map[string]string{EnvPostgresURL: " postgres://x "}[k] }
	o, err := parseFlags([]string{"-only", "kill-sends, disk-readonly", "-outage", "5s"}, io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Only, []string{"kill-sends", "disk-readonly"}) || o.Outage != 5*time.Second || o.PostgresURL != "postgres://x" {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"-only", "nope"}, {"-outage", "10ms"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard, env); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSendGen_IndexOfItsBodies(t *testing.T) {
	t.Parallel()
	g, other := newSendGen(), newSendGen()
	for _, i := range []int{0, 7, 123456} {
		if got, ok := g.index(g.body(i)); !ok || got != i {
			t.Errorf("index of body %d: %d %v", i, got, ok)
		}
		if _, ok := other.index(g.body(i)); ok {
			t.Errorf("another run's generator claims body %d", i)
		}
	}
	if err := g.check(3, http.StatusAccepted, []byte(`{"id":"m1","status":"queued"}`)); err != nil || !g.isAccepted(3) {
		t.Errorf("202 with an id not recorded: %v", err)
	}
	if err := g.check(4, http.StatusAccepted, []byte(`{}`)); err == nil || g.isAccepted(4) {
		t.Error("202 without an id recorded")
	}
}

func TestHookGen_OnlyOKAcknowledges(t *testing.T) {
	t.Parallel()
	g := newHookGen()
	if err := g.check(1, 200, []byte(`{"ok":false}`)); err == nil || g.isAcked(1) {
		t.Error("ok:false counted as an acknowledgement")
	}
	if err := g.check(2, 200, []byte(`{"ok":true,"received":1}`)); err != nil || !g.isAcked(2) {
		t.Errorf("ok:true not counted: %v", err)
	}
	if g.wamid(3) == g.wamid(2) || !g.isReceipt(3) || g.isReceipt(2) {
		t.Error("webhooks 2 and 3 should be a message and a receipt with distinct ids")
	}
}

func TestFront_Outage(t *testing.T) {
	t.Parallel()
	f, err := newFront(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	status := func() int {
		resp, err := client.Get(f.URL())
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		state string
		want  int
	}{{frontUp, http.StatusTeapot}, {frontFailing, http.StatusServiceUnavailable}, {frontRefused, 0}, {frontUp, http.StatusTeapot}}
	for _, s := range steps {
		if err := f.set(s.state); err != nil {
			t.Fatal(err)
		}
		if got := status(); got != s.want {
			t.Errorf("%s: status %d, want %d (0: connection refused)", s.state, got, s.want)
		}
	}
	stop := make(chan struct{})
	close(stop)
	if err := f.outage(stop, time.Hour); err == nil || status() != http.StatusTeapot {
		t.Errorf("an interrupted outage returned %v and left the front at %d", err, status())
	}
}

func TestPGCluster_ReadsTheServerOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := `/usr/lib/postgresql/17/bin/postgres "-D" "` + dir + `" "-c" "listen_addresses=127.0.0.1" "-p" "5999"` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "postmaster.opts"), []byte(opts), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := newPGCluster("pg_ctl", dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-c", "listen_addresses=127.0.0.1", "-p", "5999"}; !slices.Equal(c.opts, want) {
		t.Errorf("options %q, want %q", c.opts, want)
	}
	if _, err := newPGCluster("pg_ctl", t.TempDir()); err == nil {
		t.Error("a data directory without postmaster.opts accepted")
	}
}

func TestRun_RefusesAMissingBinary(t *testing.T) {
	t.Parallel()
	var out, errs strings.Builder
	code := run(context.Background(), []string{"-wagate", filepath.Join(t.TempDir(), "none")}, &out, &errs, func(string) string { return "" })
	if code != 1 || !strings.Contains(errs.String(), "not an executable") {
		t.Errorf("exit %d, stderr %q", code, errs.String())
	}
}
