package outbound

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces every secret that Redact, RedactHeader and RedactSecrets remove.
const Redacted = "REDACTED"

// secretParams are the query parameters whose values Redact always removes, compared
// after lower-casing and turning '-' into '_'; a parameter that ends with "_" and one of
// secretSuffixes is removed too (auth_token, client_secret, x_api_key, ...).
var secretParams = map[string]bool{
	"sig": true, "signature": true, "token": true, "access_token": true, "refresh_token": true,
	"auth": true, "authorization": true, "key": true, "api_key": true, "apikey": true, "secret": true,
	"password": true, "passwd": true, "pass": true, "pwd": true, "security_token": true,
	"secure": true, "hash": true, "session": true, "sessionid": true, "jwt": true,
}

var secretSuffixes = []string{"token", "secret", "key", "password", "sig", "signature", "apikey"}

// secretHeaders are the headers whose values RedactHeader always removes (lower case); a
// header whose name contains one of secretHeaderWords is removed too.
var secretHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"webhook-signature": true,
}

var secretHeaderWords = []string{"token", "secret", "signature", "password", "api-key", "apikey", "auth"}

func isSecretParam(name string, extra []string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	if secretParams[n] {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, "_"+s) {
			return true
		}
	}
	for _, e := range extra {
		if strings.EqualFold(name, e) {
			return true
		}
	}
	return false
}

// Redact returns rawURL with secrets replaced by Redacted, for a log or an attempt record:
// the user information (user and password), and the values of query (and fragment)
// parameters named sig, signature, token, key, api_key, secret, password, hash, ... (and
// any name ending in _token, _secret, _key, _password, _sig, _signature), compared without
// case, and of the parameters named in secretParams. Everything else is left as it was
// written, escapes included. A URL that does not parse is replaced whole by Redacted.
//
// A secret in the path is not found by name: pass the values to RedactSecrets as well.
func Redact(rawURL string, secretParams ...string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Redacted
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	u.RawQuery = redactQuery(u.RawQuery, secretParams)
	if u.Fragment != "" {
		f := redactQuery(u.EscapedFragment(), secretParams)
		if ff, err := url.PathUnescape(f); err == nil {
			u.Fragment, u.RawFragment = ff, f
		} else {
			u.Fragment, u.RawFragment = Redacted, ""
		}
	}
	return u.String()
}

// redactQuery replaces the values of secret parameters in a raw query.
func redactQuery(q string, extra []string) string {
	if q == "" {
		return q
	}
	var b strings.Builder
	for i, seg := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, _, hasV := strings.Cut(seg, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasV && isSecretParam(name, extra) {
			b.WriteString(k)
			b.WriteString("=" + Redacted)
			continue
		}
		b.WriteString(seg)
	}
	return b.String()
}

// RedactHeader returns a copy of h with the values of secret headers replaced by Redacted:
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, webhook-signature, any header
// whose name contains token, secret, signature, password, api-key or auth, and the headers
// named in secretHeaders (compared without case). h is not changed.
func RedactHeader(h http.Header, secretHeaders ...string) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		if isSecretHeader(k, secretHeaders) {
			r := make([]string, len(vs))
			for i := range r {
				r[i] = Redacted
			}
			out[k] = r
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func isSecretHeader(name string, extra []string) bool {
	n := strings.ToLower(name)
	if secretHeaders[n] {
		return true
	}
	for _, w := range secretHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	for _, e := range extra {
		if strings.EqualFold(name, e) {
			return true
		}
	}
	return false
}

// RedactSecrets returns s with every occurrence of each non-empty secret replaced by
// Redacted, as written and in its query and path escapes: for a response that echoes the
// request (an error page that quotes the URL), or a URL with a secret in its path. Longer
// secrets are replaced first, so that one secret inside another leaves nothing behind.
func RedactSecrets(s string, secrets ...string) string {
	var forms []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		forms = append(forms, sec, url.QueryEscape(sec), url.PathEscape(sec))
	}
	slices.SortStableFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, Redacted)
	}
	return s
}
