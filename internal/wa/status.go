package wa

import "fmt"

// Status is the delivery state of a message. Outbound messages move forward only:
// queued -> accepted (by the provider) -> sent -> delivered -> read, with failed terminal. Inbound messages
// are "received".
type Status string

// The statuses a message can have.
const (
	StatusReceived  Status = "received"
	StatusQueued    Status = "queued"
	StatusAccepted  Status = "accepted"
	StatusSent      Status = "sent"
	StatusDelivered Status = "delivered"
	StatusRead      Status = "read"
	StatusPlayed    Status = "played"
	StatusFailed    Status = "failed"
	StatusDeleted   Status = "deleted"
	StatusWarning   Status = "warning"
)

// Rank orders statuses for the forward-only rule. A receipt may replace the current status only when its rank
// is higher. failed ranks above everything so that nothing moves a failed message; played (voice notes) ranks
// above read. deleted and warning are informational: they go into the history but never become the current
// status (rank 0).
func (s Status) Rank() int {
	switch s {
	case StatusQueued:
		return 1
	case StatusAccepted:
		return 2
	case StatusSent:
		return 3
	case StatusDelivered:
		return 4
	case StatusRead:
		return 5
	case StatusPlayed:
		return 6
	case StatusFailed:
		return 100
	default:
		return 0
	}
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusReceived, StatusQueued, StatusAccepted, StatusSent, StatusDelivered, StatusRead, StatusPlayed,
		StatusFailed, StatusDeleted, StatusWarning:
		return true
	}
	return false
}

// Advances reports whether a receipt carrying next should replace current as the message's status.
func Advances(current, next Status) bool {
	return next.Rank() > 0 && next.Rank() > current.Rank()
}

// ParseStatus maps a provider's receipt status string to a Status.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() || st == StatusReceived || st == StatusQueued || st == StatusAccepted {
		return "", fmt.Errorf("unknown receipt status %q", s)
	}
	return st, nil
}
