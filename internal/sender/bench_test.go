package sender_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkSendThroughput queues b.N messages through the API, then measures how fast the send queue delivers
// them to the fake provider (receipts off, pacing off).
func BenchmarkSendThroughput(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			s := setupB(b, db)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := 0; i < b.N; i++ {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					s.post(b, text(fmt.Sprintf("+346962%05d", i%50000), fmt.Sprintf("m%d", i)))
				}()
			}
			wg.Wait()
			enq := time.Since(start)
			sentAtEnq := s.fake.SentCount()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := s.fake.WaitSent(ctx, b.N); err != nil {
				b.Fatal(err)
			}
			total := time.Since(start)
			b.ReportMetric(float64(b.N)/total.Seconds(), "sends/s")
			b.ReportMetric(float64(b.N)/enq.Seconds(), "accepts/s")
			b.ReportMetric(float64(b.N-sentAtEnq)/(total-enq).Seconds(), "drain_sends/s")
		})
	}
}
