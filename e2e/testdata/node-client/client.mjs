// Sends through wagate with @kapso/whatsapp-cloud-api, a published WhatsApp Cloud API client, exactly as an
// application would: only the client's base URL points at wagate. Prints one JSON object with what each call
// answered; the Go test (e2e/compat_test.go) checks it against the server.
import { WhatsAppClient } from "@kapso/whatsapp-cloud-api";

const baseUrl = process.env.WAGATE_URL;
const accessToken = process.env.WAGATE_TOKEN;
const phoneNumberId = process.env.PHONE_NUMBER_ID;
const to = process.env.TO;
if (!baseUrl || !accessToken || !phoneNumberId || !to) {
  console.error("set WAGATE_URL, WAGATE_TOKEN, PHONE_NUMBER_ID and TO");
  process.exit(2);
}

const client = new WhatsAppClient({ baseUrl, accessToken, graphVersion: "v23.0" });

const sent = {};
sent.text = await client.messages.sendText({ phoneNumberId, to, body: "Hola from the Node SDK" });
sent.template = await client.messages.sendTemplate({
  phoneNumberId,
  to,
  template: {
    name: "order_update",
    language: { code: "en_US", policy: "deterministic" },
    components: [{ type: "body", parameters: [{ type: "text", text: "Ana" }] }],
  },
});
sent.image = await client.messages.sendImage({
  phoneNumberId,
  to,
  image: { link: "https://example.com/invoice.jpg", caption: "Invoice" },
});
sent.interactive = await client.messages.sendInteractiveButtons({
  phoneNumberId,
  to,
  bodyText: "Confirm the visit?",
  buttons: [
    { id: "yes", title: "Yes" },
    { id: "no", title: "No" },
  ],
});

// Errors come back as the SDK's GraphApiError, parsed from the Cloud API envelope.
async function failure(fn) {
  try {
    await fn();
    return { thrown: false };
  } catch (e) {
    return { thrown: true, name: e.name, httpStatus: e.httpStatus, code: e.code, type: e.type, details: e.details,
      fbtraceId: e.fbtraceId, category: e.category };
  }
}
const errors = {
  badNumber: await failure(() => client.messages.sendText({ phoneNumberId, to: "12", body: "x" })),
  wrongToken: await failure(() =>
    new WhatsAppClient({ baseUrl, accessToken: "not-the-token", graphVersion: "v21.0" }).messages.sendText({ phoneNumberId, to, body: "x" })),
};

console.log(JSON.stringify({ sent, errors }));
