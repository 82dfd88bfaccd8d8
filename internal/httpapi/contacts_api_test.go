package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/store"
)

type contactJSON struct {
	ID, Phone, Name string
	ExternalRef     string `json:"external_ref"`
	Conversations   []struct {
		Channel    string
		WindowOpen bool `json:"window_open"`
	}
}

func TestContacts_CreateFindUpdate(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			inst := startClosed(t, db, nil)
			crm := createToken(t, inst.URL, "send,read")
			var c contactJSON
			resp := req(t, inst.URL, "POST", "/v1/contacts", crm.Token, `{"phone":"0034 696 24 73 55","name":"Ana García","external_ref":"client-17"}`, &c)
			if resp.StatusCode != 201 || c.Phone != "+34696247355" || c.ExternalRef != "client-17" || resp.Header.Get("Location") != "/v1/contacts/"+c.ID || len(c.Conversations) != 0 {
				t.Fatalf("create: %d %+v", resp.StatusCode, c)
			}
			var e errBody
			if resp := req(t, inst.URL, "POST", "/v1/contacts", crm.Token, `{"phone":"+34696247355"}`, &e); resp.StatusCode != 409 || e.Error.Code != "contact_exists" {
				t.Fatalf("same phone: %d %+v", resp.StatusCode, e)
			}
			if resp := req(t, inst.URL, "POST", "/v1/contacts", crm.Token, `{"phone":"+34600000001","external_ref":"client-17"}`, &e); resp.StatusCode != 409 || e.Error.Code != "external_ref_taken" {
				t.Fatalf("same ref: %d %+v", resp.StatusCode, e)
			}
			var details struct {
				Error struct {
					Code    string
					Details []struct{ Field string }
				}
			}
			if resp := req(t, inst.URL, "POST", "/v1/contacts", crm.Token, `{"phone":"12","name":"a\u0007"}`, &details); resp.StatusCode != 422 ||
				len(details.Error.Details) != 2 || details.Error.Details[0].Field != "phone" || details.Error.Details[1].Field != "name" {
				t.Fatalf("invalid: %d %+v", resp.StatusCode, details)
			}
			// Look-ups: by id, by reference (path and query), by search.
			var got contactJSON
			for _, path := range []string{"/v1/contacts/" + c.ID, "/v1/contacts/by-ref/client-17"} {
				if resp := req(t, inst.URL, "GET", path, crm.Token, "", &got); resp.StatusCode != 200 || got.ID != c.ID {
					t.Fatalf("%s: %d %+v", path, resp.StatusCode, got)
				}
			}
			if resp := req(t, inst.URL, "GET", "/v1/contacts/by-ref/client-99", crm.Token, "", &e); resp.StatusCode != 404 || e.Error.Code != "not_found" {
				t.Fatalf("unknown ref: %d", resp.StatusCode)
			}
			var page struct {
				Items []contactJSON
				Next  string `json:"next_cursor"`
			}
			for _, q := range []string{"external_ref=client-17", "q=garc", "q=" + url.QueryEscape("+34 696")} {
				page.Items = nil
				if resp := req(t, inst.URL, "GET", "/v1/contacts?"+q, crm.Token, "", &page); resp.StatusCode != 200 || len(page.Items) != 1 || page.Items[0].ID != c.ID {
					t.Fatalf("%s: %d %+v", q, resp.StatusCode, page)
				}
			}
			// An inbound message opens the window; the contact shows it per channel conversation.
			ctx := context.Background()
			err := inst.Store.InTx(ctx, func(tx store.Tx) error {
				cc, err := inst.Store.ContactResolve(ctx, tx, store.ContactInput{Phone: "+34696247355"})
				if err != nil {
					return err
				}
				conv, err := inst.Store.ConversationEnsure(ctx, tx, "default", cc.ID)
				if err != nil {
					return err
				}
				m := store.Message{Channel: "default", ConversationID: conv, ContactID: cc.ID, Direction: store.DirectionIn,
					ProviderID: "wamid.ct1", Type: "text", Text: "hola", ProviderTime: time.Now()}
				_, err = inst.Store.MessageInsert(ctx, tx, &m)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if req(t, inst.URL, "GET", "/v1/contacts/"+c.ID, crm.Token, "", &got); len(got.Conversations) != 1 || !got.Conversations[0].WindowOpen || got.Conversations[0].Channel != "default" {
				t.Fatalf("window: %+v", got)
			}
			// Update; null removes the reference.
			got = contactJSON{}
			if resp := req(t, inst.URL, "PATCH", "/v1/contacts/"+c.ID, crm.Token, `{"name":"Ana G.","external_ref":null}`, &got); resp.StatusCode != 200 || got.Name != "Ana G." || got.ExternalRef != "" {
				t.Fatalf("patch: %d %+v", resp.StatusCode, got)
			}
			for body, code := range map[string]string{`{}`: "validation_failed", `{"phone":"+1"}`: "validation_failed", `{"name":5}`: "validation_failed", `nope`: "invalid_json"} {
				e = errBody{}
				if resp := req(t, inst.URL, "PATCH", "/v1/contacts/"+c.ID, crm.Token, body, &e); resp.StatusCode/100 != 4 || e.Error.Code != code {
					t.Errorf("patch %s: %d %+v", body, resp.StatusCode, e)
				}
			}
			if resp := req(t, inst.URL, "PATCH", "/v1/contacts/nope", crm.Token, `{"name":"x"}`, nil); resp.StatusCode != 404 {
				t.Fatalf("patch unknown: %d", resp.StatusCode)
			}
		})
	}
}

