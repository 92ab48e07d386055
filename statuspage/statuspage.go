package statuspage

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// DefaultPageSize is the number of rows a listing shows when Options.PageSize is 0.
const DefaultPageSize = 50

// MaxPageSize is the most rows a listing may show: one less than a store's largest page, so
// that the page can ask for one more row to know whether there is a next page.
const MaxPageSize = 999

// DefaultFailureWindow is the window of an endpoint's failure rate when
// Options.FailureWindow is 0: the attempts that finished in the last day.
const DefaultFailureWindow = 24 * time.Hour

// MaxFailureWindow is the longest window of an endpoint's failure rate.
const MaxFailureWindow = 31 * 24 * time.Hour

// ErrNoAuth is returned by New when Options has neither an Authorize hook nor
// Unauthenticated set: a status page shows an affiliate programme's traffic and replays its
// postbacks, so it is never served open by accident.
var ErrNoAuth = errors.New("statuspage: an Authorize hook is required, or Unauthenticated set to serve the page without one")

// Actions performs the page's actions. *outbound.Worker is one: its Replay and Enable wake it
// (Notify) so that a replayed delivery is attempted at once. Options.Actions nil means the
// store's ReplayDelivery and EnableEndpoint, at Options.Now, with no worker to wake.
type Actions interface {
	// Replay makes a dead delivery pending again, due now, keeping its ID.
	Replay(ctx context.Context, id uuid.UUID) (store.Delivery, error)
	// Enable enables a disabled endpoint.
	Enable(ctx context.Context, name string) (store.EndpointState, error)
	// Notify tells the sender that deliveries may be due. It must not block.
	Notify()
}

// Options configures New. Authorize or Unauthenticated is required; every other zero value
// is a default.
type Options struct {
	// Authorize is called first on every request; an error refuses it with 403 Forbidden
	// (the error is logged, never shown). It is where a host checks its own session or
	// credentials when it does not wrap the handler in its own middleware.
	Authorize func(*http.Request) error
	// Unauthenticated serves the page without an Authorize hook: for a host that puts the
	// handler behind authentication of its own (a middleware, a reverse proxy), or for a
	// demonstration on loopback. It must be set explicitly.
	Unauthenticated bool
	// ReadOnly leaves out the actions (replay, re-enable): the page shows no buttons and
	// refuses every POST.
	ReadOnly bool
	// Actions performs replays and re-enabling; nil means the store's own methods.
	Actions Actions
	// Endpoints returns the configured outbound endpoints, for the endpoints' listing
	// (their preset, method, URL and signing scheme, secrets redacted) and so that their
	// secrets are redacted wherever they might appear (a receiver's response that echoes
	// the request). nil lists only the endpoints the store knows.
	Endpoints func() outbound.Endpoints
	// Now is the clock of actions and default periods; nil means time.Now.
	Now func() time.Time
	// Logger gets a record per failed store call and per refused request, never a secret;
	// nil discards them.
	Logger *slog.Logger
	// PageSize is the number of rows per page of every listing: 0 means DefaultPageSize,
	// at most MaxPageSize.
	PageSize int
	// CSRFKey is the HMAC key of the CSRF tokens, at least 32 bytes; nil means a random key
	// drawn by New, so that tokens last as long as the process. Hosts that run several
	// instances behind a load balancer give them one key.
	CSRFKey []byte
	// Rand is the randomness of the CSRF key and cookies; nil means crypto/rand.Reader.
	Rand io.Reader
	// FailureWindow is the window of an endpoint's failure rate (the attempts that
	// finished in it, and how many failed), up to Now: 0 means DefaultFailureWindow, at
	// most MaxFailureWindow. The endpoint's page names it.
	FailureWindow time.Duration
}

