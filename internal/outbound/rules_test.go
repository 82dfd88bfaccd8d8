package outbound

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Helpers that build request bodies around one bad value.

const to = `"to":"+34696247355"`

// send returns a request of type typ whose message object is content.
func send(typ, content string) string {
	return `{` + to + `,"type":"` + typ + `","` + typ + `":` + content + `}`
}

func text(body string) string { return send("text", `{"body":"`+body+`"}`) }

func image(fields string) string { return send("image", `{`+fields+`}`) }

func link(url string) string { return image(`"link":"` + url + `"`) }

// buttons returns an interactive reply-buttons message with the given action.buttons.
func buttons(list string) string {
	return send("interactive", `{"type":"button","body":{"text":"Pick"},"action":{"buttons":`+list+`}}`)
}

func button(id, title string) string {
	return `{"type":"reply","reply":{"id":"` + id + `","title":"` + title + `"}}`
}

// list returns an interactive list message with the given action.sections.
func list(sections string) string {
	return send("interactive", `{"type":"list","body":{"text":"Pick"},"action":{"button":"Open","sections":`+sections+`}}`)
}

func row(id, title string) string { return `{"id":"` + id + `","title":"` + title + `"}` }

// interactive returns an interactive message of type typ with the given action, plus extra fields.
func interactive(typ, action, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return send("interactive", `{"type":"`+typ+`","body":{"text":"Hi"},"action":`+action+extra+`}`)
}

func flow(params string) string {
	return interactive("flow", `{"name":"flow","parameters":{`+params+`}}`, "")
}

const flowOK = `"flow_message_version":"3","flow_id":"123","flow_cta":"Open"`

// template returns a template message with the given components.
func template(components string) string {
	return send("template", `{"name":"t","language":{"code":"en"},"components":`+components+`}`)
}

// body returns a template with one body component holding params.
func body(params string) string { return template(`[{"type":"body","parameters":[` + params + `]}]`) }

// header returns a template with one header component holding params.
func header(params string) string {
	return template(`[{"type":"header","parameters":[` + params + `]}]`)
}

// tbutton returns a template with one button component.
func tbutton(fields string) string { return template(`[{"type":"button",` + fields + `}]`) }

func repeat(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+",", n), ",")
}

func long(n int) string { return strings.Repeat("a", n) }

func contact(fields string) string {
	return send("contacts", `[{"name":{"formatted_name":"Ana"}`+fields+`}]`)
}

func reaction(emoji string) string {
	return send("reaction", `{"message_id":"wamid.X","emoji":`+emoji+`}`)
}

