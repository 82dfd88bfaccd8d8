package loadgen

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// RunID returns 8 random hex digits: a generator puts them in every id and marker it makes, so that what two
// runs post against one server never collides.
func RunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error since Go 1.24)
	return hex.EncodeToString(b)
}

// MarkerIndex finds marker in body and returns the request index written right after it: a generator that
// writes marker+strconv.Itoa(i) into request i finds i again in what reached a server, such as a fake
// provider's record of a send. false when body carries no marker followed by digits.
func MarkerIndex(body []byte, marker string) (int, bool) {
	k := bytes.Index(body, []byte(marker))
	if k < 0 {
		return 0, false
	}
	rest := body[k+len(marker):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	i, err := strconv.Atoi(string(rest[:n]))
	return i, err == nil
}
