package postback

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// ParseRequest parses and verifies an inbound postback request:
//   - the client address against SourceOptions.AllowIPs, if set;
//   - GET: the query, as [Source.ParseQuery] (HEAD and other methods are rejected,
//     ReasonMethod: a postback has effects);
//   - POST with an application/x-www-form-urlencoded body: the query and the body together,
//     as one set of parameters (a key in both is rejected, ReasonBodyRepeatsKey), signed
//     together by the s2s v1 scheme;
//   - POST with an application/json body (a flat object): the body's fields; the query is
//     not read, except for a token parameter. This is the only form a MethodStandardWebhooks
//     source accepts, and one a MethodSignedQuery source refuses.
//
// The body is read up to MaxBodyBytes; a longer one is rejected (ReasonBodyTooLarge) after
// reading no more than MaxBodyBytes+1 bytes. The path signed by s2s v1 is the path of
// r.RequestURI, as sent.
func (s *Source) ParseRequest(r *http.Request) (Postback, error) {
	var pb Postback
	if rej := s.parseRequest(&pb, r); rej != nil {
		return Postback{}, rej
	}
	return pb, nil
}

func (s *Source) parseRequest(pb *Postback, r *http.Request) *RejectError {
	if len(s.allow) > 0 {
		if !s.allowed(r) {
			return errIPNotAllowed
		}
	}
	var headerToken string
	if s.method == MethodToken && s.tokenHdr != "" {
		headerToken = r.Header.Get(s.tokenHdr)
		if headerToken == "" {
			return errMissingToken
		}
	}
	switch r.Method {
	case http.MethodGet:
		return s.parseQuery(pb, requestPath(r), r.URL.RawQuery, headerToken, nil)
	case http.MethodPost:
	default:
		return errMethod
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return errMediaType
	}
	body, rej := readBody(r.Body)
	if rej != nil {
		return rej
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		b := string(body)
		return s.parseQuery(pb, requestPath(r), r.URL.RawQuery, headerToken, &b)
	case "application/json":
		return s.parseJSON(pb, r, body, headerToken)
	}
	return errMediaType
}

// requestPath returns the path of the request target as sent (percent-encoded).
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if strings.HasPrefix(p, "/") {
		return p
	}
	return r.URL.EscapedPath()
}

func readBody(rc io.ReadCloser) ([]byte, *RejectError) {
	if rc == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(rc, MaxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, errMalformedBody
	}
	if len(body) > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// parseJSON handles a JSON POST: verification (Standard Webhooks or a token), then the
// body's fields.
func (s *Source) parseJSON(pb *Postback, r *http.Request, body []byte, headerToken string) *RejectError {
	now := s.now()
	w := s.getWork()
	defer s.putWork(w)
	switch s.method {
	case MethodSignedQuery:
		return errMediaType
	case MethodStandardWebhooks:
		kid, rej := s.verifyWebhook(w, r.Header, body, now)
		if rej != nil {
			return rej
		}
		pb.KeyID = kid
	case MethodToken:
		if s.tokenHdr == "" {
			// The token travels in the query.
			if len(r.URL.RawQuery) > MaxQueryBytes {
				return errQueryTooLarge
			}
			if rej := w.split(r.URL.RawQuery, false); rej != nil {
				return rej
			}
			if rej := w.canonicalize(); rej != nil {
				return rej
			}
			if rej := s.checkToken(w, ""); rej != nil {
				return rej
			}
			w.reset()
		} else if rej := s.checkToken(w, headerToken); rej != nil {
			return rej
		}
	}
	if rej := w.splitJSON(body); rej != nil {
		return rej
	}
	if rej := w.canonicalize(); rej != nil {
		return rej
	}
	return s.build(pb, w, now)
}

// splitJSON reads a flat JSON object of strings, numbers (kept as their literal text),
// booleans and nulls (skipped) into w. A repeated key is rejected.
func (w *work) splitJSON(body []byte) *RejectError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errMalformedBody
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errMalformedBody
		}
		k, _ := t.(string)
		t, err = dec.Token()
		if err != nil {
			return errMalformedBody
		}
		var v string
		switch t := t.(type) {
		case string:
			v = t
		case json.Number:
			v = t.String()
		case bool:
			v = strconv.FormatBool(t)
		case nil:
			continue
		default:
			return errMalformedBody
		}
		if rej := w.add(k, v); rej != nil {
			return rej
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return errMalformedBody
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformedBody
	}
	return nil
}

// verifyWebhook checks Standard Webhooks headers over body: HMAC-SHA256 of
// id "." timestamp "." body, base64, in "v1,<sig>" entries separated by spaces.
func (s *Source) verifyWebhook(w *work, h http.Header, body []byte, now time.Time) (string, *RejectError) {
	id := h.Get(HeaderWebhookID)
	tsv := h.Get(HeaderWebhookTimestamp)
	sigs := h.Get(HeaderWebhookSignature)
	if sigs == "" {
		return "", errMissingSig
	}
	if tsv == "" {
		return "", errMissingTS
	}
	if id == "" {
		return "", errMissingWebhookID
	}
	if strings.IndexByte(id, '.') >= 0 {
		return "", errBadWebhookID
	}
	ts, ok := parseUnix(tsv)
	if !ok {
		return "", errBadTS
	}
	if rej := checkTolerance(ts, now, s.tol); rej != nil {
		return "", rej
	}
	entries := strings.Fields(sigs)
	if len(entries) > MaxSignatures {
		return "", errTooManySigs
	}
	msg := make([]byte, 0, len(id)+len(tsv)+len(body)+2)
	msg = append(append(append(append(append(msg, id...), '.'), tsv...), '.'), body...)
	var want [sha256.Size]byte
	tried := false
	for _, e := range entries {
		v, sig, ok := strings.Cut(e, ",")
		if !ok || v != "v1" {
			continue // other versions are ignored, never a fallback
		}
		n, err := base64.StdEncoding.Decode(want[:], []byte(sig))
		if err != nil || n != sha256.Size || base64.StdEncoding.EncodedLen(n) != len(sig) {
			continue
		}
		for i, k := range s.ring {
			if !k.active(now) {
				continue
			}
			tried = true
			if w.mac(i, k).equal(msg, &want) {
				return k.ID, nil
			}
		}
	}
	if !tried {
		for _, k := range s.ring {
			if k.active(now) {
				return "", errBadSig
			}
		}
		return "", errUnknownKey
	}
	return "", errBadSig
}

// WebhookSecret decodes a Standard Webhooks secret: base64, with or without the "whsec_"
// prefix. The error wraps ErrConfig.
func WebhookSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil {
		return nil, fmt.Errorf("%w: webhook secret is not base64", ErrConfig)
	}
	return b, nil
}

// SignWebhook returns the Standard Webhooks signature ("v1," and base64) of a message with
// the given id, timestamp and raw body, for the webhook-signature header.
func SignWebhook(secret []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// allowed reports whether the request's client address is in the allowlist.
func (s *Source) allowed(r *http.Request) bool {
	ip, ok := s.clientIP(r)
	if !ok {
		return false
	}
	for _, p := range s.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP returns the client's address: the peer, or, if the peer is a trusted proxy, the
// rightmost X-Forwarded-For address that is not a trusted proxy.
func (s *Source) clientIP(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	if !inPrefixes(ip, s.proxies) {
		return ip, true
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return netip.Addr{}, false
			}
			a = a.Unmap()
			if !inPrefixes(a, s.proxies) {
				return a, true
			}
		}
	}
	return ip, true
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
