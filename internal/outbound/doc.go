// Package outbound decodes and validates send requests: the bodies applications POST to send a WhatsApp
// message through wagate.
//
// A request is the Cloud API request body, so a body written for Meta's or 360dialog's Cloud API (or built by
// their SDKs) works unchanged:
//
//	{"messaging_product":"whatsapp","recipient_type":"individual","to":"+34 696 24 73 55",
//	 "type":"text","text":{"body":"Hola","preview_url":true},"context":{"message_id":"wamid.X"}}
//
// plus wagate's conveniences: "channel" (the channel to send from; default channel when left out),
// "reply_to" (same as context.message_id), "idempotency_key" (also read from the Idempotency-Key header by the
// HTTP layer), "type" inferred when exactly one message object is present, and the text shorthand
// "text":"Hola" for {"body":"Hola"}.
//
// # Envelope
//
//   - Top-level fields are strict: anything but messaging_product, recipient_type, to, type, context,
//     biz_opaque_callback_data, channel, reply_to, idempotency_key and one message object is an error naming
//     the field. biz_opaque_callback_data (a string of at most 512 characters) is accepted and ignored: wagate
//     tracks messages by its own ids. Fields inside a message object that wagate does not know are kept and
//     passed to the provider (providers add fields over time); the known ones are checked.
//   - messaging_product is optional and must be "whatsapp"; recipient_type is optional and must be
//     "individual" (group sends are not supported).
//   - to is required and normalised to E.164 ("+34 696 24 73 55", "0034696247355" and "34696247355" all give
//     "+34696247355"); it must be a valid number for its country.
//   - type is optional when exactly one message object is present; when given it must name a supported type
//     (text, image, video, audio, document, sticker, location, contacts, interactive, template, reaction) whose
//     object is present, and no other message object may be present.
//   - context holds only message_id; reply_to, when given with it, must be equal. Message ids are at most 512
//     characters without spaces or control characters.
//   - channel matches ^[a-z0-9][a-z0-9_-]{0,62}$ (its existence is the caller's to check); idempotency_key is
//     1 to 255 visible ASCII characters.
//   - A body must be a single JSON object without duplicate keys (at any depth: parsers disagree on which
//     one wins, so what wagate checks could differ from what the provider reads) and nested at most 64
//     levels. JSON null counts as a field left out. Limiting the size of the body is the HTTP layer's job.
//   - All problems are reported together (at most 50) in a fixed order, each naming its field path
//     ("template.components[1].parameters[0].text"; "" for the body as a whole).
//
// Message.Content is the message object re-encoded compactly (unknown fields kept); for the text shorthand it
// is {"body":"..."}.
//
// # Mark as read
//
// A Cloud mark-as-read body, {"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}, is not a
// message but is accepted by the same endpoint (so is {"type":"read","message_id":"wamid.X"}): it decodes to a
// Request whose Message has Type "read", no To, and Content {"message_id":"wamid.X"} (plus
// "typing_indicator":{"type":"text"} when given). status must be "read"; type, when given, must be "read";
// to, context and message objects are refused.
//
// # Message rules
//
// Lengths count characters (Unicode code points), as WhatsApp does; errors name the count and the limit
// ("text.body: is 5,000 characters; the limit is 4,096").
//
//   - text: body required, not blank, at most 4,096 characters; preview_url a boolean.
//   - image, video, audio, document, sticker: exactly one of id (the provider's media id, at most 256
//     characters without spaces), link or file (a wagate media id: up to 100 letters, digits, '.', '-', '_',
//     not starting with '.', '-' or '_'; file is taken only here, not in interactive headers or template
//     parameters, so the sender resolves it in one place). caption only for image, video and document, at
//     most 1,024 characters; filename only for document, at most 240 characters, no control characters.
//     mime_type, when given, must be one WhatsApp accepts for the kind (image: image/jpeg, image/png;
//     sticker: image/webp; video: video/mp4, video/3gp, video/3gpp; audio: audio/aac, audio/amr, audio/mpeg,
//     audio/mp4, audio/ogg with codecs=opus if a codec is named; document: text/plain, PDF and the Word,
//     Excel and PowerPoint types).
//   - links: absolute http or https URLs with a host, without user name or password, at most 4,096
//     characters, no spaces. Because the provider (or wagate) fetches a media link, its host must not be
//     obviously internal: localhost, a name without a dot, or an IP literal in a loopback, private,
//     link-local, carrier-grade NAT, multicast or reserved range; numeric hosts must be dotted-decimal IPv4.
//     This is a safety measure against mistakes and casual abuse, not a complete SSRF defence: a public name
//     that resolves to an internal address passes (whoever fetches must check the address it connects to).
//   - location: latitude (-90..90) and longitude (-180..180) required, as numbers or strings holding decimal
//     numbers; name and address strings.
//   - contacts: 1 to 100 cards, each with name.formatted_name; phones[].phone, emails[].email and urls[].url
//     required in their records; birthday YYYY-MM-DD; the other known fields strings.
//   - interactive: type button, list, cta_url or flow (product, catalog and other types are refused as not
//     supported yet). header optional: type text (text at most 60 characters) or image, video, document (one
//     of id or link); lists take only a text header. body.text required, at most 1,024; footer.text at most
//     60.
//   - button: 1 to 3 buttons of type "reply", reply.id at most 256 characters and unique, reply.title at
//     most 20.
//   - list: action.button at most 20; 1 to 10 sections and 1 to 10 rows in all, every section with a row;
//     section title at most 24 and required when there is more than one section; row id at most 200 and
//     unique, title at most 24, description at most 72.
//   - cta_url: action.name "cta_url"; parameters.display_text at most 20; parameters.url an http(s) URL.
//   - flow: action.name "flow"; parameters.flow_message_version required; flow_id or flow_name (not both);
//     flow_cta at most 20; flow_action navigate or data_exchange; mode draft or published;
//     flow_action_payload an object.
//   - template: name of lowercase letters, digits and underscores, at most 512; language an object with code
//     like "en_US" or "es" (^[a-z]{2,3}(_[A-Z]{2})?$) and optional policy "deterministic". At most 20
//     components and 100 parameters in all. One header (at most one parameter: text at most 60 characters,
//     image, video, document or location), one body (text at most 1,024 characters, currency, date_time),
//     one footer (no parameters); buttons with sub_type quick_reply, url, copy_code, flow or catalog, a
//     unique index "0" to "9" (a number is accepted too) and at most one parameter of the type the sub_type
//     takes (quick_reply: payload or text; url: text; copy_code: coupon_code; flow and catalog: action).
//     Text parameters must not contain a newline or tab or more than four consecutive spaces (WhatsApp
//     refuses them, error 132018). currency needs fallback_value, an ISO 4217 code and an integer
//     amount_1000; date_time needs fallback_value; media parameters one of id or link. A parameter may be
//     named with parameter_name (^[a-z_][a-z0-9_]*$, unique in its component), and then all parameters of
//     the component must be named. Types are compared ignoring case. carousel and limited_time_offer
//     components are passed through unchecked.
//   - reaction: message_id required; emoji required: "" removes the reaction, anything else must look like
//     one emoji (at most 10 code points, no letters, digits, spaces or ASCII except a keycap's base).
//
// # Not checked
//
// Whether the template exists, is approved, and how many parameters it expects; whether a media id or wagate
// file exists and its actual type and size (16 MB video, 5 MB image...); whether a link is reachable or
// resolves to a public address; the 24-hour customer-service window; the JSON types of fields wagate does not
// know; reaction emoji exactly (an approximation); the lengths of location name/address, contact fields,
// payloads, coupon codes and flow fields (WhatsApp's limits are not confirmed); the button label lengths of
// templates (set when the template was approved); carousel and limited_time_offer template components.
// Sending to a business-scoped user id instead of a phone number is not supported.
package outbound
