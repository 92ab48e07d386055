package s2s_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// constants returns the values of the string constants of type typ declared in the non-test
// files of the package in dir, so that a constant added there is enumerated here with no
// list to keep.
func constants(t *testing.T, dir, typ string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				id, ok := vs.Type.(*ast.Ident)
				if !ok || id.Name != typ {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						u, err := strconv.Unquote(lit.Value)
						require.NoError(t, err)
						out = append(out, u)
					}
				}
			}
		}
	}
	return out
}

// TestSeams_EveryInboundRecordStores: every outcome the postback handler answers with, and
// every reason it gives (package postback's Reasons, attribution's Codes, the Tracker's
// own), makes an inbound record that the store accepts and gives back equal, on both stores.
func TestSeams_EveryInboundRecordStores(t *testing.T) {
	t.Parallel()
	reasons := constants(t, "postback", "Reason")
	codes := constants(t, "attribution", "Code")
	require.Contains(t, reasons, string(postback.ReasonBadSignature), "the enumeration finds postback's reasons")
	require.Greater(t, len(codes), 10, "the enumeration finds attribution's codes")
	reasons = append(append(reasons, codes...), string(s2s.ReasonUnknownSource))
	var outcomes []string
	for o := postback.Outcome(1); o.String() != "invalid"; o++ {
		outcomes = append(outcomes, o.String())
	}
	require.Equal(t, []string{"accepted", "duplicate", "rejected", "conflict"}, outcomes)
	outcomes = append(outcomes, "error")

	stores(t, func(t *testing.T, st store.Store) {
		at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		var want []store.InboundRecord
		add := func(outcome, reason string, status int) {
			r := store.InboundRecord{ID: uuid.Must(uuid.NewV7()), ReceivedAt: at.Add(time.Duration(len(want)) * time.Millisecond),
				Source: "casino-x", Method: http.MethodGet, Outcome: outcome, Reason: reason, HTTPStatus: status,
				Params: "click_id=x&sig=[redacted]", ConversionID: uuid.Must(uuid.NewV7()), Duration: time.Millisecond}
			require.NoError(t, r.Validate(), "rule: outcome %q, reason %q make a valid record", outcome, reason)
			require.NoError(t, st.LogInbound(t.Context(), r), "rule: the store keeps outcome %q, reason %q", outcome, reason)
			want = append(want, r)
		}
		for _, o := range outcomes {
			add(o, "", http.StatusAccepted)
		}
		for _, r := range reasons {
			add("rejected", r, postback.StatusCode(postback.Reason(r)))
		}
		got, err := st.ListInbound(t.Context(), store.ListInboundParams{Limit: 1000})
		require.NoError(t, err)
		require.Len(t, got, len(want))
		slices.Reverse(got)
		for i := range want {
			require.True(t, want[i].Normalize().Equal(got[i]), "rule: a record comes back as stored: %+v, got %+v", want[i], got[i])
		}
	})
}
