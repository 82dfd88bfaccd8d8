package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/provider/providertest"
	"github.com/wagate/wagate/internal/server/servertest"
)

// TestReadReceipts_Setting marks a conversation read on a server whose channel sends read receipts (the
// default, and explicitly) and on one whose channel does not: only the first reach the provider.
func TestReadReceipts_Setting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, setting, want string
	}{{"default", "", "queued"}, {"on", "true", "queued"}, {"off", "false", "disabled"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := providertest.New(t, providertest.Options{Kind: providertest.Kind360Dialog, APIKey: "d360-read-key"})
			env := map[string]string{"WAGATE_PROVIDER": "360dialog", "WHATSAPP_API_KEY": "d360-read-key",
				"WAGATE_PROVIDER_BASE_URL": fake.URL(), "WAGATE_API_TOKEN": "api-token", "WAGATE_WEBHOOK_SECRET": "hook-secret"}
			if tc.setting != "" {
				env["WAGATE_READ_RECEIPTS"] = tc.setting
			}
			inst := servertest.Start(t, servertest.Listen(t), "sqlite", env)
			if got := inst.Config.Channels[0].SendsReadReceipts(); got != (tc.want == "queued") {
				t.Fatalf("SendsReadReceipts = %v", got)
			}
			id := "wamid.read-" + tc.name
			fake.AddInbound(id)
			body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{`+
				`"messaging_product":"whatsapp","contacts":[{"profile":{"name":"R"},"wa_id":"34600111222"}],`+
				`"messages":[{"from":"34600111222","id":%q,"timestamp":"%d","type":"text","text":{"body":"hola"}}]}}]}]}`, id, time.Now().Unix())
			req, _ := http.NewRequest("POST", inst.URL+"/webhooks/whatsapp/default?token=hook-secret", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("webhook: %d", resp.StatusCode)
			}
			var convs struct{ Items []struct{ ID string } }
			if code := call(t, inst.URL, "GET", "/v1/conversations?unread=true", "", &convs); code != 200 || len(convs.Items) != 1 {
				t.Fatalf("conversations: %d %+v", code, convs)
			}
			var read struct {
				UnreadCount int    `json:"unread_count"`
				ReadReceipt string `json:"read_receipt"`
			}
			if code := call(t, inst.URL, "POST", "/v1/conversations/"+convs.Items[0].ID+"/read", "", &read); code != 200 ||
				read.UnreadCount != 0 || read.ReadReceipt != tc.want {
				t.Fatalf("mark read: %d %+v, want read_receipt %q", code, read, tc.want)
			}
			if tc.want == "disabled" {
				// No job was enqueued: nothing can reach the provider later.
				if n, err := markReadJobs(inst); err != nil || n != 0 {
					t.Fatalf("mark-read jobs = %d, %v; want none", n, err)
				}
				if r := fake.Reads(); len(r) != 0 {
					t.Fatalf("provider got read marks %v", r)
				}
				return
			}
			deadline := time.Now().Add(15 * time.Second)
			for len(fake.Reads()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the read mark did not reach the provider")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r := fake.Reads(); len(r) != 1 || r[0] != id {
				t.Fatalf("provider reads = %v, want [%s]", r, id)
			}
			if n, err := markReadJobs(inst); err != nil || n != 1 {
				t.Fatalf("mark-read jobs = %d, %v; want 1", n, err)
			}
		})
	}
}

// markReadJobs counts the mark-read jobs ever enqueued.
func markReadJobs(inst *servertest.Instance) (int, error) {
	var n int
	err := inst.Store.Driver().Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM river_job WHERE kind = 'mark_read'`).Scan(&n)
	return n, err
}