func TestMessages_SearchFiltersAndMarkRead(t *testing.T) {
	t.Parallel()
	inst := startClosed(t, "sqlite", nil)
	crm := createToken(t, inst.URL, "send,read")
	conv := seed(t, inst.Store, 5)
	var page struct {
		Items []struct{ ID, Direction, Text string }
		Next  string `json:"next_cursor"`
		errBody
	}
	var texts []string
	path := "/v1/messages?direction=in&channel=default&limit=2"
	for path != "" {
		page.Items, page.Next = nil, ""
		if resp := req(t, inst.URL, "GET", path, crm.Token, "", &page); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %+v", path, resp.StatusCode, page.Error)
		}
		for _, m := range page.Items {
			texts = append(texts, m.Text)
		}
		path = ""
		if page.Next != "" {
			path = "/v1/messages?direction=in&channel=default&limit=2&cursor=" + page.Next
		}
	}
	if strings.Join(texts, ",") != "m4,m3,m2,m1,m0" {
		t.Fatalf("messages = %v", texts)
	}
	for q, want := range map[string]int{"channel=other": 0, "direction=out": 0, "status=received": 5, "conversation=" + conv: 5,
		"since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)): 0, "until=1": 0} {
		page.Items = nil
		if resp := req(t, inst.URL, "GET", "/v1/messages?"+q, crm.Token, "", &page); resp.StatusCode != 200 || len(page.Items) != want {
			t.Errorf("%s: %d %d, want %d", q, resp.StatusCode, len(page.Items), want)
		}
	}
	for q, code := range map[string]string{"status=weird": "invalid_filter", "direction=up": "invalid_filter", "since=yesterday": "invalid_time",
		"since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z": "invalid_time", "cursor=!!": "invalid_cursor", "limit=501": "invalid_limit"} {
		var e errBody
		if resp := req(t, inst.URL, "GET", "/v1/messages?"+q, crm.Token, "", &e); resp.StatusCode != 400 || e.Error.Code != code {
			t.Errorf("%s: %d %+v", q, resp.StatusCode, e)
		}
	}
	var convs struct{ Items []struct{ ID string } }
	if req(t, inst.URL, "GET", "/v1/conversations?unread=true&channel=default", crm.Token, "", &convs); len(convs.Items) != 1 {
		t.Fatalf("unread conversations: %+v", convs)
	}
	var read struct {
		UnreadCount int    `json:"unread_count"`
		ReadReceipt string `json:"read_receipt"`
	}
	if resp := req(t, inst.URL, "POST", "/v1/conversations/"+conv+"/read", crm.Token, "", &read); resp.StatusCode != 200 || read.UnreadCount != 0 || read.ReadReceipt != "queued" {
		t.Fatalf("mark read: %d %+v", resp.StatusCode, read)
	}
	convs.Items = nil
	if req(t, inst.URL, "GET", "/v1/conversations?unread=true", crm.Token, "", &convs); len(convs.Items) != 0 {
		t.Fatalf("still unread: %+v", convs)
	}
	if resp := req(t, inst.URL, "POST", "/v1/conversations/nope/read", crm.Token, "", nil); resp.StatusCode != 404 {
		t.Fatalf("unknown conversation: %d", resp.StatusCode)
	}
	var evs struct{ Items []struct{ ID string } }
	if resp := req(t, inst.URL, "GET", "/v1/events?channel=nope", crm.Token, "", &evs); resp.StatusCode != 200 || len(evs.Items) != 0 {
		t.Fatalf("events by channel: %d %+v", resp.StatusCode, evs)
	}
}
