package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// checkFastPath fails t when the fast path takes body but its result is not exactly (reflect.DeepEqual) what
// the lenient parser returns for it. It reports whether the fast path took body.
func checkFastPath(t *testing.T, body []byte) bool {
	t.Helper()
	fast, ok := parseFast(body)
	if !ok {
		return false
	}
	lenient, err := parseLenient(body)
	if err != nil {
		t.Fatalf("fast path took a body the lenient parser rejects (%v): %q", err, body)
	}
	if !reflect.DeepEqual(fast, lenient) {
		t.Fatalf("fast path and lenient parser differ on %q\nfast:    %s\nlenient: %s", body, dump(fast), dump(lenient))
	}
	return true
}

// dump prints v with pointers followed and raw JSON as text, for failure messages.
func dump(v any) string {
	var b strings.Builder
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeFor[json.RawMessage]():
			if v.IsNil() {
				b.WriteString("nil")
			} else {
				fmt.Fprintf(&b, "`%s`", v.Bytes())
			}
		case v.Kind() == reflect.Pointer:
			if v.IsNil() {
				b.WriteString("nil")
			} else {
				b.WriteString("&")
				walk(v.Elem())
			}
		case v.Kind() == reflect.Slice:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			b.WriteString("[")
			for i := range v.Len() {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(v.Index(i))
			}
			b.WriteString("]")
		case v.Kind() == reflect.Struct && v.Type().PkgPath() != "time":
			b.WriteString("{")
			for i := range v.NumField() {
				if v.Field(i).IsZero() {
					continue
				}
				fmt.Fprintf(&b, "%s:", v.Type().Field(i).Name)
				walk(v.Field(i))
				b.WriteString(" ")
			}
			b.WriteString("}")
		default:
			fmt.Fprintf(&b, "%#v", v.Interface())
		}
	}
	walk(reflect.ValueOf(v))
	return b.String()
}

// corpus returns every body the tests know, by name: testdata/, the pywa corpus, and the
// fuzz seeds, each also compacted as providers send them.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	bodies := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies["testdata/"+filepath.Base(f)] = b
	}
	pywa, err := filepath.Glob(filepath.Join(pywaFixtures, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pywa {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name, body := range cases {
			bodies["pywa/"+filepath.Base(f)+"/"+name] = body
		}
	}
	for i, s := range fuzzSeeds {
		bodies[fmt.Sprintf("seed/%d", i)] = []byte(s)
	}
	for name, b := range bodies {
		var c bytes.Buffer
		if json.Compact(&c, b) == nil && !bytes.Equal(c.Bytes(), b) {
			bodies[name+"/compact"] = c.Bytes()
		}
	}
	return bodies
}

// TestParseFast_SameAsLenient checks the fast path against the lenient parser on every known body.
func TestParseFast_SameAsLenient(t *testing.T) {
	t.Parallel()
	bodies := corpus(t)
	names := make([]string, 0, len(bodies))
	for name := range bodies {
		names = append(names, name)
	}
	sort.Strings(names)
	var declined []string
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if !checkFastPath(t, bodies[name]) {
				declined = append(declined, name)
			}
		})
	}
	t.Logf("fast path took %d of %d bodies; declined: %s", len(names)-len(declined), len(names),
		strings.Join(declined, " "))
}

// TestParseFast_Declines checks that the fast path leaves to the lenient parser what it cannot be sure of, and
// that Parse still gives the lenient result for those bodies.
func TestParseFast_Declines(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		``, ` `, `null`, `[]`, `{}`, `{"object":"x"}`, `{"entry":[1]}`, `{"entry":{}}`, `{"entry":[{"changes":[1]}]}`,
		`{"entry":[]} x`, `{"entry":[],}`, `{"entry":[]`, `{"messages":[01]}`, `{"messages":[1.]}`, `{"messages":["\x"]}`,
		`{"messages":["\u12"]}`, "{\"messages\":[\"\x01\"]}", `{"messages":[tru]}`, `{"messages":[],"messages":[]}`,
		`{"entry":[],"entry":[]}`, `{"entry":[{"changes":[{"value":{},"value":{}}]}]}`,
		`{"m\u0065ssages":[]}`, `{"entry":[{"changes":[{"value":{"metadata":{"phone_number_\u0069d":"1"}}}]}]}`,
		`{"messages":[` + strings.Repeat(`[`, maxFastDepth) + strings.Repeat(`]`, maxFastDepth) + `]}`,
	} {
		if _, ok := parseFast([]byte(body)); ok {
			t.Errorf("fast path took %q", body)
		}
		w, err := Parse([]byte(body))
		lw, lerr := parseLenient([]byte(body))
		if fmt.Sprint(err) != fmt.Sprint(lerr) || !reflect.DeepEqual(w, lw) {
			t.Errorf("Parse(%q) = %v, %v; lenient parser gives %v, %v", body, dump(w), err, dump(lw), lerr)
		}
	}
}

