package outbound

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/s2skit/s2s/postback"
)

// Signing schemes of an outbound request.
const (
	// SchemeNone sends the request unsigned: Signing's zero value.
	SchemeNone = ""
	// SchemeS2SV1 signs the query with the s2s v1 scheme (ts, kid and sig parameters), as
	// postback.SignQuery does, so that a tracker running s2s verifies it with a
	// postback.MethodSignedQuery source holding the same key. It covers GET requests and
	// form POSTs (the query and the body are signed together; ts, kid and sig go in the
	// query); a body of any other type is refused, since the scheme would not protect it.
	SchemeS2SV1 = "s2s-v1"
	// SchemeStandardWebhooks sets the Standard Webhooks headers webhook-id (the event ID,
	// the same on every attempt), webhook-timestamp (the attempt's time) and
	// webhook-signature (HMAC-SHA256 of the ID, the timestamp and the raw body), as
	// postback.SignWebhook does.
	SchemeStandardWebhooks = "standard-webhooks"
)

// ErrSigning reports an invalid Signing or a request it cannot sign.
var ErrSigning = errors.New("outbound: invalid signing")

// Signing is how the requests to an endpoint are signed: a scheme and its key.
type Signing struct {
	// Scheme is SchemeNone, SchemeS2SV1 or SchemeStandardWebhooks.
	Scheme string `json:"scheme,omitempty"`
	// KeyID names the key of SchemeS2SV1 (sent as kid, so that the receiver tries only
	// that key); optional, under store.CheckKey's rules. SchemeStandardWebhooks has no key
	// ID: it must be empty.
	KeyID string `json:"key_id,omitempty"`
	// Secret is the shared secret. For SchemeS2SV1, its bytes are the HMAC key (the
	// postback.Key.Secret of the receiver); for SchemeStandardWebhooks, the "whsec_..."
	// form (base64, the prefix optional), as the receiver was given it. Either way the key
	// has at least postback.MinSecretLen bytes. It is a secret: it is never logged nor
	// stored with a delivery.
	Secret string `json:"secret,omitempty"`
}

// Validate reports whether s can sign: a known scheme, a secret of at least
// postback.MinSecretLen bytes (once decoded), a valid key ID where the scheme has one, and
// neither for SchemeNone. Its errors wrap ErrSigning and name the field ("signing.secret").
func (s Signing) Validate() error {
	_, err := s.key()
	return err
}

// key checks s and returns the HMAC key of its scheme.
func (s Signing) key() ([]byte, error) {
	switch s.Scheme {
	case SchemeNone:
		if s.KeyID != "" || s.Secret != "" {
			return nil, fmt.Errorf("%w: signing: a key ID or secret without a scheme", ErrSigning)
		}
		return nil, nil
	case SchemeS2SV1:
		if err := checkKeyID(s.KeyID); err != nil {
			return nil, err
		}
		if len(s.Secret) < postback.MinSecretLen {
			return nil, fmt.Errorf("%w: signing.secret: %d bytes, at least %d required", ErrSigning, len(s.Secret), postback.MinSecretLen)
		}
		return []byte(s.Secret), nil
	case SchemeStandardWebhooks:
		if s.KeyID != "" {
			return nil, fmt.Errorf("%w: signing.key_id: the %s scheme has no key ID", ErrSigning, s.Scheme)
		}
		k, err := postback.WebhookSecret(s.Secret)
		if err != nil {
			return nil, fmt.Errorf("%w: signing.secret: not a whsec_ secret (base64)", ErrSigning)
		}
		if len(k) < postback.MinSecretLen {
			return nil, fmt.Errorf("%w: signing.secret: %d bytes once decoded, at least %d required", ErrSigning, len(k), postback.MinSecretLen)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: signing.scheme: unknown scheme %q (want %q, %q or none)", ErrSigning, s.Scheme, SchemeS2SV1, SchemeStandardWebhooks)
}

// checkKeyID applies postback.SignQuery's rule for a key ID, with the field's name.
func checkKeyID(id string) error {
	if id == "" {
		return nil
	}
	if _, err := postback.SignQuery("/", "", postback.Key{ID: id, Secret: make([]byte, postback.MinSecretLen)}, time.Unix(0, 0)); err != nil {
		return fmt.Errorf("%w: signing.key_id: %q is not a valid key ID", ErrSigning, id)
	}
	return nil
}

// Sign signs req, an attempt at delivering the event eventID whose raw body is body (nil
// for none), at now. With SchemeS2SV1 it appends ts, kid and sig to req.URL.RawQuery; with
// SchemeStandardWebhooks it sets the three webhook headers; with SchemeNone it does
// nothing. Sign each attempt afresh: the timestamp is the attempt's, the event ID the
// delivery's. Errors wrap ErrSigning: an invalid Signing (see Validate), an event ID that
// is empty or holds a '.' (Standard Webhooks signs "id.timestamp.body"), an s2s v1 request
// with a body that is not a form, or a query the s2s v1 scheme refuses (it already has ts,
// kid or sig, or a repeated key).
func (s Signing) Sign(req *http.Request, eventID string, body []byte, now time.Time) error {
	key, err := s.key()
	if err != nil || s.Scheme == SchemeNone {
		return err
	}
	switch s.Scheme {
	case SchemeS2SV1:
		return signQuery(req, key, s.KeyID, body, now)
	default:
		if eventID == "" || strings.ContainsRune(eventID, '.') {
			return fmt.Errorf("%w: event ID %q: Standard Webhooks needs one without '.'", ErrSigning, eventID)
		}
		req.Header.Set(postback.HeaderWebhookID, eventID)
		req.Header.Set(postback.HeaderWebhookTimestamp, fmt.Sprint(now.Unix()))
		req.Header.Set(postback.HeaderWebhookSignature, postback.SignWebhook(key, eventID, now, body))
		return nil
	}
}

// signQuery signs req's query, and a form body with it, with the s2s v1 scheme.
func signQuery(req *http.Request, key []byte, kid string, body []byte, now time.Time) error {
	q := req.URL.RawQuery
	signed := q
	if len(body) > 0 {
		mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return fmt.Errorf("%w: the %s scheme signs a query or a form body, not a body of type %q", ErrSigning, SchemeS2SV1, req.Header.Get("Content-Type"))
		}
		// The receiver verifies the query's and the body's parameters as one set.
		if signed != "" {
			signed += "&"
		}
		signed += string(body)
	}
	out, err := postback.SignQuery(req.URL.EscapedPath(), signed, postback.Key{ID: kid, Secret: key}, now)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSigning, err)
	}
	// out is signed followed by "&ts=...&kid=...&sig=..." (without the '&' if signed is empty).
	tail := strings.TrimPrefix(out[len(signed):], "&")
	if q != "" {
		q += "&"
	}
	req.URL.RawQuery = q + tail
	return nil
}