// TestDecode_Rules has one case per validation rule: a body breaking it and the field the error names.
func TestDecode_Rules(t *testing.T) {
	t.Parallel()
	const p0 = "template.components[0].parameters[0]"
	cases := []struct {
		rule, body, field string
	}{
		// The body as a whole.
		{"body empty", ``, ""},
		{"body not JSON", `{"to":`, ""},
		{"body not an object", `["to"]`, ""},
		{"duplicate key", `{"to":"+34696247355","text":{"body":"a","body":"b"}}`, "text.body"},
		{"duplicate top-level key", `{"to":"+34696247355","to":"+34696247356","text":"x"}`, "to"},

		// Envelope.
		{"unknown top-level field", `{` + to + `,"text":"x","foo":1}`, "foo"},
		{"unknown message type key", `{` + to + `,"order":{}}`, "order"},
		{"message_id in a send", `{` + to + `,"text":"x","message_id":"wamid.X"}`, "message_id"},
		{"messaging_product not whatsapp", `{"messaging_product":"sms",` + to + `,"text":"x"}`, "messaging_product"},
		{"messaging_product not a string", `{"messaging_product":1,` + to + `,"text":"x"}`, "messaging_product"},
		{"recipient_type group", `{"recipient_type":"group",` + to + `,"text":"x"}`, "recipient_type"},
		{"recipient_type other", `{"recipient_type":"broadcast",` + to + `,"text":"x"}`, "recipient_type"},
		{"to missing", `{"text":"x"}`, "to"},
		{"to empty", `{"to":"","text":"x"}`, "to"},
		{"to not a number", `{"to":"hello","text":"x"}`, "to"},
		{"to too short", `{"to":"+34 123","text":"x"}`, "to"},
		{"to invalid for country", `{"to":"+99912345678","text":"x"}`, "to"},
		{"to not a string", `{"to":34696247355,"text":"x"}`, "to"},
		{"type unknown", `{` + to + `,"type":"order","text":"x"}`, "type"},
		{"type read in a send", `{` + to + `,"type":"read","message_id":"wamid.X"}`, "to"},
		{"type not a string", `{` + to + `,"type":1,"text":"x"}`, "type"},
		{"type without its object", `{` + to + `,"type":"image","text":"x"}`, "image"},
		{"type with another object", `{` + to + `,"type":"text","text":"x","image":{"id":"1"}}`, "image"},
		{"no message object", `{` + to + `}`, "type"},
		{"two message objects without type", `{` + to + `,"text":"x","image":{"id":"1"}}`, "type"},
		{"context not an object", `{` + to + `,"text":"x","context":"wamid.X"}`, "context"},
		{"context unknown field", `{` + to + `,"text":"x","context":{"message_id":"wamid.X","from":"1"}}`, "context.from"},
		{"context without message_id", `{` + to + `,"text":"x","context":{}}`, "context.message_id"},
		{"context message_id empty", `{` + to + `,"text":"x","context":{"message_id":""}}`, "context.message_id"},
		{"context message_id with space", `{` + to + `,"text":"x","context":{"message_id":"wamid X"}}`, "context.message_id"},
		{"context message_id too long", `{` + to + `,"text":"x","context":{"message_id":"` + long(513) + `"}}`, "context.message_id"},
		{"reply_to differs from context", `{` + to + `,"text":"x","context":{"message_id":"wamid.A"},"reply_to":"wamid.B"}`, "reply_to"},
		{"reply_to with control char", `{` + to + `,"text":"x","reply_to":"wamid\u0000X"}`, "reply_to"},
		{"reply_to not a string", `{` + to + `,"text":"x","reply_to":5}`, "reply_to"},
		{"channel bad name", `{` + to + `,"text":"x","channel":"Sales!"}`, "channel"},
		{"channel too long", `{` + to + `,"text":"x","channel":"` + long(64) + `"}`, "channel"},
		{"idempotency_key with space", `{` + to + `,"text":"x","idempotency_key":"a b"}`, "idempotency_key"},
		{"idempotency_key too long", `{` + to + `,"text":"x","idempotency_key":"` + long(256) + `"}`, "idempotency_key"},
		{"idempotency_key empty", `{` + to + `,"text":"x","idempotency_key":""}`, "idempotency_key"},
		{"biz_opaque_callback_data too long", `{` + to + `,"text":"x","biz_opaque_callback_data":"` + long(513) + `"}`, "biz_opaque_callback_data"},
		{"biz_opaque_callback_data not a string", `{` + to + `,"text":"x","biz_opaque_callback_data":{}}`, "biz_opaque_callback_data"},

		// Mark as read.
		{"read status other", `{"status":"delivered","message_id":"wamid.X"}`, "status"},
		{"read message_id missing", `{"messaging_product":"whatsapp","status":"read"}`, "message_id"},
		{"read message_id with space", `{"status":"read","message_id":"wamid X"}`, "message_id"},
		{"read with to", `{"status":"read","message_id":"wamid.X",` + to + `}`, "to"},
		{"read with a message object", `{"status":"read","message_id":"wamid.X","text":"x"}`, "text"},
		{"read type other", `{"status":"read","type":"text","message_id":"wamid.X"}`, "type"},
		{"read messaging_product other", `{"messaging_product":"sms","status":"read","message_id":"wamid.X"}`, "messaging_product"},
		{"read typing_indicator type", `{"status":"read","message_id":"wamid.X","typing_indicator":{"type":"audio"}}`, "typing_indicator.type"},
		{"read typing_indicator not object", `{"status":"read","message_id":"wamid.X","typing_indicator":true}`, "typing_indicator"},
		{"read channel bad", `{"status":"read","message_id":"wamid.X","channel":"A B"}`, "channel"},

		// Text.
		{"text not an object", send("text", `5`), "text"},
		{"text body missing", send("text", `{"preview_url":true}`), "text.body"},
		{"text body blank", text("  "), "text.body"},
		{"text body too long", text(long(4097)), "text.body"},
		{"text body not a string", send("text", `{"body":["x"]}`), "text.body"},
		{"text preview_url not boolean", send("text", `{"body":"x","preview_url":"yes"}`), "text.preview_url"},

		// Media.
		{"media not an object", send("image", `"https://example.com/a.jpg"`), "image"},
		{"media without source", image(`"caption":"x"`), "image"},
		{"media id and link", image(`"id":"1","link":"https://example.com/a.jpg"`), "image"},
		{"media id and file", send("video", `{"id":"1","file":"abc"}`), "video"},
		{"media id empty", image(`"id":""`), "image.id"},
		{"media id with space", image(`"id":"12 34"`), "image.id"},
		{"media id too long", image(`"id":"` + long(257) + `"`), "image.id"},
		{"media id not a string", image(`"id":1234`), "image.id"},
		{"link not http", link("ftp://example.com/a.jpg"), "image.link"},
		{"link relative", link("/a.jpg"), "image.link"},
		{"link without host", link("https:///a.jpg"), "image.link"},
		{"link opaque", link("https:example.com"), "image.link"},
		{"link with userinfo", link("https://user:pw@example.com/a.jpg"), "image.link"},
		{"link localhost", link("http://localhost:8080/a.jpg"), "image.link"},
		{"link sub.localhost", link("http://files.localhost/a.jpg"), "image.link"},
		{"link loopback", link("http://127.0.0.1/a.jpg"), "image.link"},
		{"link private", link("http://10.1.2.3/a.jpg"), "image.link"},
		{"link private 192.168", link("https://192.168.1.10/a.jpg"), "image.link"},
		{"link metadata", link("http://169.254.169.254/latest/meta-data"), "image.link"},
		{"link IPv6 loopback", link("http://[::1]/a.jpg"), "image.link"},
		{"link IPv6 ULA", link("http://[fd00::1]/a.jpg"), "image.link"},
		{"link IPv4-mapped loopback", link("http://[::ffff:127.0.0.1]/a.jpg"), "image.link"},
		{"link unspecified", link("http://0.0.0.0/a.jpg"), "image.link"},
		{"link CGNAT", link("http://100.64.0.1/a.jpg"), "image.link"},
		{"link host without dot", link("http://intranet/a.jpg"), "image.link"},
		{"link decimal IP", link("http://2130706433/a.jpg"), "image.link"},
		{"link short IP", link("http://127.1/a.jpg"), "image.link"},
		{"link hex IP", link("http://0x7f.0x1/a.jpg"), "image.link"},
		{"link with space", link("https://example.com/a b.jpg"), "image.link"},
		{"link too long", link("https://example.com/" + long(4096)), "image.link"},
		{"file bad characters", image(`"file":"../etc/passwd"`), "image.file"},
		{"file too long", image(`"file":"` + long(101) + `"`), "image.file"},
		{"caption too long", image(`"id":"1","caption":"` + long(1025) + `"`), "image.caption"},
		{"caption on audio", send("audio", `{"id":"1","caption":"x"}`), "audio.caption"},
		{"caption on sticker", send("sticker", `{"id":"1","caption":"x"}`), "sticker.caption"},
		{"caption not a string", send("video", `{"id":"1","caption":1}`), "video.caption"},
		{"filename on image", image(`"id":"1","filename":"a.jpg"`), "image.filename"},
		{"filename too long", send("document", `{"id":"1","filename":"`+long(241)+`"}`), "document.filename"},
		{"filename control character", send("document", `{"id":"1","filename":"a\nb.pdf"}`), "document.filename"},
		{"mime_type wrong for image", image(`"id":"1","mime_type":"image/gif"`), "image.mime_type"},
		{"mime_type not a MIME type", send("video", `{"id":"1","mime_type":"mp4"}`), "video.mime_type"},
		{"mime_type ogg not opus", send("audio", `{"id":"1","mime_type":"audio/ogg; codecs=vorbis"}`), "audio.mime_type"},
		{"mime_type sticker png", send("sticker", `{"id":"1","mime_type":"image/png"}`), "sticker.mime_type"},
		{"mime_type document zip", send("document", `{"id":"1","mime_type":"application/zip"}`), "document.mime_type"},

		// Location.
		{"location not an object", send("location", `[52.5,13.4]`), "location"},
		{"latitude missing", send("location", `{"longitude":13.4}`), "location.latitude"},
		{"longitude missing", send("location", `{"latitude":52.5}`), "location.longitude"},
		{"latitude too large", send("location", `{"latitude":95,"longitude":13.4}`), "location.latitude"},
		{"latitude too small", send("location", `{"latitude":-90.5,"longitude":13.4}`), "location.latitude"},
		{"longitude out of range", send("location", `{"latitude":52.5,"longitude":-181}`), "location.longitude"},
		{"longitude huge", send("location", `{"latitude":52.5,"longitude":1e400}`), "location.longitude"},
		{"latitude not numeric string", send("location", `{"latitude":"north","longitude":13.4}`), "location.latitude"},
		{"latitude NaN string", send("location", `{"latitude":"NaN","longitude":13.4}`), "location.latitude"},
		{"longitude boolean", send("location", `{"latitude":52.5,"longitude":true}`), "location.longitude"},
		{"location name not a string", send("location", `{"latitude":52.5,"longitude":13.4,"name":7}`), "location.name"},
		{"location address not a string", send("location", `{"latitude":52.5,"longitude":13.4,"address":{}}`), "location.address"},

		// Contacts.
		{"contacts not an array", send("contacts", `{"name":{"formatted_name":"Ana"}}`), "contacts"},
		{"contacts empty", send("contacts", `[]`), "contacts"},
		{"contacts too many", send("contacts", `[`+repeat(`{"name":{"formatted_name":"A"}}`, 101)+`]`), "contacts"},
		{"contact not an object", send("contacts", `["Ana"]`), "contacts[0]"},
		{"contact without name", send("contacts", `[{"phones":[{"phone":"+34696247355"}]}]`), "contacts[0].name"},
		{"contact without formatted_name", send("contacts", `[{"name":{"first_name":"Ana"}}]`), "contacts[0].name.formatted_name"},
		{"contact first_name not string", send("contacts", `[{"name":{"formatted_name":"Ana","first_name":1}}]`), "contacts[0].name.first_name"},
		{"contact phones not an array", contact(`,"phones":{"phone":"1"}`), "contacts[0].phones"},
		{"contact phone missing", contact(`,"phones":[{"type":"CELL"}]`), "contacts[0].phones[0].phone"},
		{"contact phone not an object", contact(`,"phones":["+34696247355"]`), "contacts[0].phones[0]"},
		{"contact email missing", contact(`,"emails":[{"type":"WORK"}]`), "contacts[0].emails[0].email"},
		{"contact url missing", contact(`,"urls":[{"type":"WORK"}]`), "contacts[0].urls[0].url"},
		{"contact address field not string", contact(`,"addresses":[{"city":5}]`), "contacts[0].addresses[0].city"},
		{"contact org not an object", contact(`,"org":"Acme"`), "contacts[0].org"},
		{"contact birthday bad", contact(`,"birthday":"21/03/1990"`), "contacts[0].birthday"},

		// Interactive.
		{"interactive not an object", send("interactive", `[]`), "interactive"},
		{"interactive type missing", send("interactive", `{"body":{"text":"x"},"action":{}}`), "interactive.type"},
		{"interactive type product", send("interactive", `{"type":"product","action":{}}`), "interactive.type"},
		{"interactive type unknown", send("interactive", `{"type":"buttons","action":{}}`), "interactive.type"},
		{"interactive body missing", send("interactive", `{"type":"button","action":{"buttons":[`+button("a", "A")+`]}}`), "interactive.body"},
		{"interactive body text missing", send("interactive", `{"type":"button","body":{},"action":{"buttons":[`+button("a", "A")+`]}}`), "interactive.body.text"},
		{"interactive body too long", send("interactive", `{"type":"button","body":{"text":"`+long(1025)+`"},"action":{"buttons":[`+button("a", "A")+`]}}`), "interactive.body.text"},
		{"interactive header text too long", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"text","text":"`+long(61)+`"}`), "interactive.header.text"},
		{"interactive header text missing", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"text"}`), "interactive.header.text"},
		{"interactive header type bad", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"audio"}`), "interactive.header.type"},
		{"interactive header media without source", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"image","image":{}}`), "interactive.header.image"},
		{"interactive header media missing", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"video"}`), "interactive.header.video"},
		{"interactive header media file", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"document","document":{"file":"abc"}}`), "interactive.header.document.file"},
		{"interactive header media internal link", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"image","image":{"link":"http://localhost/a.png"}}`), "interactive.header.image.link"},
		{"list header not text", send("interactive", `{"type":"list","header":{"type":"image","image":{"id":"1"}},"body":{"text":"x"},"action":{"button":"Open","sections":[{"rows":[`+row("a", "A")+`]}]}}`), "interactive.header.type"},
		{"interactive footer too long", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"footer":{"text":"`+long(61)+`"}`), "interactive.footer.text"},
		{"interactive footer empty", interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"footer":{"text":""}`), "interactive.footer.text"},
		{"interactive action missing", send("interactive", `{"type":"button","body":{"text":"x"}}`), "interactive.action"},
		{"buttons missing", interactive("button", `{}`, ""), "interactive.action.buttons"},
		{"buttons empty", buttons(`[]`), "interactive.action.buttons"},
		{"buttons too many", buttons(`[` + button("a", "A") + `,` + button("b", "B") + `,` + button("c", "C") + `,` + button("d", "D") + `]`), "interactive.action.buttons"},
		{"button type not reply", buttons(`[{"type":"url","reply":{"id":"a","title":"A"}}]`), "interactive.action.buttons[0].type"},
		{"button reply missing", buttons(`[{"type":"reply"}]`), "interactive.action.buttons[0].reply"},
		{"button title too long", buttons(`[` + button("a", long(21)) + `]`), "interactive.action.buttons[0].reply.title"},
		{"button title missing", buttons(`[{"type":"reply","reply":{"id":"a"}}]`), "interactive.action.buttons[0].reply.title"},
		{"button id too long", buttons(`[` + button(long(257), "A") + `]`), "interactive.action.buttons[0].reply.id"},
		{"button id missing", buttons(`[{"type":"reply","reply":{"title":"A"}}]`), "interactive.action.buttons[0].reply.id"},
		{"button id repeated", buttons(`[` + button("a", "A") + `,` + button("a", "B") + `]`), "interactive.action.buttons[1].reply.id"},
		{"list button label missing", send("interactive", `{"type":"list","body":{"text":"x"},"action":{"sections":[{"rows":[`+row("a", "A")+`]}]}}`), "interactive.action.button"},
		{"list button label too long", send("interactive", `{"type":"list","body":{"text":"x"},"action":{"button":"`+long(21)+`","sections":[{"rows":[`+row("a", "A")+`]}]}}`), "interactive.action.button"},
		{"list sections missing", send("interactive", `{"type":"list","body":{"text":"x"},"action":{"button":"Open"}}`), "interactive.action.sections"},
		{"list sections too many", list(`[` + repeat(`{"title":"S","rows":[`+row("a", "A")+`]}`, 11) + `]`), "interactive.action.sections"},
		{"list rows too many in all", list(`[{"title":"S1","rows":[` + row("a1", "A") + `,` + row("a2", "A") + `,` + row("a3", "A") + `,` + row("a4", "A") + `,` + row("a5", "A") + `,` + row("a6", "A") + `]},{"title":"S2","rows":[` + row("b1", "B") + `,` + row("b2", "B") + `,` + row("b3", "B") + `,` + row("b4", "B") + `,` + row("b5", "B") + `]}]`), "interactive.action.sections"},
		{"list section without rows", list(`[{"title":"S","rows":[]}]`), "interactive.action.sections[0].rows"},
		{"list section title missing with two sections", list(`[{"rows":[` + row("a", "A") + `]},{"title":"S2","rows":[` + row("b", "B") + `]}]`), "interactive.action.sections[0].title"},
		{"list section title too long", list(`[{"title":"` + long(25) + `","rows":[` + row("a", "A") + `]}]`), "interactive.action.sections[0].title"},
		{"list row title too long", list(`[{"rows":[` + row("a", long(25)) + `]}]`), "interactive.action.sections[0].rows[0].title"},
		{"list row description too long", list(`[{"rows":[{"id":"a","title":"A","description":"` + long(73) + `"}]}]`), "interactive.action.sections[0].rows[0].description"},
		{"list row id too long", list(`[{"rows":[` + row(long(201), "A") + `]}]`), "interactive.action.sections[0].rows[0].id"},
		{"list row id repeated", list(`[{"title":"S1","rows":[` + row("a", "A") + `]},{"title":"S2","rows":[` + row("a", "B") + `]}]`), "interactive.action.sections[1].rows[0].id"},
		{"cta_url name wrong", interactive("cta_url", `{"name":"url","parameters":{"display_text":"Go","url":"https://example.com"}}`, ""), "interactive.action.name"},
		{"cta_url parameters missing", interactive("cta_url", `{"name":"cta_url"}`, ""), "interactive.action.parameters"},
		{"cta_url display_text too long", interactive("cta_url", `{"name":"cta_url","parameters":{"display_text":"`+long(21)+`","url":"https://example.com"}}`, ""), "interactive.action.parameters.display_text"},
		{"cta_url url missing", interactive("cta_url", `{"name":"cta_url","parameters":{"display_text":"Go"}}`, ""), "interactive.action.parameters.url"},
		{"cta_url url not http", interactive("cta_url", `{"name":"cta_url","parameters":{"display_text":"Go","url":"javascript:alert(1)"}}`, ""), "interactive.action.parameters.url"},
		{"cta_url url with userinfo", interactive("cta_url", `{"name":"cta_url","parameters":{"display_text":"Go","url":"https://bank.com@evil.example/"}}`, ""), "interactive.action.parameters.url"},
		{"flow name wrong", interactive("flow", `{"name":"flows","parameters":{`+flowOK+`}}`, ""), "interactive.action.name"},
		{"flow parameters missing", interactive("flow", `{"name":"flow"}`, ""), "interactive.action.parameters"},
		{"flow message version missing", flow(`"flow_id":"1","flow_cta":"Open"`), "interactive.action.parameters.flow_message_version"},
		{"flow id missing", flow(`"flow_message_version":"3","flow_cta":"Open"`), "interactive.action.parameters.flow_id"},
		{"flow id and name", flow(flowOK + `,"flow_name":"booking"`), "interactive.action.parameters.flow_name"},
		{"flow id not a string", flow(`"flow_message_version":"3","flow_id":123,"flow_cta":"Open"`), "interactive.action.parameters.flow_id"},
		{"flow cta missing", flow(`"flow_message_version":"3","flow_id":"1"`), "interactive.action.parameters.flow_cta"},
		{"flow cta too long", flow(`"flow_message_version":"3","flow_id":"1","flow_cta":"` + long(21) + `"`), "interactive.action.parameters.flow_cta"},
		{"flow action bad", flow(flowOK + `,"flow_action":"open"`), "interactive.action.parameters.flow_action"},
		{"flow mode bad", flow(flowOK + `,"mode":"live"`), "interactive.action.parameters.mode"},
		{"flow payload not an object", flow(flowOK + `,"flow_action_payload":"SCREEN"`), "interactive.action.parameters.flow_action_payload"},
		{"flow payload data not an object", flow(flowOK + `,"flow_action_payload":{"screen":"A","data":[1]}`), "interactive.action.parameters.flow_action_payload.data"},
		{"flow token not a string", flow(flowOK + `,"flow_token":1`), "interactive.action.parameters.flow_token"},

		// Template.
		{"template not an object", send("template", `"hello_world"`), "template"},
		{"template name missing", send("template", `{"language":{"code":"en"}}`), "template.name"},
		{"template name uppercase", send("template", `{"name":"Order_Update","language":{"code":"en"}}`), "template.name"},
		{"template name with space", send("template", `{"name":"order update","language":{"code":"en"}}`), "template.name"},
		{"template name too long", send("template", `{"name":"`+long(513)+`","language":{"code":"en"}}`), "template.name"},
		{"template language missing", send("template", `{"name":"t"}`), "template.language"},
		{"template language a string", send("template", `{"name":"t","language":"en_US"}`), "template.language"},
		{"template language code missing", send("template", `{"name":"t","language":{"policy":"deterministic"}}`), "template.language.code"},
		{"template language code bad", send("template", `{"name":"t","language":{"code":"english"}}`), "template.language.code"},
		{"template language code hyphen", send("template", `{"name":"t","language":{"code":"en-US"}}`), "template.language.code"},
		{"template language policy bad", send("template", `{"name":"t","language":{"code":"en","policy":"fallback"}}`), "template.language.policy"},
		{"template namespace not a string", send("template", `{"name":"t","language":{"code":"en"},"namespace":1}`), "template.namespace"},
		{"components not an array", template(`{"type":"body"}`), "template.components"},
		{"components too many", template(`[` + repeat(`{"type":"button","sub_type":"url","index":"0"}`, 21) + `]`), "template.components"},
		{"component not an object", template(`["body"]`), "template.components[0]"},
		{"component type missing", template(`[{"parameters":[]}]`), "template.components[0].type"},
		{"component type bad", template(`[{"type":"title"}]`), "template.components[0].type"},
		{"component repeated", template(`[{"type":"body"},{"type":"body"}]`), "template.components[1].type"},
		{"parameters not an array", template(`[{"type":"body","parameters":{"type":"text","text":"x"}}]`), "template.components[0].parameters"},
		{"parameters too many in all", template(`[{"type":"header","parameters":[{"type":"text","text":"x"}]},{"type":"body","parameters":[` + repeat(`{"type":"text","text":"x"}`, 100) + `]}]`), "template.components"},
		{"parameters too many in one", body(repeat(`{"type":"text","text":"x"}`, 101)), "template.components[0].parameters"},
		{"parameter not an object", body(`"Ana"`), p0},
		{"parameter type missing", body(`{"text":"Ana"}`), p0 + ".type"},
		{"header two parameters", header(`{"type":"text","text":"a"},{"type":"text","text":"b"}`), "template.components[0].parameters"},
		{"header parameter type currency", header(`{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":1000}}`), p0 + ".type"},
		{"header text too long", header(`{"type":"text","text":"` + long(61) + `"}`), p0 + ".text"},
		{"header image without source", header(`{"type":"image","image":{}}`), p0 + ".image"},
		{"header image file", header(`{"type":"image","image":{"file":"abc"}}`), p0 + ".image.file"},
		{"header image missing", header(`{"type":"image"}`), p0 + ".image"},
		{"header document id and link", header(`{"type":"document","document":{"id":"1","link":"https://example.com/a.pdf"}}`), p0 + ".document"},
		{"header document filename too long", header(`{"type":"document","document":{"id":"1","filename":"` + long(241) + `"}}`), p0 + ".document.filename"},
		{"header video internal link", header(`{"type":"video","video":{"link":"http://10.0.0.5/v.mp4"}}`), p0 + ".video.link"},
		{"header location latitude", header(`{"type":"location","location":{"latitude":100,"longitude":1}}`), p0 + ".location.latitude"},
		{"body parameter type image", body(`{"type":"image","image":{"id":"1"}}`), p0 + ".type"},
		{"body text missing", body(`{"type":"text"}`), p0 + ".text"},
		{"body text empty", body(`{"type":"text","text":""}`), p0 + ".text"},
		{"body text too long", body(`{"type":"text","text":"` + long(1025) + `"}`), p0 + ".text"},
		{"body text newline", body(`{"type":"text","text":"a\nb"}`), p0 + ".text"},
		{"body text tab", body(`{"type":"text","text":"a\tb"}`), p0 + ".text"},
		{"body text five spaces", body(`{"type":"text","text":"a     b"}`), p0 + ".text"},
		{"currency missing", body(`{"type":"currency"}`), p0 + ".currency"},
		{"currency fallback missing", body(`{"type":"currency","currency":{"code":"USD","amount_1000":1000}}`), p0 + ".currency.fallback_value"},
		{"currency code lowercase", body(`{"type":"currency","currency":{"fallback_value":"$1","code":"usd","amount_1000":1000}}`), p0 + ".currency.code"},
		{"currency code missing", body(`{"type":"currency","currency":{"fallback_value":"$1","amount_1000":1000}}`), p0 + ".currency.code"},
		{"currency amount fraction", body(`{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":12.5}}`), p0 + ".currency.amount_1000"},
		{"currency amount string", body(`{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":"1000"}}`), p0 + ".currency.amount_1000"},
		{"currency amount missing", body(`{"type":"currency","currency":{"fallback_value":"$1","code":"USD"}}`), p0 + ".currency.amount_1000"},
		{"currency amount out of range", body(`{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":99999999999999999999}}`), p0 + ".currency.amount_1000"},
		{"date_time missing", body(`{"type":"date_time"}`), p0 + ".date_time"},
		{"date_time fallback missing", body(`{"type":"date_time","date_time":{"day_of_month":3}}`), p0 + ".date_time.fallback_value"},
		{"parameter_name bad", body(`{"type":"text","text":"Ana","parameter_name":"First Name"}`), p0 + ".parameter_name"},
		{"parameter_name starts with digit", body(`{"type":"text","text":"Ana","parameter_name":"1st"}`), p0 + ".parameter_name"},
		{"parameter_name repeated", body(`{"type":"text","text":"Ana","parameter_name":"name"},{"type":"text","text":"Bo","parameter_name":"name"}`), "template.components[0].parameters[1].parameter_name"},
		{"parameter_name mixed with positional", body(`{"type":"text","text":"Ana","parameter_name":"name"},{"type":"text","text":"Bo"}`), "template.components[0].parameters"},
		{"footer with parameters", template(`[{"type":"footer","parameters":[{"type":"text","text":"x"}]}]`), "template.components[0].parameters"},
		{"button sub_type missing", tbutton(`"index":"0"`), "template.components[0].sub_type"},
		{"button sub_type bad", tbutton(`"sub_type":"call","index":"0"`), "template.components[0].sub_type"},
		{"button index missing", tbutton(`"sub_type":"url"`), "template.components[0].index"},
		{"button index too large", tbutton(`"sub_type":"url","index":"10"`), "template.components[0].index"},
		{"button index negative number", tbutton(`"sub_type":"url","index":-1`), "template.components[0].index"},
		{"button index repeated", template(`[{"type":"button","sub_type":"url","index":"0"},{"type":"button","sub_type":"quick_reply","index":0}]`), "template.components[1].index"},
		{"button two parameters", tbutton(`"sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"a"},{"type":"payload","payload":"b"}]`), "template.components[0].parameters"},
		{"quick_reply parameter coupon", tbutton(`"sub_type":"quick_reply","index":"0","parameters":[{"type":"coupon_code","coupon_code":"X"}]`), p0 + ".type"},
		{"url button parameter payload", tbutton(`"sub_type":"url","index":"0","parameters":[{"type":"payload","payload":"X"}]`), p0 + ".type"},
		{"payload empty", tbutton(`"sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":""}]`), p0 + ".payload"},
		{"coupon_code missing", tbutton(`"sub_type":"copy_code","index":"0","parameters":[{"type":"coupon_code"}]`), p0 + ".coupon_code"},
		{"flow button action missing", tbutton(`"sub_type":"flow","index":"0","parameters":[{"type":"action"}]`), p0 + ".action"},
		{"url button text newline", tbutton(`"sub_type":"url","index":"0","parameters":[{"type":"text","text":"a\nb"}]`), p0 + ".text"},

		// Reaction.
		{"reaction not an object", send("reaction", `"👍"`), "reaction"},
		{"reaction message_id missing", send("reaction", `{"emoji":"👍"}`), "reaction.message_id"},
		{"reaction message_id with space", send("reaction", `{"message_id":"wamid X","emoji":"👍"}`), "reaction.message_id"},
		{"reaction emoji missing", send("reaction", `{"message_id":"wamid.X"}`), "reaction.emoji"},
		{"reaction emoji text", reaction(`"ok"`), "reaction.emoji"},
		{"reaction emoji smiley", reaction(`":)"`), "reaction.emoji"},
		{"reaction emoji letter", reaction(`"é"`), "reaction.emoji"},
		{"reaction emoji with space", reaction(`"👍 "`), "reaction.emoji"},
		{"reaction emoji too long", reaction(`"` + strings.Repeat("👍", 11) + `"`), "reaction.emoji"},
		{"reaction emoji digit", reaction(`"1"`), "reaction.emoji"},
		{"reaction emoji not a string", reaction(`1`), "reaction.emoji"},
	}
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.rule] {
			t.Errorf("rule %q listed twice", tc.rule)
		}
		names[tc.rule] = true
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			req, err := Decode([]byte(tc.body))
			if err == nil {
				t.Fatalf("no error; got %+v\nbody %s", req, tc.body)
			}
			got := fields(t, err)
			if testing.Verbose() {
				t.Logf("%v", err)
			}
			if !slices.Contains(got, tc.field) {
				t.Errorf("fields %q; want %q\nerror: %v", got, tc.field, err)
			}
		})
	}
}

