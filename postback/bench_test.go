package postback_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/postback/postbacktest"
)

const benchQuery = "click_id=01j3st4z2efcd9y00w5mz4ypkb&event=ftd&amount=150.00&currency=EUR&txn_id=TX-99812"

func benchSetup(b *testing.B) (*postback.Source, string) {
	c := &clock{t: t0}
	src := signedSource(b, c)
	return src, sign(b, "/postback", benchQuery, postback.Key{Secret: secret}, t0)
}

// BenchmarkParseVerify: a typical signed GET postback, from raw query to a verified Postback.
func BenchmarkParseVerify(b *testing.B) {
	src, q := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		pb, err := src.ParseQuery("/postback", q)
		if err != nil || !pb.HasAmount {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseVerifyParallel is BenchmarkParseVerify from GOMAXPROCS goroutines.
func BenchmarkParseVerifyParallel(b *testing.B) {
	src, q := benchSetup(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := src.ParseQuery("/postback", q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBaselineStdlib is what a user would write with the standard library: ParseQuery,
// sort, hmac.New, hex.DecodeString, hmac.Equal.
func BenchmarkBaselineStdlib(b *testing.B) {
	_, q := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := baselineVerify("/postback", q); err != nil {
			b.Fatal(err)
		}
	}
}

func baselineVerify(path, rawQuery string) error {
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return err
	}
	sig := vals.Get("sig")
	keys := make([]string, 0, len(vals))
	for k := range vals {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString("s2s-v1\n" + path + "\n")
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(vals.Get(k)))
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(sb.String()))
	want, err := hex.DecodeString(sig)
	if err != nil {
		return err
	}
	if !hmac.Equal(mac.Sum(nil), want) {
		return errors.New("bad signature")
	}
	return nil
}

// BenchmarkHandler serves a signed GET postback through the Handler with httptest.
func BenchmarkHandler(b *testing.B) {
	src, q := benchSetup(b)
	h := newHandler(b, src, &postbacktest.Recorder{Result: postback.Result{Outcome: postback.Duplicate}}, nil)
	req := httptest.NewRequest(http.MethodGet, "/postback?"+q, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
