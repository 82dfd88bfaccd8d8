package webhook

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/internal/wa"
)

// testSender is the wa_id and testSenderBSUID the user_id of the contact that cloudBody puts in every change.
const (
	testSender      = "972987654321"
	testSenderBSUID = "US.13491208655302741918"
)

// cloudBody wraps message objects in a Cloud "messages" change whose contact is testSender.
func cloudBody(messages ...string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"1234567890987654321","changes":[{"field":"messages",
	"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"972123456789","phone_number_id":"1122334455667"},
	"contacts":[{"profile":{"name":"Test Name"},"wa_id":"` + testSender + `","user_id":"` + testSenderBSUID + `"}],
	"messages":[` + strings.Join(messages, ",") + `]}}]}]}`
}

// onPremBody wraps message objects in an On-Premise body whose contact is testSender (without a BSUID).
func onPremBody(messages ...string) string {
	return `{"contacts":[{"profile":{"name":"Test Name"},"wa_id":"` + testSender + `"}],"messages":[` +
		strings.Join(messages, ",") + `]}`
}

// checkMessage compares got with want. Payload, Referral and Context.ReferredProduct are compared as compact
// JSON; Raw must be the source message exactly (as compact JSON).
func checkMessage(t *testing.T, src string, got, want wa.InboundMessage) {
	t.Helper()
	if g, w := compact(t, got.Raw), compact(t, []byte(src)); g != w {
		t.Errorf("Raw = %s\nwant  %s", g, w)
	}
	if g, w := compact(t, got.Payload), compact(t, want.Payload); g != w {
		t.Errorf("Payload = %s, want %s", g, w)
	}
	if g, w := compact(t, got.Referral), compact(t, want.Referral); g != w {
		t.Errorf("Referral = %s, want %s", g, w)
	}
	if got.Context != nil && want.Context != nil {
		if g, w := compact(t, got.Context.ReferredProduct), compact(t, want.Context.ReferredProduct); g != w {
			t.Errorf("ReferredProduct = %s, want %s", g, w)
		}
		gc, wc := *got.Context, *want.Context
		gc.ReferredProduct, wc.ReferredProduct = nil, nil
		got.Context, want.Context = &gc, &wc
	}
	got.Raw, got.Payload, got.Referral = nil, nil, nil
	want.Raw, want.Payload, want.Referral = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", describe(got), describe(want))
	}
}

// describe prints a message with its pointer fields dereferenced and raw JSON as text.
func describe(m wa.InboundMessage) string {
	s := fmt.Sprintf("{ID:%q From:%q FromUserID:%q Timestamp:%v Type:%q Text:%q Errors:%+v Payload:%s Referral:%s Raw:%s",
		m.ID, m.From, m.FromUserID, m.Timestamp, m.Type, m.Text, m.Errors, m.Payload, m.Referral, m.Raw)
	if m.Media != nil {
		s += fmt.Sprintf(" Media:%+v", *m.Media)
	}
	if m.Reaction != nil {
		s += fmt.Sprintf(" Reaction:%+v", *m.Reaction)
	}
	if m.Location != nil {
		s += fmt.Sprintf(" Location:%+v", *m.Location)
	}
	if m.Context != nil {
		s += fmt.Sprintf(" Context:%+v ReferredProduct:%s", *m.Context, m.Context.ReferredProduct)
	}
	return s + "}"
}

func TestParse_CloudMessageTypes(t *testing.T) {
	t.Parallel()
	ts := time.Unix(1697043223, 0).UTC()
	base := func(id, typ, text string) wa.InboundMessage {
		return wa.InboundMessage{ID: id, From: testSender, FromUserID: testSenderBSUID, Timestamp: ts, Type: typ, Text: text}
	}
	with := func(m wa.InboundMessage, f func(*wa.InboundMessage)) wa.InboundMessage { f(&m); return m }

	cases := []struct {
		name, msg string
		want      wa.InboundMessage
	}{
		{
			name: "text",
			msg:  `{"from":"972987654321","id":"wamid.text","timestamp":"1697043223","text":{"body":"Body Text"},"type":"text"}`,
			want: with(base("wamid.text", "text", "Body Text"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"body":"Body Text"}`)
			}),
		},
		{
			name: "image with caption and url",
			msg: `{"from":"972987654321","id":"wamid.img","timestamp":"1697043223","type":"image","image":{"caption":"look",
				"mime_type":"image/jpeg","sha256":"4654+8g=","id":"65463453","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=65463453"}}`,
			want: with(base("wamid.img", "image", "look"), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "65463453", MimeType: "image/jpeg", SHA256: "4654+8g=", Caption: "look",
					URL: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=65463453"}
				m.Payload = []byte(`{"caption":"look","mime_type":"image/jpeg","sha256":"4654+8g=","id":"65463453","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=65463453"}`)
			}),
		},
		{
			name: "image without caption",
			msg:  `{"from":"972987654321","id":"wamid.img2","timestamp":"1697043223","type":"image","image":{"mime_type":"image/jpeg","sha256":"x","id":"1"}}`,
			want: with(base("wamid.img2", "image", ""), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "1", MimeType: "image/jpeg", SHA256: "x"}
				m.Payload = []byte(`{"mime_type":"image/jpeg","sha256":"x","id":"1"}`)
			}),
		},
		{
			name: "video forwarded",
			msg: `{"context":{"forwarded":true},"from":"972987654321","id":"wamid.vid","timestamp":"1697043223","type":"video",
				"video":{"caption":"caption","mime_type":"video/mp4","sha256":"Jh+2","id":"765756756"}}`,
			want: with(base("wamid.vid", "video", "caption"), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "765756756", MimeType: "video/mp4", SHA256: "Jh+2", Caption: "caption"}
				m.Context = &wa.MessageContext{Forwarded: true}
				m.Payload = []byte(`{"caption":"caption","mime_type":"video/mp4","sha256":"Jh+2","id":"765756756"}`)
			}),
		},
		{
			name: "document",
			msg: `{"from":"972987654321","id":"wamid.doc","timestamp":"1697043223","type":"document",
				"document":{"caption":"the file","filename":"filename.pdf","mime_type":"application/pdf","sha256":"grw=","id":"42"}}`,
			want: with(base("wamid.doc", "document", "the file"), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "42", MimeType: "application/pdf", SHA256: "grw=", Filename: "filename.pdf", Caption: "the file"}
				m.Payload = []byte(`{"caption":"the file","filename":"filename.pdf","mime_type":"application/pdf","sha256":"grw=","id":"42"}`)
			}),
		},
		{
			name: "audio",
			msg: `{"from":"972987654321","id":"wamid.aud","timestamp":"1697043223","type":"audio",
				"audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"E3d=","id":"43","voice":false}}`,
			want: with(base("wamid.aud", "audio", ""), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "43", MimeType: "audio/ogg; codecs=opus", SHA256: "E3d="}
				m.Payload = []byte(`{"mime_type":"audio/ogg; codecs=opus","sha256":"E3d=","id":"43","voice":false}`)
			}),
		},
		{
			name: "audio voice note",
			msg: `{"from":"972987654321","id":"wamid.voice","timestamp":"1697043223","type":"audio",
				"audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"m04=","id":"44","voice":true}}`,
			want: with(base("wamid.voice", "audio", ""), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "44", MimeType: "audio/ogg; codecs=opus", SHA256: "m04=", Voice: true}
				m.Payload = []byte(`{"mime_type":"audio/ogg; codecs=opus","sha256":"m04=","id":"44","voice":true}`)
			}),
		},
		{
			name: "animated sticker",
			msg: `{"from":"972987654321","id":"wamid.stk","timestamp":"1697043223","type":"sticker",
				"sticker":{"mime_type":"image/webp","sha256":"Hcw=","id":"45","animated":true}}`,
			want: with(base("wamid.stk", "sticker", ""), func(m *wa.InboundMessage) {
				m.Media = &wa.Media{ID: "45", MimeType: "image/webp", SHA256: "Hcw=", Animated: true}
				m.Payload = []byte(`{"mime_type":"image/webp","sha256":"Hcw=","id":"45","animated":true}`)
			}),
		},
		{
			name: "location with name",
			msg: `{"from":"972987654321","id":"wamid.loc","timestamp":"1697043223","type":"location",
				"location":{"latitude":37.4611978,"longitude":-122.2164385,"name":"Facebook HQ","address":"1 Hacker Way, Menlo Park, CA 94025","url":"https://maps.google.com/?cid=2"}}`,
			want: with(base("wamid.loc", "location", "Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025"), func(m *wa.InboundMessage) {
				m.Location = &wa.Location{Latitude: 37.4611978, Longitude: -122.2164385, Name: "Facebook HQ",
					Address: "1 Hacker Way, Menlo Park, CA 94025", URL: "https://maps.google.com/?cid=2"}
				m.Payload = []byte(`{"latitude":37.4611978,"longitude":-122.2164385,"name":"Facebook HQ","address":"1 Hacker Way, Menlo Park, CA 94025","url":"https://maps.google.com/?cid=2"}`)
			}),
		},
		{
			name: "current location",
			msg:  `{"from":"972987654321","id":"wamid.loc2","timestamp":"1697043223","type":"location","location":{"latitude":12.25089,"longitude":43.90539}}`,
			want: with(base("wamid.loc2", "location", "12.25089,43.90539"), func(m *wa.InboundMessage) {
				m.Location = &wa.Location{Latitude: 12.25089, Longitude: 43.90539}
				m.Payload = []byte(`{"latitude":12.25089,"longitude":43.90539}`)
			}),
		},
		{
			name: "contacts",
			msg: `{"from":"972987654321","id":"wamid.vcard","timestamp":"1697043223","type":"contacts","contacts":[
				{"name":{"first_name":"Chandler","last_name":"Bing","formatted_name":"Chandler Bing"},"phones":[{"phone":"+1 555-555-5555","wa_id":"15555555555","type":"CELL"}]},
				{"name":{"first_name":"Monica","last_name":"Geller"}}]}`,
			want: with(base("wamid.vcard", "contacts", "Chandler Bing, Monica Geller"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`[{"name":{"first_name":"Chandler","last_name":"Bing","formatted_name":"Chandler Bing"},"phones":[{"phone":"+1 555-555-5555","wa_id":"15555555555","type":"CELL"}]},{"name":{"first_name":"Monica","last_name":"Geller"}}]`)
			}),
		},
		{
			name: "interactive button reply",
			msg: `{"context":{"from":"1122334455667","id":"wamid.q"},"from":"972987654321","id":"wamid.br","timestamp":"1697043223",
				"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"callback_data","title":"Yes"}}}`,
			want: with(base("wamid.br", "interactive", "Yes"), func(m *wa.InboundMessage) {
				m.Context = &wa.MessageContext{MessageID: "wamid.q", From: "1122334455667"}
				m.Payload = []byte(`{"type":"button_reply","button_reply":{"id":"callback_data","title":"Yes"}}`)
			}),
		},
		{
			name: "interactive list reply",
			msg: `{"from":"972987654321","id":"wamid.lr","timestamp":"1697043223","type":"interactive",
				"interactive":{"type":"list_reply","list_reply":{"id":"row1","title":"Row one","description":"first"}}}`,
			want: with(base("wamid.lr", "interactive", "Row one"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"type":"list_reply","list_reply":{"id":"row1","title":"Row one","description":"first"}}`)
			}),
		},
		{
			name: "interactive flow reply",
			msg: `{"from":"972987654321","id":"wamid.nfm","timestamp":"1697043223","type":"interactive",
				"interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{\"flow_token\":\"AQ\"}","body":"Sent","name":"flow"}}}`,
			want: with(base("wamid.nfm", "interactive", "Sent"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"type":"nfm_reply","nfm_reply":{"response_json":"{\"flow_token\":\"AQ\"}","body":"Sent","name":"flow"}}`)
			}),
		},
		{
			name: "interactive of an unknown kind",
			msg: `{"from":"972987654321","id":"wamid.cpr","timestamp":"1697043223","type":"interactive",
				"interactive":{"type":"call_permission_reply","call_permission_reply":{"response":"accept"}}}`,
			want: with(base("wamid.cpr", "interactive", ""), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"type":"call_permission_reply","call_permission_reply":{"response":"accept"}}`)
			}),
		},
		{
			name: "template quick reply button",
			msg: `{"context":{"from":"972123456789","id":"wamid.tpl"},"from":"972987654321","id":"wamid.btn","timestamp":"1697043223",
				"type":"button","button":{"payload":"callback_data","text":"Stop promotions"}}`,
			want: with(base("wamid.btn", "button", "Stop promotions"), func(m *wa.InboundMessage) {
				m.Context = &wa.MessageContext{MessageID: "wamid.tpl", From: "972123456789"}
				m.Payload = []byte(`{"payload":"callback_data","text":"Stop promotions"}`)
			}),
		},
		{
			name: "reaction",
			msg:  `{"from":"972987654321","id":"wamid.re","timestamp":"1697043223","type":"reaction","reaction":{"message_id":"wamid.yzx=","emoji":"😮"}}`,
			want: with(base("wamid.re", "reaction", "😮"), func(m *wa.InboundMessage) {
				m.Reaction = &wa.Reaction{MessageID: "wamid.yzx=", Emoji: "😮"}
				m.Payload = []byte(`{"message_id":"wamid.yzx=","emoji":"😮"}`)
			}),
		},
		{
			name: "reaction removed",
			msg:  `{"from":"972987654321","id":"wamid.unre","timestamp":"1697043223","type":"reaction","reaction":{"message_id":"wamid.yzx="}}`,
			want: with(base("wamid.unre", "reaction", ""), func(m *wa.InboundMessage) {
				m.Reaction = &wa.Reaction{MessageID: "wamid.yzx="}
				m.Payload = []byte(`{"message_id":"wamid.yzx="}`)
			}),
		},
		{
			name: "order without text",
			msg: `{"from":"972987654321","id":"wamid.ord","timestamp":"1697043223","type":"order","order":{"catalog_id":"354160437058781","text":"",
				"product_items":[{"product_retailer_id":"HAMBURGER","quantity":3,"item_price":30,"currency":"ILS"},{"product_retailer_id":"SODA","quantity":2,"item_price":10,"currency":"ILS"}]}}`,
			want: with(base("wamid.ord", "order", "Order: 2 items"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"catalog_id":"354160437058781","text":"","product_items":[{"product_retailer_id":"HAMBURGER","quantity":3,"item_price":30,"currency":"ILS"},{"product_retailer_id":"SODA","quantity":2,"item_price":10,"currency":"ILS"}]}`)
			}),
		},
		{
			name: "order with text",
			msg: `{"from":"972987654321","id":"wamid.ord2","timestamp":"1697043223","type":"order",
				"order":{"catalog_id":"1","text":"no onions","product_items":[{"product_retailer_id":"X","quantity":1,"item_price":1,"currency":"EUR"}]}}`,
			want: with(base("wamid.ord2", "order", "no onions"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"catalog_id":"1","text":"no onions","product_items":[{"product_retailer_id":"X","quantity":1,"item_price":1,"currency":"EUR"}]}`)
			}),
		},
		{
			name: "order of one item",
			msg:  `{"from":"972987654321","id":"wamid.ord3","timestamp":"1697043223","type":"order","order":{"catalog_id":"1","product_items":[{"product_retailer_id":"X","quantity":1}]}}`,
			want: with(base("wamid.ord3", "order", "Order: 1 item"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"catalog_id":"1","product_items":[{"product_retailer_id":"X","quantity":1}]}`)
			}),
		},
		{
			name: "system user changed number",
			msg: `{"from":"972987654321","id":"wamid.sys","timestamp":"1697043223","type":"system",
				"system":{"body":"User A changed from 972987654321 to 972912345678","wa_id":"972912345678","type":"user_changed_number"}}`,
			want: with(base("wamid.sys", "system", "User A changed from 972987654321 to 972912345678"), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"body":"User A changed from 972987654321 to 972912345678","wa_id":"972912345678","type":"user_changed_number"}`)
			}),
		},
		{
			name: "unsupported with type",
			msg: `{"from":"972987654321","id":"wamid.uns","timestamp":"1697043223","type":"unsupported","unsupported":{"type":"poll_creation"},
				"errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}]}`,
			want: with(base("wamid.uns", "unsupported", ""), func(m *wa.InboundMessage) {
				m.Errors = []wa.ProviderError{{Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
					Details: "Message type is currently not supported."}}
				m.Payload = []byte(`{"type":"poll_creation"}`)
			}),
		},
		{
			name: "unsupported without object",
			msg: `{"from":"972987654321","id":"wamid.uns2","timestamp":"1697043223","type":"unsupported",
				"errors":[{"code":131051,"title":"Message type unknown"}]}`,
			want: with(base("wamid.uns2", "unsupported", ""), func(m *wa.InboundMessage) {
				m.Errors = []wa.ProviderError{{Code: 131051, Title: "Message type unknown"}}
			}),
		},
		{
			name: "type from the future",
			msg:  `{"from":"972987654321","id":"wamid.poll","timestamp":"1697043223","type":"poll","poll":{"question":"Lunch?","options":["a","b"]},"extra":1}`,
			want: with(base("wamid.poll", "poll", ""), func(m *wa.InboundMessage) {
				m.Payload = []byte(`{"question":"Lunch?","options":["a","b"]}`)
			}),
		},
		{
			name: "reply",
			msg:  `{"context":{"from":"972123456789","id":"wamid.orig=="},"from":"972987654321","id":"wamid.reply","timestamp":"1697043223","text":{"body":"replied text"},"type":"text"}`,
			want: with(base("wamid.reply", "text", "replied text"), func(m *wa.InboundMessage) {
				m.Context = &wa.MessageContext{MessageID: "wamid.orig==", From: "972123456789"}
				m.Payload = []byte(`{"body":"replied text"}`)
			}),
		},
		{
			name: "frequently forwarded",
			msg:  `{"context":{"frequently_forwarded":true},"from":"972987654321","id":"wamid.ff","timestamp":"1697043223","text":{"body":"chain letter"},"type":"text"}`,
			want: with(base("wamid.ff", "text", "chain letter"), func(m *wa.InboundMessage) {
				m.Context = &wa.MessageContext{FrequentlyForwarded: true}
				m.Payload = []byte(`{"body":"chain letter"}`)
			}),
		},
		{
			name: "product enquiry",
			msg: `{"context":{"from":"972123456789","id":"wamid.cat","referred_product":{"catalog_id":"C1","product_retailer_id":"P1"}},
				"from":"972987654321","id":"wamid.pe","timestamp":"1697043223","text":{"body":"Is it in stock?"},"type":"text"}`,
			want: with(base("wamid.pe", "text", "Is it in stock?"), func(m *wa.InboundMessage) {
				m.Context = &wa.MessageContext{MessageID: "wamid.cat", From: "972123456789",
					ReferredProduct: []byte(`{"catalog_id":"C1","product_retailer_id":"P1"}`)}
				m.Payload = []byte(`{"body":"Is it in stock?"}`)
			}),
		},
		{
			name: "referral from an ad",
			msg: `{"referral":{"source_url":"https://fb.me/x","source_id":"ADID","source_type":"ad","headline":"Sale","body":"50% off",
				"media_type":"image","image_url":"https://img","thumbnail_url":"https://thumb","ctwa_clid":"CLID"},
				"from":"972987654321","id":"wamid.ref","timestamp":"1697043223","type":"text","text":{"body":"Tell me more"}}`,
			want: with(base("wamid.ref", "text", "Tell me more"), func(m *wa.InboundMessage) {
				m.Referral = []byte(`{"source_url":"https://fb.me/x","source_id":"ADID","source_type":"ad","headline":"Sale","body":"50% off","media_type":"image","image_url":"https://img","thumbnail_url":"https://thumb","ctwa_clid":"CLID"}`)
				m.Payload = []byte(`{"body":"Tell me more"}`)
			}),
		},
		{
			name: "numeric timestamp and explicit from_user_id",
			msg:  `{"from":"972987654321","from_user_id":"US.999","id":"wamid.num","timestamp":1697043223,"type":"text","text":{"body":"x"}}`,
			want: with(base("wamid.num", "text", "x"), func(m *wa.InboundMessage) {
				m.FromUserID = "US.999"
				m.Payload = []byte(`{"body":"x"}`)
			}),
		},
		{
			name: "no timestamp, sender not among contacts",
			msg:  `{"from":"15550009999","id":"wamid.nots","type":"text","text":{"body":"x"}}`,
			want: wa.InboundMessage{ID: "wamid.nots", From: "15550009999", Type: "text", Text: "x", Payload: []byte(`{"body":"x"}`)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := mustParse(t, cloudBody(c.msg))
			msgs := w.Changes[0].Messages
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			checkMessage(t, c.msg, msgs[0], c.want)
		})
	}
}