// Handler serves the status page. It is an http.Handler whose links are relative, to be
// mounted at a prefix with http.StripPrefix: mux.Handle("/status/", http.StripPrefix("/status", h)).
// It is safe for concurrent use.
type Handler struct {
	st        store.Store
	auth      func(*http.Request) error
	readOnly  bool
	actions   Actions
	endpoints func() outbound.Endpoints
	now       func() time.Time
	log       *slog.Logger
	pageSize  int
	window    time.Duration
	csrfKey   []byte
	rand      io.Reader
	cop       *http.CrossOriginProtection
	pages     map[string]*template.Template
	csp       string
}

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

// New returns a Handler that shows the records of st. It refuses to build without
// Options.Authorize unless Options.Unauthenticated is set (ErrNoAuth); bad options are an
// error naming the field.
func New(st store.Store, opts *Options) (*Handler, error) {
	if st == nil {
		return nil, errors.New("statuspage: a store is required")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Authorize == nil && !o.Unauthenticated {
		return nil, ErrNoAuth
	}
	if o.PageSize < 0 || o.PageSize > MaxPageSize {
		return nil, fmt.Errorf("statuspage: PageSize is %d, want 0 (the default) to %d", o.PageSize, MaxPageSize)
	}
	if o.FailureWindow < 0 || o.FailureWindow > MaxFailureWindow {
		return nil, fmt.Errorf("statuspage: FailureWindow is %s, want 0 (the default) to %s", o.FailureWindow, MaxFailureWindow)
	}
	if o.CSRFKey != nil && len(o.CSRFKey) < 32 {
		return nil, fmt.Errorf("statuspage: CSRFKey has %d bytes, want at least 32", len(o.CSRFKey))
	}
	h := &Handler{
		st:        st,
		auth:      o.Authorize,
		readOnly:  o.ReadOnly,
		actions:   o.Actions,
		endpoints: o.Endpoints,
		now:       o.Now,
		log:       o.Logger,
		pageSize:  cmp.Or(o.PageSize, DefaultPageSize),
		window:    cmp.Or(o.FailureWindow, DefaultFailureWindow),
		rand:      cmp.Or[io.Reader](o.Rand, rand.Reader),
		cop:       http.NewCrossOriginProtection(),
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.actions == nil {
		h.actions = storeActions{st: st, now: h.now}
	}
	if o.CSRFKey != nil {
		h.csrfKey = append([]byte(nil), o.CSRFKey...)
	} else {
		h.csrfKey = make([]byte, 32)
		if _, err := io.ReadFull(h.rand, h.csrfKey); err != nil {
			return nil, fmt.Errorf("statuspage: drawing a CSRF key: %w", err)
		}
	}
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	sum := sha256.Sum256(css)
	h.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	if h.pages, err = parsePages(string(css)); err != nil {
		return nil, err
	}
	return h, nil
}

// storeActions performs the actions on the store, when no Actions are given.
type storeActions struct {
	st  store.Store
	now func() time.Time
}

func (a storeActions) Replay(ctx context.Context, id uuid.UUID) (store.Delivery, error) {
	return a.st.ReplayDelivery(ctx, store.ReplayDeliveryParams{DeliveryID: id, At: a.now()})
}

func (a storeActions) Enable(ctx context.Context, name string) (store.EndpointState, error) {
	return a.st.EnableEndpoint(ctx, store.EnableEndpointParams{Name: name, At: a.now()})
}

func (storeActions) Notify() {}

// maxForm bounds the body of an action's form.
const maxForm = 4 << 10

// ServeHTTP serves the page at r.URL.Path, relative to where the handler is mounted.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if h.auth != nil {
		if err := h.auth(r); err != nil {
			// The hook's error is not logged: the host wrote it, and it may quote a credential.
			h.log.LogAttrs(r.Context(), slog.LevelInfo, "statuspage: request refused by Authorize", slog.String("remote_addr", r.RemoteAddr), slog.String("path", r.URL.Path))
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
	}
	p := r.URL.Path
	if p == "" {
		// Mounted with http.StripPrefix("/status", h) and asked for "/status": the page's
		// relative links need the trailing slash.
		w.Header().Set("Location", lastSegment(r)+"/")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	route, ok := strings.CutPrefix(p, "/")
	if !ok || strings.Contains(route, "/") {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodPost {
		h.servePost(w, r, route)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	get, ok := map[string]func(http.ResponseWriter, *http.Request, *view){
		"":            h.overview,
		"inbound":     h.inbound,
		"conversions": h.conversions,
		"deliveries":  h.deliveries,
		"delivery":    h.delivery,
		"replay-all":  h.replayAllConfirm,
		"endpoints":   h.endpointList,
		"endpoint":    h.endpoint,
		"statements":  h.statements,
		"find":        h.find,
		"timeline":    h.timeline,
	}[route]
	if !ok {
		http.NotFound(w, r)
		return
	}
	v := &view{Route: route, ReadOnly: h.readOnly, CSRF: h.csrfToken(w, r), Notice: notice(r)}
	get(w, r, v)
}

// servePost runs an action: POST only, same origin (http.CrossOriginProtection) and a valid
// CSRF token, else 403 and nothing changes.
func (h *Handler) servePost(w http.ResponseWriter, r *http.Request, route string) {
	action, ok := map[string]func(http.ResponseWriter, *http.Request){
		"replay":     h.replay,
		"replay-all": h.replayAll,
		"enable":     h.enable,
	}[route]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if h.readOnly {
		http.Error(w, "forbidden: the status page is read-only", http.StatusForbidden)
		return
	}
	if err := h.cop.Check(r); err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "statuspage: cross-origin action refused", slog.String("action", route))
		http.Error(w, "forbidden: cross-origin request", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request: the form does not parse", http.StatusBadRequest)
		return
	}
	if !h.checkCSRF(r) {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "statuspage: action without a valid CSRF token refused", slog.String("action", route))
		http.Error(w, "forbidden: missing or invalid CSRF token; reload the page and try again", http.StatusForbidden)
		return
	}
	action(w, r)
}

// csrfCookie names the cookie of the double-submit CSRF check.
const csrfCookie = "s2s_statuspage_csrf"

// csrfToken returns the token of r's CSRF cookie, setting a new cookie when r has none: the
// HMAC of the cookie's random value under the handler's key, which a form carries back.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if h.readOnly {
		return ""
	}
	if c, err := r.Cookie(csrfCookie); err == nil && validCookieValue(c.Value) {
		return h.sign(c.Value)
	}
	var b [32]byte
	if _, err := io.ReadFull(h.rand, b[:]); err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "statuspage: drawing a CSRF cookie", slog.String("error", err.Error()))
		return ""
	}
	val := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: val, Path: mountPath(r), HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	return h.sign(val)
}

func validCookieValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

func (h *Handler) sign(cookie string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("statuspage csrf v1\x00"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether r carries its cookie's token in the form field "csrf".
func (h *Handler) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validCookieValue(c.Value) {
		return false
	}
	got := r.PostForm.Get("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(h.sign(c.Value)))
}

// mountPath returns the path the handler is mounted at, with a trailing slash: the request's
// path as the client sent it, less the path the handler sees (what http.StripPrefix left).
func mountPath(r *http.Request) string {
	raw, _, _ := strings.Cut(r.RequestURI, "?")
	if prefix, ok := strings.CutSuffix(raw, r.URL.EscapedPath()); ok && strings.HasPrefix(prefix, "/") {
		return prefix + "/"
	}
	return "/"
}

// lastSegment returns the last segment of the request's path as the client sent it, for a
// relative redirect that adds a trailing slash.
func lastSegment(r *http.Request) string {
	raw, _, _ := strings.Cut(r.RequestURI, "?")
	if i := strings.LastIndexByte(raw, '/'); i >= 0 {
		raw = raw[i+1:]
	}
	if raw == "" {
		return "."
	}
	return "./" + raw
}

// redirect answers 303 See Other with a relative Location, resolved by the browser against
// the action's URL, so that it stays under the prefix the handler is mounted at.
func redirect(w http.ResponseWriter, rel string) {
	w.Header().Set("Location", rel)
	w.WriteHeader(http.StatusSeeOther)
}
