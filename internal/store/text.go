package store

import (
	"strings"
	"unicode/utf8"
)

// TextArgs returns the query arguments with every string made storable as text on both databases: a NUL
// byte, which PostgreSQL refuses in text ("invalid byte sequence for encoding UTF8: 0x00"), and each invalid
// UTF-8 sequence become U+FFFD. Webhook bodies may carry "\u0000" in any text field (a file name, a message);
// the raw body, passed as []byte, is kept untouched. Both drivers apply it so that both store the same text.
// args is returned as is when nothing needs replacing.
func TextArgs(args []any) []any {
	var out []any
	for i, a := range args {
		s, ok := a.(string)
		if !ok || !needsCleaning(s) {
			continue
		}
		if out == nil {
			out = make([]any, len(args))
			copy(out, args)
		}
		out[i] = CleanText(s)
	}
	if out == nil {
		return args
	}
	return out
}

func needsCleaning(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }

// CleanText returns s with NUL bytes and invalid UTF-8 sequences replaced by U+FFFD.
func CleanText(s string) string {
	if !needsCleaning(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