func TestParse_OnPremiseMessageTypes(t *testing.T) {
	t.Parallel()
	ts := time.Unix(1518694236, 0).UTC()
	cases := []struct {
		name, msg string
		want      wa.InboundMessage
	}{
		{
			name: "voice",
			msg: `{"from":"972987654321","id":"ABGGFlA5Fpa1","timestamp":"1518694236","type":"voice",
				"voice":{"file":"/usr/local/wamedia/x","id":"463eb7ec","mime_type":"audio/ogg; codecs=opus","sha256":"fa9e"}}`,
			want: wa.InboundMessage{ID: "ABGGFlA5Fpa1", From: testSender, Timestamp: ts, Type: "voice",
				Media:   &wa.Media{ID: "463eb7ec", MimeType: "audio/ogg; codecs=opus", SHA256: "fa9e", Voice: true},
				Payload: []byte(`{"file":"/usr/local/wamedia/x","id":"463eb7ec","mime_type":"audio/ogg; codecs=opus","sha256":"fa9e"}`)},
		},
		{
			name: "image without url",
			msg: `{"from":"972987654321","id":"ABGGFlA5Fpa2","timestamp":"1518694236","type":"image",
				"image":{"id":"b1c68f38","mime_type":"image/jpeg","sha256":"29ed","caption":"Check out my new phone!"}}`,
			want: wa.InboundMessage{ID: "ABGGFlA5Fpa2", From: testSender, Timestamp: ts, Type: "image", Text: "Check out my new phone!",
				Media:   &wa.Media{ID: "b1c68f38", MimeType: "image/jpeg", SHA256: "29ed", Caption: "Check out my new phone!"},
				Payload: []byte(`{"id":"b1c68f38","mime_type":"image/jpeg","sha256":"29ed","caption":"Check out my new phone!"}`)},
		},
		{
			name: "system customer changed number",
			msg: `{"from":"972987654321","id":"ABGGFlA5Fpa3","timestamp":"1518694236","type":"system",
				"system":{"body":"User A changed from 972987654321 to 972912345678","new_wa_id":"972912345678","type":"customer_changed_number"}}`,
			want: wa.InboundMessage{ID: "ABGGFlA5Fpa3", From: testSender, Timestamp: ts, Type: "system",
				Text:    "User A changed from 972987654321 to 972912345678",
				Payload: []byte(`{"body":"User A changed from 972987654321 to 972912345678","new_wa_id":"972912345678","type":"customer_changed_number"}`)},
		},
		{
			name: "unknown with On-Premise errors",
			msg: `{"from":"972987654321","id":"ABGGFlA5Fpa4","timestamp":"1518694236","type":"unknown",
				"errors":[{"code":501,"details":"Message type is not currently supported","title":"Unknown message type"}]}`,
			want: wa.InboundMessage{ID: "ABGGFlA5Fpa4", From: testSender, Timestamp: ts, Type: "unknown",
				Errors: []wa.ProviderError{{Code: 501, Title: "Unknown message type", Details: "Message type is not currently supported"}}},
		},
		{
			name: "text with identity",
			msg: `{"from":"972987654321","id":"ABGGFlA5Fpa5","timestamp":"1518694236","type":"text","text":{"body":"hi"},
				"identity":{"acknowledged":true,"created_timestamp":1518694236,"hash":"Sjvjlx8G6Z0="}}`,
			want: wa.InboundMessage{ID: "ABGGFlA5Fpa5", From: testSender, Timestamp: ts, Type: "text", Text: "hi",
				Payload: []byte(`{"body":"hi"}`)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := mustParse(t, onPremBody(c.msg))
			if w.Shape != wa.ShapeOnPremise {
				t.Fatalf("shape = %q", w.Shape)
			}
			msgs := w.Changes[0].Messages
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			checkMessage(t, c.msg, msgs[0], c.want)
		})
	}
}