// TestParseFast_TakesCommonBodies checks that the bodies that make up most traffic do take the fast path.
func TestParseFast_TakesCommonBodies(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := parseFast(body); !ok {
			t.Errorf("%s: the fast path declined it", f)
		}
	}
	for _, body := range []string{
		cloudBody(`{"from":"1","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"caf\u00e9 \n"}}`),
		cloudBody(`{"from":"1","id":"wamid.2","timestamp":1700000000,"type":"image","image":{"id":"9","mime_type":"image/jpeg"},
			"context":{"from":"2","id":"wamid.0","forwarded":true}}`),
		onPremBody(`{"from":"1","id":"A","timestamp":"1518694235","type":"voice","voice":{"id":"v"}}`),
	} {
		if !checkFastPath(t, []byte(body)) {
			t.Errorf("the fast path declined %s", body)
		}
	}
}

// TestParseFast_Mutations checks the fast path against the lenient parser on variants of the testdata bodies:
// each value replaced by values of other JSON types, each key written with an escape sequence, and each member
// given a duplicate before and after it. These are the type mismatches and oddities the lenient rules are
// about, which random fuzzing rarely produces in a body that is still valid JSON.
func TestParseFast_Mutations(t *testing.T) {
	t.Parallel()
	replacements := []string{`null`, `1`, `-2.5e1`, `"1700000000"`, `"x"`, `""`, `"true"`, `true`, `{}`, `[]`,
		`[1,{}]`, `{"id":"i","body":"b"}`, `"\u00e9\ud800"`, "\"\xff\""}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var total, took int
	for _, f := range files {
		indented, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, indented); err != nil {
			t.Fatal(err)
		}
		body := c.Bytes()
		values, members := spans(t, body)
		variant := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
		var variants [][]byte
		for _, v := range values {
			for _, rep := range replacements {
				variants = append(variants, variant(body[:v[0]], []byte(rep), body[v[1]:]))
			}
		}
		for _, m := range members {
			key, member := m[0], m[1] // key: the quoted key; member: key, colon and value
			escaped := fmt.Sprintf(`"\u%04x%s`, body[key[0]+1], body[key[0]+2:member[1]])
			dup := variant(body[key[0]:key[1]], []byte(`:"dup"`))
			variants = append(variants,
				variant(body[:key[0]], []byte(escaped), body[member[1]:]),
				variant(body[:member[0]], dup, []byte(","), body[member[0]:]),
				variant(body[:member[1]], []byte(","), dup, body[member[1]:]))
		}
		for _, v := range variants {
			total++
			if checkFastPath(t, v) {
				took++
			}
		}
	}
	t.Logf("fast path took %d of %d variants", took, total)
}

// spans returns the byte ranges of every value in body, a compact JSON text, and of every object member as
// {key range, member range}.
func spans(t *testing.T, body []byte) (values [][2]int, members [][2][2]int) {
	t.Helper()
	r := reader{data: body}
	var walk func() bool
	walk = func() bool {
		start := r.pos
		var ok bool
		switch r.peek() {
		case '{':
			ok = r.members(true, func(key []byte) bool {
				keyStart := r.pos - len(key) - 3 // the quotes and the colon; body is compact
				if !walk() {
					return false
				}
				members = append(members, [2][2]int{{keyStart, keyStart + len(key) + 2}, {keyStart, r.pos}})
				return true
			})
		case '[':
			ok = r.array(walk)
		default:
			_, ok = r.value()
		}
		values = append(values, [2]int{start, r.pos})
		return ok
	}
	if !walk() {
		t.Fatalf("cannot walk %s", body)
	}
	return values, members
}

// TestReader_SameAsValid checks that the fast reader accepts exactly the JSON texts json.Valid accepts, on
// texts built around each byte value and around the edges of the number, string and literal grammars.
func TestReader_SameAsValid(t *testing.T) {
	t.Parallel()
	texts := []string{
		`0`, `-0`, `01`, `-`, `-a`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1e-2`, `1E5`, `1.5e+10`, `12a`, `0x1`, `+1`, `1 2`,
		`true`, `tru`, `truee`, `false`, `fals`, `null`, `nul`, `nullx`, `""`, `"`, `"\"`, `"\\"`, `"\u00e9"`,
		`"\u00e"`, `"\u00eg"`, `"\uD800"`, `{}`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`,
		`{"a\"b":1}`, `{1:2}`, `[]`, `[`, `[1,]`, `[,1]`, `[1 2]`, `[[]]`, `[{}]`, ` [ 1 , { "a" : [ ] } ] `, "\t{}\r\n",
		"\x00", "{}\x00", "\xef\xbb\xbf{}",
	}
	for b := range 256 {
		texts = append(texts, string([]byte{'"', byte(b), '"'}), string([]byte{'"', '\\', byte(b), '"'}),
			string([]byte{byte(b)}), string([]byte{'[', '1', byte(b), '2', ']'}),
			string([]byte{'{', '"', 'a', '"', byte(b), '1', '}'}))
	}
	for _, text := range texts {
		r := reader{data: []byte(text)}
		_, ok := r.value()
		if r.peek(); r.pos != len(r.data) {
			ok = false
		}
		if ok != json.Valid([]byte(text)) {
			t.Errorf("reader accepts %q: %v, json.Valid: %v", text, ok, !ok)
		}
	}
}
