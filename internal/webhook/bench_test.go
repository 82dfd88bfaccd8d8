package webhook

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/wagate/wagate/internal/wa"
)

// benchBodies are the small bodies that make up most webhook traffic, from testdata/. They are compacted
// before the benchmark, as providers send them.
var benchBodies = []struct{ name, file string }{
	{"CloudText", "pywa_message_text.json"},          // a Cloud text message with its contact
	{"CloudStatus", "pywa_message_status_sent.json"}, // a Cloud status with conversation and pricing
	{"OnPremText", "onprem_text.json"},               // an On-Premise text message
}

// BenchmarkParse measures Parse (the fast path, for these bodies) on the common small bodies.
func BenchmarkParse(b *testing.B) {
	benchmarkParser(b, Parse)
}

// BenchmarkParseLenient measures the lenient parser alone on the same bodies: Parse before the fast path.
func BenchmarkParseLenient(b *testing.B) {
	benchmarkParser(b, parseLenient)
}

func benchmarkParser(b *testing.B, parse func([]byte) (wa.Webhook, error)) {
	for _, bb := range benchBodies {
		indented, err := os.ReadFile(filepath.Join("testdata", bb.file))
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, indented); err != nil {
			b.Fatal(err)
		}
		body := buf.Bytes()
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
