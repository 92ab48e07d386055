package statuspage

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// view is what every page's template gets: the page's own data in Data.
type view struct {
	Route    string
	Title    string
	ReadOnly bool
	CSRF     string
	Notice   string
	Error    string // a problem to show on the page, above its data
	Data     any
}

// notices are the messages an action's redirect may ask a page to show, by code: the page
// never shows text from the query string.
var notices = map[string]string{
	"replayed":         "Replayed: the delivery is pending again, with the same event ID, and is attempted at once.",
	"not-dead":         "Not replayed: only a dead delivery can be replayed, and this one is not dead (any more).",
	"enabled":          "Enabled: the endpoint's pending deliveries are sent again. Its dead deliveries stay dead until replayed.",
	"already-enabled":  "Not changed: the endpoint was enabled already.",
	"replayed-all":     "Replayed the dead deliveries counted on the confirmation page; they keep their event IDs.",
	"action-failed":    "The action failed: the store could not be reached. Nothing was changed; try again.",
	"not-found":        "Not found: the record no longer exists.",
	"replayed-all-err": "The bulk replay failed: the store could not be reached. Nothing was replayed; try again.",
}

func notice(r *http.Request) string {
	msg := notices[r.URL.Query().Get("notice")]
	if n := r.URL.Query().Get("n"); msg != "" && n != "" {
		if k, err := strconv.Atoi(n); err == nil && k >= 0 {
			msg += fmt.Sprintf(" Count: %d.", k)
		}
	}
	return msg
}

// Formatting of the templates.

const timeLayout = "2006-01-02 15:04:05.000 UTC"

func utcText(t time.Time) string { return t.UTC().Format(timeLayout) }

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// maxShown is the most bytes of a free text (a response, parameters, a body) a page shows;
// the rest is cut, at a character's boundary, and the cut said.
const maxShown = 2048

type clipped struct {
	Text string
	Cut  int // bytes left out
}

func clip(s string) clipped {
	if len(s) <= maxShown {
		return clipped{Text: s}
	}
	n := maxShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return clipped{Text: s[:n], Cut: len(s) - n}
}

// statusClass returns the class that colours a status word; the word is always shown.
func statusClass(word string) string {
	switch word {
	case "accepted", "delivered", "approved", "enabled", "ok":
		return "ok"
	case "duplicate", "pending", "retrying":
		return "warn"
	case "rejected", "conflict", "dead", "reversed", "disabled", "failed":
		return "bad"
	}
	return "info"
}

// Redaction: one choke point for every text that might hold a secret.

// secretAssign finds name=value pairs whose name says secret, in free text (a response that
// echoes the request, an error): their values are replaced.
var secretAssign = regexp.MustCompile(`(?i)\b((?:[a-z0-9_-]*_)?(?:sig|signature|token|access_token|auth|authorization|key|api_?key|secret|password|passwd|pwd|hash|session|sessionid|jwt))(=|":\s*"|:\s*)([^&\s"'<>,;]+)`)

// redactor removes secrets from what a page shows: the configured endpoints' secrets and
// signing secrets, wherever they appear, and the values of secret-named parameters.
type redactor struct {
	secrets []string
}

func (h *Handler) redactor() redactor {
	var rd redactor
	if h.endpoints == nil {
		return rd
	}
	for _, e := range h.endpoints() {
		if e == nil {
			continue
		}
		for _, s := range e.Secrets {
			rd.secrets = append(rd.secrets, s)
		}
		if e.Signing.Secret != "" {
			rd.secrets = append(rd.secrets, e.Signing.Secret)
		}
	}
	return rd
}

// text redacts free text.
func (rd redactor) text(s string) string {
	s = outbound.RedactSecrets(s, rd.secrets...)
	return secretAssign.ReplaceAllString(s, "${1}${2}"+outbound.Redacted)
}

// url redacts a URL: user information, secret-named query parameters, configured secrets.
func (rd redactor) url(u string) string {
	return rd.text(outbound.Redact(outbound.RedactSecrets(u, rd.secrets...)))
}

// header redacts a header for display, as "Name: value" lines.
func (rd redactor) header(h http.Header) []string {
	var out []string
	for k, vs := range outbound.RedactHeader(h) {
		for _, v := range vs {
			out = append(out, k+": "+rd.text(v))
		}
	}
	return out
}

// params redacts an inbound record's parameters (a query string, redacted by its writer
// already): again, by name, in case the writer missed one.
func (rd redactor) params(p string) string {
	segs := strings.Split(p, "&")
	for i, seg := range segs {
		k, _, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if secretName(name) {
			segs[i] = k + "=" + outbound.Redacted
		}
	}
	return rd.text(strings.Join(segs, "&"))
}

// secretName reports whether outbound.Redact takes a parameter so named for a secret.
func secretName(name string) bool {
	q := "?" + url.QueryEscape(name) + "=x"
	return outbound.Redact(q) != q
}

// Cursors: a listing's position as a query parameter, parsed strictly.

func timeCursor(c store.Cursor) string {
	return strconv.FormatInt(c.At.UnixMicro(), 10) + "_" + c.ID.String()
}

func parseTimeCursor(s string) (store.Cursor, error) {
	if s == "" {
		return store.Cursor{}, nil
	}
	ts, id, ok := strings.Cut(s, "_")
	if !ok || len(s) > 64 {
		return store.Cursor{}, fmt.Errorf("after: not a cursor of this page")
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return store.Cursor{}, fmt.Errorf("after: not a cursor of this page")
	}
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return store.Cursor{}, fmt.Errorf("after: not a cursor of this page")
	}
	return store.Cursor{At: time.UnixMicro(us).UTC(), ID: u}, nil
}

// link returns a relative link to route with the query q, the empty values left out.
func link(route string, q url.Values) string {
	for k, v := range q {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		if route == "" {
			return "./"
		}
		return route
	}
	if route == "" {
		route = "./"
	}
	return route + "?" + q.Encode()
}

var funcs = template.FuncMap{
	"utc":         utcText,
	"rfc3339":     rfc3339,
	"statusClass": statusClass,
	"latency":     func(d time.Duration) string { return d.Round(time.Microsecond).String() },
	"clip":        clip,
	"short":       func(id uuid.UUID) string { return id.String() },
	"isNil":       func(id uuid.UUID) bool { return id == uuid.Nil },
	"inc":         func(i int) int { return i + 1 },
	"replayArgs":  func(csrf string, id uuid.UUID) replayForm { return replayForm{csrf, id} },
}

func parsePages(css string) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).Funcs(template.FuncMap{
		"css": func() template.CSS { return template.CSS(css) },
	}).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("statuspage: templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "inbound", "conversions", "deliveries", "delivery", "replayall", "endpoints", "endpoint", "statements", "find", "timeline"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("statuspage: templates: %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page name with v, status code code.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, v *view) {
	var b strings.Builder
	if err := h.pages[name].ExecuteTemplate(&b, "layout.html", v); err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "statuspage: rendering a page", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

type replayForm struct {
	CSRF string
	ID   uuid.UUID
}
