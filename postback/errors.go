package postback

import (
	"errors"
)

// Reason is the machine-readable cause of a rejected postback, such as "bad_signature". It
// is stable: senders and dashboards may match on it. The HTTP [Handler] sends it in the JSON
// body of a rejection.
type Reason string

// Reasons for rejecting a postback. Each names one rule; none carries a secret, a token or a
// signature.
const (
	// Input syntax and limits.
	ReasonMalformedQuery  Reason = "malformed_query"               // bad percent-escape, empty key
	ReasonSemicolon       Reason = "semicolon"                     // an unencoded ';' in the query or form body
	ReasonRepeatedKey     Reason = "repeated_key"                  // a parameter given twice (or under two aliases)
	ReasonQueryTooLarge   Reason = "query_too_large"               // query over MaxQueryBytes
	ReasonTooManyParams   Reason = "too_many_params"               // over MaxParams parameters
	ReasonBodyTooLarge    Reason = "body_too_large"                // body over MaxBodyBytes
	ReasonMalformedBody   Reason = "malformed_body"                // a JSON body that is not a flat object
	ReasonBodyRepeatsKey  Reason = "body_repeats_query_key"        // a form body key also in the query
	ReasonMethod          Reason = "method_not_allowed"            // not GET or POST, or a method the source does not accept
	ReasonMediaType       Reason = "unsupported_media_type"        // a POST body that is neither form nor JSON, or not what the source accepts
	ReasonUnknownParam    Reason = "unknown_parameter"             // a parameter the dialect does not know, with Dialect.RejectUnknown
	ReasonUnfilledMacro   Reason = "unfilled_macro"                // a value such as "{clickid}" or "#s2#": the sender forgot a macro
	ReasonMissingClickID  Reason = "missing_click_id"              // neither click ID nor player ID
	ReasonBadClickID      Reason = "bad_click_id"                  // a click ID that is not valid in any accepted form
	ReasonBadClickIDSig   Reason = "bad_click_id_signature"        // a signed click ID or token that fails its signature: forged, mistyped, tampered, or signed with an unknown key
	ReasonNativeClickID   Reason = "native_click_id_not_accepted"  // a plain (unsigned) click ID, where the source accepts only signed ones
	ReasonForeignClickID  Reason = "foreign_click_id_not_accepted" // a click ID that is no form of ours (another system's, or one of ours truncated or mangled), where the source accepts only its own
	ReasonSignedClickID   Reason = "signed_click_id_not_accepted"  // a verified signed click ID, where the source's ClickKinds leave them out
	ReasonTokenClickID    Reason = "click_token_not_accepted"      // a verified signed token, where the source's ClickKinds leave them out
	ReasonMissingEvent    Reason = "missing_event"                 // no event and no Dialect.DefaultEvent
	ReasonMissingTxnID    Reason = "missing_transaction_id"        // no transaction ID for an event that can happen more than once for a player (# Exactly once)
	ReasonUnknownStatus   Reason = "unknown_status"                // a status the dialect does not map
	ReasonBadAmount       Reason = "bad_amount"                    // an amount outside money's grammar or a negative amount outside a reversal
	ReasonBadCurrency     Reason = "bad_currency"                  // a currency that is not ISO 4217
	ReasonMissingCurrency Reason = "missing_currency"              // an amount without currency and no Dialect.DefaultCurrency
	ReasonBadLots         Reason = "bad_lots"                      // lots outside the rate grammar, with a unit, or not positive
	ReasonBadRounds       Reason = "bad_rounds"                    // rounds that are not decimal digits, or more than MaxRounds
	ReasonBadOccurredAt   Reason = "bad_occurred_at"               // an event time that is neither Unix seconds nor RFC 3339, or not after 1970 and before 10000
	ReasonValueTooLong    Reason = "value_too_long"                // an identifier (player or transaction ID, event, status) over store.MaxKeyLen bytes, a sub ID over store.MaxSubIDLen
	ReasonBadValue        Reason = "bad_value"                     // an identifier with invalid UTF-8 or a control character, a sub ID with invalid UTF-8 or a NUL

	// Authentication.
	ReasonMissingTimestamp   Reason = "missing_timestamp"          // no ts (s2s v1) or webhook-timestamp
	ReasonMissingWebhookID   Reason = "missing_webhook_id"         // no webhook-id (Standard Webhooks)
	ReasonBadWebhookID       Reason = "bad_webhook_id"             // a webhook-id with a '.', which would make the signed content ambiguous
	ReasonBadTimestamp       Reason = "bad_timestamp"              // a timestamp that is not Unix seconds
	ReasonTimestampTolerance Reason = "timestamp_out_of_tolerance" // a timestamp too old or too far in the future
	ReasonMissingSignature   Reason = "missing_signature"          // no sig or webhook-signature (never a downgrade)
	ReasonBadSignature       Reason = "bad_signature"              // no signature matches
	ReasonUnknownKey         Reason = "unknown_key"                // a kid that no active key has
	ReasonTooManySignatures  Reason = "too_many_signatures"        // over MaxSignatures signatures
	ReasonMissingToken       Reason = "missing_token"              // no token on a token source
	ReasonBadToken           Reason = "bad_token"                  // a token that does not match
	ReasonIPNotAllowed       Reason = "ip_not_allowed"             // a client address outside the allowlist

	// Downstream.
	ReasonRejectedDownstream Reason = "rejected" // the Receiver rejected it without a more precise reason
)

