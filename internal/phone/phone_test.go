package phone

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"+34 696 24 73 55":  "+34696247355",
		"0034696247355":     "+34696247355",
		"34696247355":       "+34696247355",
		"+972-50-234-5678":  "+972502345678",
		"+1 (415) 555-2671": "+14155552671",
	}
	for in, want := range good {
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "123", "+34 123", "hello", "+99912345678", "1234567890123456"} {
		if _, err := Normalize(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) err = %v; want ErrInvalid", in, err)
		}
	}
}

func TestFromWAID(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"34696247355":      "+34696247355",
		"16505551234":      "+16505551234",
		"12345678":         "+12345678",
		"":                 "",
		"abc":              "",
		"+34696247355":     "",
		"1234567890123456": "",
	}
	for in, want := range cases {
		if got := FromWAID(in); got != want {
			t.Errorf("FromWAID(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+34696247355", "0034 696", "", "+", "\x00\xff", "+1 (415) 555-2671"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err == nil && (len(got) < 8 || got[0] != '+') {
			t.Fatalf("Normalize(%q) = %q without error", s, got)
		}
		_ = FromWAID(s)
	})
}