func TestParse_CloudBSUIDOnly(t *testing.T) {
	t.Parallel()
	w, err := Parse(readTestdata(t, "cloud_bsuid.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := w.Changes[0]
	wantContact := wa.Contact{UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830",
		Name: "Hidden", Username: "@hidden"}
	if len(c.Contacts) != 1 || c.Contacts[0] != wantContact {
		t.Errorf("contacts = %+v", c.Contacts)
	}
	if len(c.Messages) != 1 {
		t.Fatalf("messages = %+v", c.Messages)
	}
	m := c.Messages[0]
	if m.From != "" || m.FromUserID != "US.13491208655302741918" || m.Text != "no number here" ||
		!m.Timestamp.Equal(time.Unix(1775000000, 0)) {
		t.Errorf("message = %+v", m)
	}
}

func TestParse_SenderUserIDAmbiguity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, contacts, msg, want string
	}{
		{"number hidden, one contact without wa_id", `[{"wa_id":"1","user_id":"US.A"},{"user_id":"US.B"}]`, `{"id":"m"}`, "US.B"},
		{"number hidden, two contacts without wa_id", `[{"user_id":"US.A"},{"user_id":"US.B"}]`, `{"id":"m"}`, ""},
		{"number hidden, only contact has a wa_id", `[{"wa_id":"1","user_id":"US.A"}]`, `{"id":"m"}`, "US.A"},
		{"from matches wa_id", `[{"wa_id":"1","user_id":"US.A"},{"wa_id":"2","user_id":"US.B"}]`, `{"id":"m","from":"2"}`, "US.B"},
		{"from matches wa_id by digits", `[{"wa_id":"+49 151","user_id":"US.A"}]`, `{"id":"m","from":"49151"}`, "US.A"},
		{"from matches nobody", `[{"wa_id":"1","user_id":"US.A"}]`, `{"id":"m","from":"3"}`, ""},
		{"top-level username", `[{"user_id":"US.A","username":"@a"}]`, `{"id":"m"}`, "US.A"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := mustParse(t, `{"contacts":`+c.contacts+`,"messages":[`+c.msg+`]}`)
			if got := w.Changes[0].Messages[0].FromUserID; got != c.want {
				t.Errorf("FromUserID = %q, want %q", got, c.want)
			}
		})
	}
	w := mustParse(t, `{"contacts":[{"user_id":"US.A","username":"@a"}]}`)
	if got := w.Changes[0].Contacts[0].Username; got != "@a" {
		t.Errorf("top-level username = %q", got)
	}
}

