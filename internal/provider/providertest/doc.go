// Package providertest is a fake WhatsApp Business provider for tests and benchmarks: a real HTTP server on
// 127.0.0.1 that speaks Meta's Cloud API (Graph, /{version}/{phone-number-id}/...), 360dialog's Cloud API
// (waba-v2, no version or number in the path) and 360dialog's legacy On-Premise API (/v1/...), validates
// requests the way the provider does, answers in the provider's own success and error shapes, injects faults
// (error codes, latency, hangs, dropped connections, per-second throughput limits) and posts status webhooks
// (receipts) back to wagate, signed like the provider signs them.
//
// It is deliberately not a mock of wagate's own interfaces: wagate's provider clients talk to it over HTTP
// exactly as they talk to the real provider, so a test proves the wire format and not only the logic.
//
// # Use
//
//	fake := providertest.New(t, providertest.Options{Kind: providertest.KindMeta, AccessToken: "tok",
//		WebhookURL: wagateURL + "/webhooks/whatsapp", AppSecret: "app-secret"})
//	// configure the channel's BaseURL as fake.URL(); Meta clients add /{version} themselves
//	fake.FailNext("send", 2, providertest.Fault{Status: 503})
//	...
//	fake.WaitSent(ctx, 1)
//	fake.WaitPosted(ctx, 3)
//
// # Endpoints
//
// Meta (Options.Kind "meta"), every path below /{version} where version is Options.APIVersion or any vNN.N:
//
//	POST /{pnid}/messages                  send, or mark as read ({"status":"read","message_id":...})
//	POST /{pnid}/media                     multipart upload (file, type, messaging_product) -> {"id"}
//	GET  /{media-id}, DELETE /{media-id}   media info {messaging_product,url,mime_type,sha256,file_size,id}
//	GET  /{pnid}?fields=...                phone number: verified_name, display_phone_number, quality_rating,
//	                                       throughput{level}, health_status, ...
//	GET|POST /{pnid}/whatsapp_business_profile
//	GET|POST|DELETE /{waba}/subscribed_apps
//	GET  /{waba}/message_templates
//	GET  /whatsapp_business/attachments/?mid=..&ext=..&hash=..   (no version: the URL media info returns)
//
// 360dialog Cloud ("360dialog"): POST /messages, POST /media, GET|DELETE /{media-id} (the url it returns has
// the host https://lookaside.fbsbx.com, exactly as the real one: clients must swap it for the base URL),
// GET /whatsapp_business/attachments/?mid=.., GET /health_status, GET|POST /whatsapp_business_profile,
// GET|POST /v1/configs/webhook, GET /v1/configs/templates.
//
// 360dialog On-Premise ("360dialog-onpremise"): POST /v1/messages, PUT /v1/messages/{id} (mark as read),
// POST /v1/media (raw body), GET|DELETE /v1/media/{id}, GET /v1/health, GET|POST /v1/settings/business/profile,
// GET|POST /v1/configs/webhook, GET /v1/configs/templates, POST /v1/contacts (contacts check; numbers of 7 to
// 15 digits after an optional "+" are valid with wa_id their digits, unless named by SetInvalidContacts).
//
// # Faults
//
// Fail, FailNext and SetThroughput apply to an endpoint class: "send", "read", "media", "health", "profile",
// "webhook" (webhook configuration), "templates", "contacts", or "" for all. A request first passes
// authentication, then the first matching FailNext fault (in the order they were added), then any persistent
// Fail fault (the most recent wins), then validation, then the throughput limit (sends only).
//
// # Faithfulness
//
// Shapes and codes follow docs/provider-api.md. Where that reference marks a fact
// UNCONFIRMED, or says nothing, this package makes a guess; each guess is listed here so that a test failing
// against a real provider points at the right line:
//
//   - Meta auth failures (missing or wrong token) both answer 401 with code 190 (OAuthException); Graph is
//     believed to answer a missing token with 400/104. ?access_token= is accepted like the header.
//   - A version other than Options.APIVersion, or an unknown edge, answers 400/2500 "Unknown path
//     components" (guess); a wrong phone number, WABA or media id, or a wrong method on a known edge, answers
//     400/100 subcode 33 (GraphMethodException, "Unsupported get request. Object with ID ..."), like Graph.
//   - Cloud validation errors all use code 100 with a Graph-style message ("(#100) The parameter to is
//     required.", "(#100) Param text['body'] must be at most 4096 characters long."), without error_data;
//     the exact messages, and whether Meta uses 131008/131009 for some of them, are guesses. Lengths count
//     Unicode code points. A missing type defaults to "text" as on Meta. Recipients may carry "+", spaces,
//     dashes and parentheses and must then be 7 to 15 digits, else 131009.
//   - On-Premise validation: a missing parameter is 1008, an invalid value 1009, a text body over 4096 is 1001,
//     a recipient_type other than "individual" is 1002, and a messaging_product field is rejected with 1010
//     ("Parameter is not required"); templates need namespace, language.code and language.policy.
//   - Mark as read only knows inbound messages (AddInbound, PostInbound), as on Meta; an unknown id is 400/131009
//     on the Cloud kinds and 404/1006 on On-Premise (guess). On-Premise answers a read with 200 {}.
//   - On-Premise success bodies carry messages and meta, no contacts; ids are not wamid-prefixed. On-Premise
//     sends and uploads answer 201 Created (from memory; a client should accept any 2xx, and a 201 makes one
//     that insists on 200 fail here). Cloud template sends answer messages[].message_status "accepted"
//     (UNCONFIRMED in docs/provider-api.md).
//   - Error HTTP statuses for codes follow Meta's table (§4.2); On-Premise codes answer 400 except 1005 (403),
//     1006 (404), 1000/1014 (500), 1011/1016/1017/1018 (503) and 1015 (429), which are guesses.
//   - A Fault with Code 0 answers the 360dialog gateway body {"error":"<text>"} on the 360dialog kinds and a
//     text/plain body on Meta (an edge proxy failure, no Graph error object).
//   - Unknown paths answer 404 {"error":"Not Found"} on the 360dialog kinds (gateway body, guess) and 400/100
//     on Meta.
//   - The throughput limit counts accepted sends in the trailing second (throttled and invalid requests do
//     not count); On-Premise throttling answers HTTP 429 with errors[] 1015.
//   - Receipts: sent carries conversation (with expiration_timestamp) and pricing, delivered carries
//     conversation (without expiration) and pricing, read carries neither; failed carries errors[] with
//     Options.FailedCode (default 131026 Cloud, 1013 On-Premise: the latter is a guess). Cloud pricing is
//     PMP with a type; On-Premise pricing is CBP and its expiration_timestamp is a JSON number (guess).
//     A receipt post is tried up to 4 times (backoff 100 ms, 200 ms, 400 ms) until it is answered 2xx.
//   - 360dialog webhook posts carry the headers registered with /v1/configs/webhook, initially
//     {X-Wagate-Webhook-Secret: Options.WebhookSecret}; re-registering replaces URL and headers as on 360dialog.
//     Webhook URLs with "_" in the host are rejected, and so are explicit ports and plain http except on loopback
//     hosts (a concession so tests can register httptest receivers). Errors there use the gateway body (guess).
//   - Meta posts are signed with X-Hub-Signature-256 when Options.AppSecret is set and carry no secret header.
//   - Health: 360dialog Cloud GET /health_status and Meta's health_status field use the shape of §1.1 with
//     errors [{error_code,error_description,possible_solution}] (from memory); Meta's default phone number
//     fields and On-Premise's {"health":{"gateway_status":..}} are from secondary sources.
//   - Business profile: Meta and 360dialog Cloud answer {"data":[{...,"messaging_product":"whatsapp"}]};
//     On-Premise answers {"settings":{"business":{"profile":{...}}}} (both UNCONFIRMED).
//   - Templates: when any template was added (AddTemplate), Cloud sends of an unknown name/language answer
//     404/132001, a PAUSED one 400/132015 and a DISABLED one 400/132016; On-Premise does not check. The
//     360dialog list envelope (count, filters, limit, offset, sort, total, waba_templates) is UNCONFIRMED.
//   - Media: the download URL expires after 5 minutes (Options.Now); an expired or tampered URL answers 404.
//     On-Premise uploads are capped at 64 MiB (400/1009), Cloud uploads at 100 MiB (413). Media types and
//     per-type sizes are not checked, and 360dialog's block after more than 5 failed media lookups an hour is
//     not emulated. Meta's media URL points back at this server (the real one is on lookaside.fbsbx.com).
//   - The fake is one phone number: the throughput limit and health are per server.
package providertest
