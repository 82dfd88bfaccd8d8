package wa

import "strings"

// Digits returns s with everything but ASCII digits removed.
func Digits(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// PhoneTail returns the last n digits of an E.164 number or wa_id, or "" when it has fewer.
func PhoneTail(phone string, n int) string {
	d := Digits(phone)
	if len(d) < n {
		return ""
	}
	return d[len(d)-n:]
}
