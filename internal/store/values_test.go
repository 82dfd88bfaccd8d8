package store

import "testing"

func TestPlaceholderLists(t *testing.T) {
	if got, want := valuesList(2, 3), "($1, $2, $3), ($4, $5, $6)"; got != want {
		t.Errorf("valuesList(2, 3) = %q, want %q", got, want)
	}
	if got, want := valuesList(1, 1), "($1)"; got != want {
		t.Errorf("valuesList(1, 1) = %q, want %q", got, want)
	}
	if got, want := inList(2, 3), "$2, $3, $4"; got != want {
		t.Errorf("inList(2, 3) = %q, want %q", got, want)
	}
	// Cached lists are keyed by kind as well as size.
	if got, want := inList(1, 2), "$1, $2"; got != want {
		t.Errorf("inList(1, 2) = %q, want %q", got, want)
	}
	if got, want := valuesList(1, 2), "($1, $2)"; got != want {
		t.Errorf("valuesList(1, 2) = %q, want %q", got, want)
	}
}
