package httpapi

// The functions below expose the API's error catalogue to the web UI, so that a send from a page explains a
// refusal exactly as the API does (same message, same fix) instead of keeping a second mapping.

// SendRefusal returns the catalogue error of a refusal of the send service for a message of type msgType
// (unknown channel, closed window, template problems, bad file); false for errors that are not refusals.
func SendRefusal(msgType string, err error) (*Error, bool) { return sendError(msgType, err) }
