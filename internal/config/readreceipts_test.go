package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadReceipts_EnvFileAndDefault(t *testing.T) {
	t.Parallel()
	cfg, err := Load(nil, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch := cfg.DefaultChannel(); ch.ReadReceipts != nil || !ch.SendsReadReceipts() {
		t.Fatalf("default: %v", ch.ReadReceipts)
	}
	if !(&Channel{}).SendsReadReceipts() {
		t.Fatal("a hand-built channel must send read receipts")
	}
	for v, want := range map[string]bool{"false": false, "0": false, "true": true, " TRUE ": true} {
		env := map[string]string{"WAGATE_READ_RECEIPTS": v}
		cfg, err := Load(nil, func(k string) string { return env[k] }, nil)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got := cfg.DefaultChannel().SendsReadReceipts(); got != want {
			t.Errorf("%q: SendsReadReceipts = %v", v, got)
		}
	}
	env := map[string]string{"WAGATE_READ_RECEIPTS": "sometimes"}
	if _, err := Load(nil, func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "WAGATE_READ_RECEIPTS") {
		t.Fatalf("bad value: err = %v", err)
	}
	files := map[string]string{
		"/c.json":   `{"channels":[{"name":"x","read_receipts":false},{"name":"y","read_receipts":true},{"name":"z"}]}`,
		"/bad.json": `{"channels":[{"name":"x","read_receipts":"no"}]}`,
	}
	read := func(p string) ([]byte, error) { return []byte(files[p]), nil }
	cfg, err = Load([]string{"-config", "/c.json"}, nil, read)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"x": false, "y": true, "z": true} {
		if ch, ok := cfg.Channel(name); !ok || ch.SendsReadReceipts() != want {
			t.Errorf("channel %s: %+v", name, ch)
		}
	}
	if _, err := Load([]string{"-config", "/bad.json"}, nil, read); err == nil {
		t.Fatal("a string read_receipts was accepted")
	}
	if s := fmt.Sprint(cfg.Redacted()); !strings.Contains(s, "read_receipts:false") {
		t.Errorf("redacted config does not show read_receipts: %s", s)
	}
}
