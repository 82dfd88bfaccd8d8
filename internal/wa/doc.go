// Package wa holds wagate's domain vocabulary: messages, receipts and their forward-only rule, contacts,
// phone numbers and the events parsed out of provider webhooks. It imports only the standard library.
package wa
