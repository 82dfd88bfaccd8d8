package health_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wagate/wagate/internal/health"
	"github.com/wagate/wagate/internal/provider/meta"
	"github.com/wagate/wagate/internal/provider/providertest"
)

func item(r health.Report, name string) health.Item {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return health.Item{Name: "missing " + name}
}

func TestCheck_MetaSubscriptionAndSecrets(t *testing.T) {
	t.Parallel()
	fake := providertest.New(t, providertest.Options{Kind: providertest.KindMeta, AccessToken: "tok"})
	p := meta.New(meta.Config{BaseURL: fake.URL(), PhoneNumberID: fake.PhoneNumberID(), WABAID: fake.WABAID(), AccessToken: "tok"})
	ch := health.Channel{Name: "default", Kind: "meta", WebhookURL: "https://wa.example.com/webhooks/whatsapp/default", AppSecret: true}
	r := health.Check(context.Background(), ch, p)
	if r.State != health.Live || !item(r, "webhook registered").OK || !item(r, "Meta app secret set").OK || !r.OK() {
		t.Fatalf("subscribed: %+v", r)
	}
	// Unsubscribe the app: no webhook would ever arrive.
	req, _ := http.NewRequest(http.MethodDelete, fake.URL()+"/v23.0/"+fake.WABAID()+"/subscribed_apps", nil)
	req.Header.Set("Authorization", "Bearer tok")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unsubscribe: %v %v", resp, err)
	}
	r = health.Check(context.Background(), health.Channel{Name: "default", Kind: "meta", WebhookURL: ch.WebhookURL}, p)
	if it := item(r, "webhook registered"); it.OK || it.Fix == "" {
		t.Fatalf("unsubscribed: %+v", it)
	}
	if it := item(r, "Meta app secret set"); it.OK || it.Fix == "" {
		t.Fatalf("no app secret: %+v", it)
	}
	if r.OK() {
		t.Fatal("report OK with problems")
	}
}