// Sentinel errors. Every error of this package wraps one of them; test with errors.Is.
var (
	// ErrRejected is wrapped by the [*RejectError] of a received postback: the postback was
	// refused, and nothing downstream was called.
	ErrRejected = errors.New("postback: rejected")
	// ErrInvalidQuery is wrapped by the [*RejectError] of a query that [SignQuery] or
	// [StringToSign] cannot sign: it breaks a rule of the s2s v1 scheme (a malformed escape,
	// a repeated key, a ';', a limit, a sig already present), so a receiver would refuse it
	// for the same Reason. Nothing was received, so it is not ErrRejected.
	ErrInvalidQuery = errors.New("postback: invalid query")
	// ErrConfig reports an invalid configuration: a secret shorter than MinSecretLen, two keys
	// with one ID, a dialect mapping one name to two fields.
	ErrConfig = errors.New("postback: invalid configuration")
)

// RejectError is the error of a refused postback: a [Reason] for machines and a short
// message for people. Its message never contains a secret, a token or a signature; it names
// parameters, and quotes a value only where package money or clickid does (an amount that
// breaks the grammar). It wraps [ErrRejected], or, from [SignQuery] and [StringToSign],
// [ErrInvalidQuery]: the Reason a receiver would give.
//
// A RejectError is read-only: the common rejections are single values shared by every
// request, so their fields are reached through methods.
type RejectError struct {
	reason Reason
	field  string
	msg    string
	err    error
	query  bool // ErrInvalidQuery rather than ErrRejected: a query refused on the signing side
}

// sentinel returns the sentinel error that e wraps.
func (e *RejectError) sentinel() error {
	if e.query {
		return ErrInvalidQuery
	}
	return ErrRejected
}

// asQuery returns the error of the signing side for the rule that rej names.
func asQuery(rej *RejectError) *RejectError {
	q := *rej
	q.query = true
	return &q
}

// Reason returns the machine-readable cause.
func (e *RejectError) Reason() Reason { return e.reason }

// Field returns the parameter or header concerned, if any: its name, never its value.
func (e *RejectError) Field() string { return e.field }

// Error returns "postback: rejected: " (or "postback: invalid query: ") and the reason, the
// field and a short explanation.
func (e *RejectError) Error() string {
	s := e.sentinel().Error() + ": " + string(e.reason)
	if e.field != "" {
		s += " (" + e.field + ")"
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

// Unwrap returns [ErrRejected] (or [ErrInvalidQuery]) and, if any, the underlying error
// (from package money, clickid or store).
func (e *RejectError) Unwrap() []error {
	if e.err != nil {
		return []error{e.sentinel(), e.err}
	}
	return []error{e.sentinel()}
}

// ReasonOf returns the Reason of a rejection error (of a received postback, or of a query
// that cannot be signed), or "" if err is not one.
func ReasonOf(err error) Reason {
	var re *RejectError
	if errors.As(err, &re) {
		return re.reason
	}
	return ""
}

func reject(r Reason, msg string) *RejectError { return &RejectError{reason: r, msg: msg} }

func rejectField(r Reason, field, msg string, err error) *RejectError {
	return &RejectError{reason: r, field: field, msg: msg, err: err}
}

// Prebuilt rejections for the hot paths: returning them allocates nothing.
var (
	errMalformed        = reject(ReasonMalformedQuery, "invalid percent-escape or empty key")
	errSemicolon        = reject(ReasonSemicolon, "';' is not a separator")
	errRepeated         = reject(ReasonRepeatedKey, "a parameter is given more than once")
	errQueryTooLarge    = reject(ReasonQueryTooLarge, "query exceeds 8 KiB")
	errTooManyParams    = reject(ReasonTooManyParams, "more than 100 parameters")
	errBodyTooLarge     = reject(ReasonBodyTooLarge, "body exceeds 64 KiB")
	errMalformedBody    = reject(ReasonMalformedBody, "body is not a flat JSON object of strings, numbers and booleans")
	errBodyRepeats      = reject(ReasonBodyRepeatsKey, "a form body key repeats a query key")
	errMethod           = reject(ReasonMethod, "method not allowed for this source")
	errMediaType        = reject(ReasonMediaType, "content type not accepted by this source")
	errMissingTS        = reject(ReasonMissingTimestamp, "no timestamp")
	errMissingWebhookID = rejectField(ReasonMissingWebhookID, HeaderWebhookID, "no message ID", nil)
	errBadWebhookID     = rejectField(ReasonBadWebhookID, HeaderWebhookID, "a message ID contains '.'", nil)
	errBadTS            = reject(ReasonBadTimestamp, "timestamp is not Unix seconds")
	errTolerance        = reject(ReasonTimestampTolerance, "timestamp outside the tolerance")
	errMissingSig       = reject(ReasonMissingSignature, "no signature")
	errBadSig           = reject(ReasonBadSignature, "no signature matches")
	errUnknownKey       = reject(ReasonUnknownKey, "no active key with this key ID")
	errTooManySigs      = reject(ReasonTooManySignatures, "too many signatures")
	errMissingToken     = reject(ReasonMissingToken, "no token")
	errBadToken         = reject(ReasonBadToken, "token does not match")
	errIPNotAllowed     = reject(ReasonIPNotAllowed, "client address not allowed")
	errMissingClickID   = reject(ReasonMissingClickID, "neither click ID nor player ID")
	errMissingEvent     = reject(ReasonMissingEvent, "no event")
	errMissingCurrency  = reject(ReasonMissingCurrency, "amount without currency")
	errMissingTxnID     = reject(ReasonMissingTxnID, "this event can happen more than once for a player: it needs a transaction ID")
)
