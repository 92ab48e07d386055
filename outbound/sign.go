package outbound

import (
	"net/http"
	"time"
)

// Signing says how outbound requests of an endpoint are signed. The zero value signs
// nothing.
//
// This is a placeholder with the agreed signature, landed so that the package compiles; the
// owner of signing replaces it.
type Signing struct {
	Scheme string `json:"scheme,omitempty"` // "", "s2s-v1" or "standard-webhooks"
	KeyID  string `json:"key_id,omitempty"`
	Secret string `json:"secret,omitempty"`
}

// Sign signs req, whose body is body, as the event eventID at now.
func (s Signing) Sign(req *http.Request, eventID string, body []byte, now time.Time) error {
	return nil
}