func TestParse_BadMessageDoesNotFailBatch(t *testing.T) {
	t.Parallel()
	good1 := `{"from":"972987654321","id":"wamid.good1","timestamp":"1697043223","type":"text","text":{"body":"first"}}`
	bad := `{"from":["x"],"id":"wamid.bad","timestamp":{"at":1},"type":"text","text":"not an object","context":"zz",
		"errors":{"code":1},"referral":null,"image":7}`
	badTypes := `{"id":12345,"type":"image","image":{"id":false,"caption":["c"],"voice":"yes","mime_type":null},"timestamp":"soon"}`
	notObject := `42`
	good2 := `{"from":"972987654321","id":"wamid.good2","timestamp":"1697043224","type":"text","text":{"body":"second"}}`
	w := mustParse(t, cloudBody(good1, bad, badTypes, notObject, good2))
	msgs := w.Changes[0].Messages
	if len(msgs) != 5 {
		t.Fatalf("got %d messages, want 5", len(msgs))
	}
	if msgs[0].Text != "first" || msgs[4].Text != "second" || msgs[4].ID != "wamid.good2" {
		t.Errorf("good messages damaged: %+v / %+v", msgs[0], msgs[4])
	}
	b := msgs[1]
	if b.ID != "wamid.bad" || b.Type != "text" || b.From != "" || !b.Timestamp.IsZero() || b.Text != "" ||
		b.Context != nil || b.Errors != nil || b.Referral != nil || compact(t, b.Payload) != `"not an object"` {
		t.Errorf("bad message = %s", describe(b))
	}
	bt := msgs[2]
	if bt.ID != "12345" || bt.Type != "image" || bt.Media == nil || bt.Media.ID != "" || bt.Media.Caption != "" ||
		bt.Media.Voice || !bt.Timestamp.IsZero() {
		t.Errorf("badly typed message = %s", describe(bt))
	}
	for i, src := range []string{good1, bad, badTypes, notObject, good2} {
		if compact(t, msgs[i].Raw) != compact(t, []byte(src)) {
			t.Errorf("message %d Raw = %s", i, msgs[i].Raw)
		}
	}
	if n := msgs[3]; n.ID != "" || n.Type != "" || string(n.Raw) != "42" {
		t.Errorf("non-object message = %s", describe(n))
	}
}

