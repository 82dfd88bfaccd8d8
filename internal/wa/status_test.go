package wa

import "testing"

func TestAdvances_ForwardOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cur, next Status
		want      bool
	}{
		{StatusQueued, StatusSent, true},
		{StatusQueued, StatusAccepted, true},
		{StatusAccepted, StatusSent, true},
		{StatusSent, StatusAccepted, false},
		{StatusSent, StatusDelivered, true},
		{StatusSent, StatusRead, true},
		{StatusRead, StatusDelivered, false},
		{StatusRead, StatusSent, false},
		{StatusDelivered, StatusDelivered, false},
		{StatusFailed, StatusRead, false},
		{StatusRead, StatusFailed, true},
		{StatusSent, StatusDeleted, false},
		{StatusRead, StatusPlayed, true},
	}
	for _, c := range cases {
		if got := Advances(c.cur, c.next); got != c.want {
			t.Errorf("Advances(%s, %s) = %v, want %v", c.cur, c.next, got, c.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"sent", "delivered", "read", "failed", "deleted", "warning", "played"} {
		if _, err := ParseStatus(s); err != nil {
			t.Errorf("ParseStatus(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "queued", "accepted", "received", "bogus"} {
		if _, err := ParseStatus(s); err == nil {
			t.Errorf("ParseStatus(%q) should fail", s)
		}
	}
}
