package inbound_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/webhook"
)

// BenchmarkProcess measures durable ingest without HTTP: parse, commit and process, with many concurrent
// submitters so that group commit batches them, alternating inbound messages and receipts.
func BenchmarkProcess(b *testing.B) {
	for _, db := range databases {
		b.Run(db, func(b *testing.B) {
			bd := setup(b, db, demoChannels(), false)
			_ = bd
			var n atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := benchBody(i)
					hook, perr := webhook.Parse(body)
					ev := &store.Event{AuthChannels: []string{"default"}, Body: body}
					if _, err := bd.ing.Accept(context.Background(), ev, hook, perr); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReceive is BenchmarkProcess through the HTTP receiver on loopback: what one webhook costs end to end.
func BenchmarkReceive(b *testing.B) {
	bd := setup(b, "sqlite", demoChannels(), false)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := benchBody(i)
			resp, err := client.Post(bd.url+"/webhooks/whatsapp/default", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// benchBody is the i-th webhook of a benchmark: inbound text messages from a thousand senders, alternating with
// receipts for messages wagate does not know (parked).
func benchBody(i int64) []byte {
	if i%2 == 0 {
		return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"111"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"3469600%04d"}],"messages":[{"from":"3469600%04d","id":"wamid.B%d","timestamp":"1700000000","type":"text","text":{"body":"hola"}}]}}]}]}`, i%1000, i%1000, i))
	}
	return statusBody(fmt.Sprintf("wamid.S%d", i), "delivered", 1700000000)
}
