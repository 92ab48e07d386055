package postbacktest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/postback"
)

// SignedRequest returns a GET request for target (a path with its query, or a full URL)
// signed with the s2s v1 scheme by key at time at: ts, kid (if key.ID is set) and sig are
// appended to the query. It fails tb if target cannot be signed.
func SignedRequest(tb testing.TB, target string, key postback.Key, at time.Time) *http.Request {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatalf("postbacktest: parse %q: %v", target, err)
	}
	q, err := postback.SignQuery(u.EscapedPath(), u.RawQuery, key, at)
	if err != nil {
		tb.Fatalf("postbacktest: sign: %v", err)
	}
	u.RawQuery = q
	return httptest.NewRequest(http.MethodGet, u.String(), nil)
}

// SignedFormRequest returns a POST request for target with a form body, signed with the s2s
// v1 scheme over the query and the body together.
func SignedFormRequest(tb testing.TB, target string, form string, key postback.Key, at time.Time) *http.Request {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatalf("postbacktest: parse %q: %v", target, err)
	}
	all := u.RawQuery
	if all != "" && form != "" {
		all += "&"
	}
	all += form
	signed, err := postback.SignQuery(u.EscapedPath(), all, key, at)
	if err != nil {
		tb.Fatalf("postbacktest: sign: %v", err)
	}
	// The signature parameters go in the query; the form keeps its own fields.
	extra := signed[len(all):]
	if len(extra) > 0 && extra[0] == '&' {
		extra = extra[1:]
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + extra
	} else {
		u.RawQuery = extra
	}
	r := httptest.NewRequest(http.MethodPost, u.String(), bytes.NewBufferString(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// WebhookRequest returns a JSON POST request for target signed with Standard Webhooks by
// each of secrets (several signatures, as during a rotation), with message id id at time at.
func WebhookRequest(tb testing.TB, target, id string, body []byte, at time.Time, secrets ...[]byte) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(postback.HeaderWebhookID, id)
	r.Header.Set(postback.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	var sigs string
	for i, s := range secrets {
		if i > 0 {
			sigs += " "
		}
		sigs += postback.SignWebhook(s, id, at, body)
	}
	r.Header.Set(postback.HeaderWebhookSignature, sigs)
	return r
}

// Recorder is a fake postback.Receiver that records every postback it receives. It answers
// like a pipeline that records postback.Postback.Conversion in a store under its dedup key,
// which attribution builds (attribution.Dedup.Key, under the policy Dedup): the first
// postback of a key is Accepted; a later one with the same content
// (store.Conversion.SameContent) is a Duplicate, or, with another status, a status update,
// Accepted; a later one with other content is a Conflict. If Result is set it is returned instead,
// for every postback. The zero value is ready; it is safe for concurrent use.
type Recorder struct {
	// Result, if its Outcome is set, is returned for every postback.
	Result postback.Result
	// Err, if set, is returned for every postback (after recording it).
	Err error
	// Dedup is the dedup policy of the pipeline the Recorder stands for (its
	// attribution.Config.Dedup). The zero Dedup is attribution's default, which keys every
	// postback that parsing accepts. A postback the policy cannot key (DedupPlayerEvent
	// without a player ID) is Rejected (postback.ReasonRejectedDownstream); under
	// DedupEvery, every postback is a conversion of its own.
	Dedup attribution.Dedup

	mu   sync.Mutex
	all  []postback.Postback
	seen map[string]postback.Postback // by dedup key
}

// Receive implements postback.Receiver.
func (r *Recorder) Receive(_ context.Context, pb *postback.Postback) (postback.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, *pb)
	if r.Err != nil {
		return postback.Result{}, r.Err
	}
	if r.Result.Outcome != 0 {
		return r.Result, nil
	}
	if r.seen == nil {
		r.seen = map[string]postback.Postback{}
	}
	c := pb.Conversion()
	c.ID = uuid.New() // DedupEvery keys a conversion by its ID: every postback is new
	key, code := r.Dedup.Key(&c)
	if code != "" {
		return postback.Result{Outcome: postback.Rejected, Reason: postback.ReasonRejectedDownstream}, nil
	}
	prev, ok := r.seen[key]
	if !ok {
		r.seen[key] = *pb
		return postback.Result{Outcome: postback.Accepted}, nil
	}
	switch {
	case !prev.Conversion().SameContent(pb.Conversion()):
		return postback.Result{Outcome: postback.Conflict}, nil
	case prev.Status != pb.Status:
		r.seen[key] = *pb
		return postback.Result{Outcome: postback.Accepted}, nil
	}
	return postback.Result{Outcome: postback.Duplicate}, nil
}

// Postbacks returns a copy of the postbacks received so far, in order.
func (r *Recorder) Postbacks() []postback.Postback {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]postback.Postback(nil), r.all...)
}

// Len returns the number of postbacks received so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}
