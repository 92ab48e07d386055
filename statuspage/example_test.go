package statuspage_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store/memstore"
)

// The page mounted at /status, behind a host's check of its own admin session.
func Example() {
	st := memstore.New(nil)
	page, err := statuspage.New(st, &statuspage.Options{
		Authorize: func(r *http.Request) error {
			if r.Header.Get("X-Admin") != "yes" { // the host's own session check
				return fmt.Errorf("not an admin")
			}
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", page))

	for _, admin := range []string{"no", "yes"} {
		r := httptest.NewRequest(http.MethodGet, "/status/inbound?outcome=rejected", nil)
		r.Header.Set("X-Admin", admin)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.Contains(w.Body.String(), "Inbound postbacks, newest first: rejected only"))
	}
	// Output:
	// 403 false
	// 200 true
}
