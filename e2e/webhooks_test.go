package e2e

import (
	"encoding/json"
	"strconv"
)

// cloudBody wraps one change value in the Cloud API webhook envelope (entry[].changes[].value), as 360dialog's
// Cloud API and Meta send it.
func cloudBody(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]any{"display_phone_number": "34911000000", "phone_number_id": "109000000000001"}
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "102000000000001",
			"changes": []any{map[string]any{"field": "messages", "value": value}},
		}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// inboundText is a webhook carrying one inbound text message with provider id wamid from the WhatsApp user whose
// wa_id is from.
func inboundText(from, name, wamid, text string, unix int64) []byte {
	return cloudBody(map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": from}},
		"messages": []any{map[string]any{
			"from": from, "id": wamid, "timestamp": strconv.FormatInt(unix, 10), "type": "text",
			"text": map[string]any{"body": text},
		}},
	})
}

// receipt is a webhook carrying one status receipt for the outbound message wamid.
func receipt(wamid, status, recipient string, unix int64) []byte {
	return cloudBody(map[string]any{
		"statuses": []any{map[string]any{
			"id": wamid, "status": status, "timestamp": strconv.FormatInt(unix, 10), "recipient_id": recipient,
			"conversation": map[string]any{"id": "e2e-conversation", "origin": map[string]any{"type": "service"}},
			"pricing":      map[string]any{"billable": true, "pricing_model": "CBP", "category": "service"},
		}},
	})
}

// senderNumber returns the wa_id of the i-th test sender: Spanish mobile numbers whose last nine digits differ,
// so that each is its own contact.
func senderNumber(i int) string {
	return "34600" + leftPad(strconv.Itoa(i), 6)
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