func TestParse_Receipts(t *testing.T) {
	t.Parallel()
	body := `{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"PN"},"statuses":[
		{"id":"wamid.s","status":"sent","timestamp":"1698266945","recipient_id":"972987654321","recipient_user_id":"US.1",
		 "conversation":{"id":"c1","expiration_timestamp":"1698339900","origin":{"type":"service"}},
		 "pricing":{"billable":true,"pricing_model":"PMP","category":"service","type":"free_customer_service"}},
		{"id":"wamid.f","status":"failed","timestamp":1689380458,"recipient_id":"972987654321","errors":[{"code":131026,
		 "title":"Message undeliverable","message":"Message undeliverable","error_data":{"details":"Receiver is incapable"},
		 "href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]},
		{"id":"wamid.x","status":"sparkling","recipient_id":"972987654321"},
		{"id":"wamid.t","status":7,"timestamp":"x"},
		"garbage"
	]}}]}]}`
	w := mustParse(t, body)
	sts := w.Changes[0].Statuses
	if len(sts) != 5 {
		t.Fatalf("got %d statuses, want 5", len(sts))
	}
	s := sts[0]
	if s.MessageID != "wamid.s" || s.Status != wa.StatusSent || !s.Timestamp.Equal(time.Unix(1698266945, 0)) ||
		s.Timestamp.Location() != time.UTC || s.RecipientID != "972987654321" || s.RecipientUserID != "US.1" ||
		compact(t, s.Conversation) != `{"id":"c1","expiration_timestamp":"1698339900","origin":{"type":"service"}}` ||
		compact(t, s.Pricing) != `{"billable":true,"pricing_model":"PMP","category":"service","type":"free_customer_service"}` {
		t.Errorf("sent = %+v", s)
	}
	f := sts[1]
	wantErr := wa.ProviderError{Code: 131026, Title: "Message undeliverable", Message: "Message undeliverable",
		Details: "Receiver is incapable", Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}
	if f.Status != wa.StatusFailed || len(f.Errors) != 1 || f.Errors[0] != wantErr || f.Conversation != nil || f.Pricing != nil {
		t.Errorf("failed = %+v", f)
	}
	if u := sts[2]; u.Status != "sparkling" || u.Status.Valid() || !u.Timestamp.IsZero() {
		t.Errorf("unknown status = %+v", u)
	}
	if u := sts[3]; u.MessageID != "wamid.t" || u.Status != "7" || !u.Timestamp.IsZero() {
		t.Errorf("numeric status = %+v", u)
	}
	if g := sts[4]; g.MessageID != "" || string(g.Raw) != `"garbage"` {
		t.Errorf("non-object status = %+v", g)
	}
}

