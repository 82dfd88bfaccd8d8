package simulate

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// obj is a JSON object that keeps its keys in the order they were added, so that generated bodies read like
// the provider's (from, id, timestamp, type, payload) instead of in alphabetical order.
type obj []kv

// kv is one member of an obj.
type kv struct {
	k string
	v any
}

// set appends a member.
func (o *obj) set(k string, v any) { *o = append(*o, kv{k, v}) }

// setIf appends a string member when it is not empty.
func (o *obj) setIf(k, v string) {
	if v != "" {
		o.set(k, v)
	}
}

// MarshalJSON encodes the members in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(m.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes v compactly without HTML escaping (Meta sends <, > and & as they are).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// encode produces a final body: compact JSON with every non-ASCII character written as a \uXXXX escape
// (UTF-16 surrogate pairs above U+FFFF), the way Meta writes the bodies it signs. The receiver must verify the
// signature over these raw bytes, not over a re-encoding, and the simulated bodies exercise that.
func encode(v any) ([]byte, error) {
	raw, err := marshal(v)
	if err != nil {
		return nil, err
	}
	return escapeNonASCII(raw), nil
}

// escapeNonASCII rewrites every non-ASCII rune of a JSON text as \u escapes. In JSON produced by encoding/json
// non-ASCII bytes can only occur inside strings, where the escape means the same character.
func escapeNonASCII(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for len(raw) > 0 {
		c := raw[0]
		if c < utf8.RuneSelf {
			out = append(out, c)
			raw = raw[1:]
			continue
		}
		r, size := utf8.DecodeRune(raw)
		raw = raw[size:]
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			out = appendU(appendU(out, r1), r2)
		} else {
			out = appendU(out, r)
		}
	}
	return out
}

// appendU appends \uXXXX (lowercase hex) for a UTF-16 code unit.
func appendU(b []byte, r rune) []byte {
	s := strconv.FormatInt(int64(r), 16)
	b = append(b, '\\', 'u')
	for i := len(s); i < 4; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
