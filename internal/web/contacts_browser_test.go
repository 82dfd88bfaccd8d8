package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/internal/web/webtest"
)

func TestBrowser_ContactsListDetailAndEdit(t *testing.T) {
	t.Parallel()
	inst := setup(t)
	const evil = `<script>document.title="owned"</script>Eve`
	postInbound(t, inst, "34600000011", evil, "wamid.contacts-1")
	postInbound(t, inst, "34600000012", "Bob Builder", "wamid.contacts-2")
	ctx := webtest.Tab(t, time.Minute)
	webtest.SignIn(t, ctx, inst.URL, "alex@example.com", "agent-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/contacts"),
		chromedp.WaitVisible(chromedp.CSS(`table.contacts-list`)),
	); err != nil {
		t.Fatal(err)
	}
	list := text(t, ctx, `table.contacts-list tbody`)
	if !strings.Contains(list, evil) || !strings.Contains(list, "+34600000011") || !strings.Contains(list, "Bob Builder") ||
		!strings.Contains(list, "default: open, 23 h left") {
		t.Fatalf("contacts list:\n%s", list)
	}
	if n := count(t, ctx, `main script`); n != 0 {
		t.Fatalf("the contact's name became %d script elements", n)
	}
	webtest.Screenshot(t, ctx, "contacts")

	// Search by name, then by number.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "bob"),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.button[href="/contacts"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if list := text(t, ctx, `table.contacts-list tbody`); !strings.Contains(list, "Bob Builder") || strings.Contains(list, "Eve") {
		t.Fatalf("search bob:\n%s", list)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/contacts?q=600000011"),
		chromedp.WaitVisible(chromedp.CSS(`table.contacts-list`)),
	); err != nil {
		t.Fatal(err)
	}
	if list := text(t, ctx, `table.contacts-list tbody`); !strings.Contains(list, "Eve") || strings.Contains(list, "Bob") {
		t.Fatalf("search by number:\n%s", list)
	}

	// The detail page shows the name as text, the window and the conversation; an agent edits the contact.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`table.contacts-list tbody a`)),
		chromedp.WaitVisible(chromedp.CSS(`form.contact-edit`)),
	); err != nil {
		t.Fatal(err)
	}
	if h := text(t, ctx, `h1.contact-name`); h != evil {
		t.Fatalf("contact heading: %q", h)
	}
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
	if err != nil || title == "owned" {
		t.Fatalf("title %q %v", title, err)
	}
	if conv := text(t, ctx, `table.contact-conversations`); !strings.Contains(conv, "default") || !strings.Contains(conv, "open, 23 h left") {
		t.Fatalf("conversations: %q", conv)
	}
	if n := count(t, ctx, `table.contact-conversations a[href^="/inbox/"]`); n != 1 {
		t.Fatalf("conversation links: %d", n)
	}
	webtest.Screenshot(t, ctx, "contact")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`form.contact-edit input[name="name"]`), "Eve Example"),
		chromedp.SetValue(chromedp.CSS(`form.contact-edit input[name="external_ref"]`), "CRM-42"),
		chromedp.Click(chromedp.CSS(`form.contact-edit button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice.saved`)),
	); err != nil {
		t.Fatal(err)
	}
	c, err := inst.Store.ContactGetByPhone(t.Context(), "+34600000011")
	if err != nil || c.Name != "Eve Example" || c.ExternalRef != "CRM-42" {
		t.Fatalf("after edit: %+v %v", c, err)
	}
	// The contact writes again under another profile name: the name given here stays, the profile name shows.
	postInbound(t, inst, "34600000011", "Eve New", "wamid.contacts-3")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/contacts/"+c.ID),
		chromedp.WaitVisible(chromedp.CSS(`form.contact-edit`)),
	); err != nil {
		t.Fatal(err)
	}
	if h, p := text(t, ctx, `h1.contact-name`), text(t, ctx, `dd.profile-name`); h != "Eve Example" || p != "Eve New" {
		t.Fatalf("after a new profile name: heading %q, profile name %q", h, p)
	}
	// The exact external reference finds the contact; another contact cannot take it.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/contacts?q=CRM-42"),
		chromedp.WaitVisible(chromedp.CSS(`table.contacts-list`)),
	); err != nil {
		t.Fatal(err)
	}
	if list := text(t, ctx, `table.contacts-list tbody`); !strings.Contains(list, "Eve Example") || !strings.Contains(list, "CRM-42") {
		t.Fatalf("search by reference:\n%s", list)
	}
	bob, err := inst.Store.ContactGetByPhone(t.Context(), "+34600000012")
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/contacts/"+bob.ID),
		chromedp.WaitVisible(chromedp.CSS(`form.contact-edit`)),
		chromedp.SetValue(chromedp.CSS(`form.contact-edit input[name="external_ref"]`), "CRM-42"),
		chromedp.Click(chromedp.CSS(`form.contact-edit button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.contact-detail p.error`)),
	); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, `.contact-detail p.error`); !strings.Contains(msg, "Another contact") {
		t.Fatalf("taken reference: %q", msg)
	}
	if bob, _ = inst.Store.ContactGet(t.Context(), bob.ID); bob.ExternalRef != "" {
		t.Fatalf("reference taken twice: %+v", bob)
	}
}
