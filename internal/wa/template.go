package wa

import (
	"encoding/json"
	"time"
)

// Template statuses as providers report them (upper case; 360dialog's lower-case values are normalised).
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
	TemplateRejected = "REJECTED"
	TemplatePaused   = "PAUSED"
	TemplateDisabled = "DISABLED"
)

// Template parameter formats: placeholders written {{1}}, {{2}} (positional) or {{first_name}} (named).
const (
	ParamsPositional = "POSITIONAL"
	ParamsNamed      = "NAMED"
)

// Template is a message template as a provider lists it: one name in one language.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	// ID is the provider's template id, when given.
	ID       string `json:"id,omitempty"`
	Category string `json:"category,omitempty"`
	// Status is APPROVED, PENDING, REJECTED, PAUSED, DISABLED or whatever else the provider says, upper case.
	Status string `json:"status"`
	// ParameterFormat is ParamsPositional or ParamsNamed.
	ParameterFormat string `json:"parameter_format"`
	// Namespace is the On-Premise template namespace, when the provider gives one.
	Namespace string `json:"namespace,omitempty"`
	// RejectedReason is the provider's reason for a rejection, when given.
	RejectedReason string `json:"rejected_reason,omitempty"`
	// Components is the template's definition in the Cloud API shape ([{"type":"BODY","text":"Hi {{1}}"},...]).
	Components json.RawMessage `json:"components,omitempty"`
	// SyncedAt is when wagate last read it from the provider.
	SyncedAt time.Time `json:"synced_at,omitzero"`
}