// TestDecode_AcceptedEdgeValues accepts the values next to each limit.
func TestDecode_AcceptedEdgeValues(t *testing.T) {
	t.Parallel()
	bodies := []string{
		text(long(4096)),
		image(`"id":"1","caption":"` + long(1024) + `"`),
		send("document", `{"id":"1","filename":"`+long(240)+`","mime_type":"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}`),
		send("video", `{"id":"1","mime_type":"video/3gpp"}`),
		send("audio", `{"id":"1","mime_type":"audio/ogg"}`),
		send("audio", `{"id":"1","mime_type":"AUDIO/OGG; codecs=OPUS"}`),
		image(`"file":"` + long(100) + `"`),
		image(`"id":"` + long(256) + `"`),
		link("https://8.8.8.8/a.jpg"),
		link("https://[2001:4860:4860::8888]/a.jpg"),
		link("HTTPS://Example.COM./a.jpg"),
		link("https://example.com:8443/a.jpg?sig=abc%20def#frag"),
		send("location", `{"latitude":-90,"longitude":180}`),
		send("location", `{"latitude":"90","longitude":"-180.0"}`),
		buttons(`[` + button(long(256), long(20)) + `,` + button("b", "B") + `,` + button("c", "C") + `]`),
		interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"text","text":"`+long(60)+`"},"footer":{"text":"`+long(60)+`"}`),
		interactive("button", `{"buttons":[`+button("a", "A")+`]}`, `"header":{"type":"video","video":{"id":"1"}}`),
		send("interactive", `{"type":"list","body":{"text":"`+long(1024)+`"},"action":{"button":"`+long(20)+`","sections":[{"rows":[{"id":"`+long(200)+`","title":"`+long(24)+`","description":"`+long(72)+`"}]}]}}`),
		list(`[` + repeat(`{"title":"`+long(24)+`","rows":[{"id":"x","title":"X"}]}`, 1) + `]`),
		list(func() string {
			var s []string
			for i := range 10 {
				s = append(s, fmt.Sprintf(`{"title":"S%d","rows":[{"id":"r%d","title":"R"}]}`, i, i))
			}
			return "[" + strings.Join(s, ",") + "]"
		}()),
		interactive("cta_url", `{"name":"cta_url","parameters":{"display_text":"`+long(20)+`","url":"http://localhost/internal-is-fine-for-a-click"}}`, ""),
		flow(`"flow_message_version":"3","flow_name":"booking","flow_cta":"` + long(20) + `","mode":"draft","flow_action":"data_exchange"`),
		send("template", `{"name":"`+long(512)+`","language":{"code":"fil"}}`),
		body(`{"type":"text","text":"a    b"}`),
		body(`{"type":"text","text":"` + long(1024) + `"}`),
		body(`{"type":"TEXT","text":"x"},{"type":"currency","currency":{"fallback_value":"-","code":"EUR","amount_1000":-5}}`),
		header(`{"type":"text","text":"` + long(60) + `"}`),
		template(`[{"type":"button","sub_type":"QUICK_REPLY","index":"9","parameters":[{"type":"text","text":"ok"}]},{"type":"button","sub_type":"catalog","index":"1","parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"sku"}}]}]`),
		template(`[{"type":"carousel","cards":[{"anything":true}]},{"type":"limited_time_offer","parameters":[{"type":"limited_time_offer"}]}]`),
		template(`[{"type":"header","parameters":[{"type":"text","text":"x"}]},{"type":"body","parameters":[` + repeat(`{"type":"text","text":"x"}`, 99) + `]}]`),
		contact(`,"phones":[],"birthday":"2000-02-29","org":{"company":"A","title":"B"}`),
		send("contacts", `[`+repeat(`{"name":{"formatted_name":"A"}}`, 100)+`]`),
		reaction(`"❤️"`),
		reaction(`"1️⃣"`),
		reaction(`"#⃣"`),
		reaction(`"🇪🇸"`),
		reaction(`"👨‍👩‍👧‍👦"`),
		reaction(`"👩🏽‍❤️‍💋‍👨🏻"`),
		reaction(`"ℹ️"`),
		reaction(`""`),
		`{` + to + `,"text":"x","biz_opaque_callback_data":"` + long(512) + `","channel":"` + long(63) + `","idempotency_key":"` + long(255) + `"}`,
		`{` + to + `,"text":"x","context":{"message_id":"` + long(512) + `"}}`,
	}
	for _, b := range bodies {
		req, err := Decode([]byte(b))
		if err != nil {
			t.Errorf("%.200s: %v", b, err)
			continue
		}
		if err := Validate(req.Message); err != nil {
			t.Errorf("%.200s: Validate: %v", b, err)
		}
	}
}