func TestParse_ChangeLevelErrorsWithMessage(t *testing.T) {
	t.Parallel()
	w, err := Parse(readTestdata(t, "pywa_message_interactive_message_with_err.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := w.Changes[0]
	if len(c.Messages) != 1 || c.Messages[0].Type != "interactive" || c.Messages[0].Payload != nil {
		t.Errorf("messages = %+v", c.Messages)
	}
	want := wa.ProviderError{Code: 131000, Title: "Something went wrong", Message: "Something went wrong",
		Details: "Unsupported webhook payload"}
	if len(c.Errors) != 1 || c.Errors[0] != want {
		t.Errorf("errors = %+v", c.Errors)
	}
}

func TestTimestamps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw  string
		want int64 // 0 means the zero time
	}{
		{`"1697043223"`, 1697043223},
		{`1697043223`, 1697043223},
		{`1697043223.9`, 1697043223},
		{`"1.697043223e9"`, 1697043223},
		{` "1697043223" `, 1697043223},
		{``, 0},
		{`null`, 0},
		{`""`, 0},
		{`"soon"`, 0},
		{`true`, 0},
		{`{}`, 0},
		{`1e300`, 0},
		{`-1e300`, 0},
		{`99999999999999999999999`, 0},
	}
	for _, c := range cases {
		got := unixTime([]byte(c.raw))
		if c.want == 0 {
			if !got.IsZero() {
				t.Errorf("unixTime(%s) = %v, want zero", c.raw, got)
			}
			continue
		}
		if !got.Equal(time.Unix(c.want, 0)) || got.Location() != time.UTC {
			t.Errorf("unixTime(%s) = %v, want %v UTC", c.raw, got, time.Unix(c.want, 0).UTC())
		}
	}
}
