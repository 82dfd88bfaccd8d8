package store

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// ErrBadCursor is returned for a pagination cursor that this store did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// keyCursor is a keyset position: a sort value and the id that breaks ties.
type keyCursor struct {
	at int64
	id string
}

func (c keyCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.at, 10) + "|" + c.id))
}

func parseKeyCursor(s string) (keyCursor, bool, error) {
	if s == "" {
		return keyCursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return keyCursor{}, false, ErrBadCursor
	}
	at, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return keyCursor{}, false, ErrBadCursor
	}
	return keyCursor{at: n, id: id}, true, nil
}
