package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/simulate"
	"github.com/wagate/wagate/internal/wa"
)

// openWindows has each contact write first (an inbound message webhook per number, as the provider posts it),
// and waits until wagate shows their 24-hour windows open, so that free-form messages to them are allowed.
func openWindows(t *testing.T, c *http.Client, base string, numbers []string) {
	t.Helper()
	for _, n := range numbers {
		body, err := simulate.Message(wa.ShapeCloud, simulate.MessageOptions{From: n, Text: "hola"})
		if err != nil {
			t.Fatal(err)
		}
		if a, err := postWebhook(c, base, body, authHeader); err != nil || !a.acked() {
			t.Fatalf("inbound message from %s: %v %v", n, a, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		open := map[string]bool{}
		if resp, err := c.Get(base + "/v1/conversations?limit=500"); err == nil {
			var page struct {
				Items []struct {
					WindowOpen bool `json:"window_open"`
					Contact    struct {
						Phone string `json:"phone"`
					} `json:"contact"`
				} `json:"items"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			for _, it := range page.Items {
				open[it.Contact.Phone] = it.WindowOpen
			}
		}
		all := true
		for _, n := range numbers {
			all = all && open[n]
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the windows of %v did not open", numbers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postRecipients are the numbers postMessages sends to.
func postRecipients() []string {
	out := make([]string, 17)
	for i := range out {
		out[i] = fmt.Sprintf("+346960000%02d", i)
	}
	return out
}
