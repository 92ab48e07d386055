package outbound_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/s2skit/s2s/outbound"
)

// ExampleNewClient shows the guard refusing an internal address, and what the affiliate
// sees of it.
func ExampleNewClient() {
	c := outbound.NewClient(nil)
	_, err := c.Get("https://169.254.169.254/latest/meta-data/")
	fmt.Println(outbound.Classify(nil, err))
	fmt.Println(outbound.Failure(nil, err))
	_, err = c.Get("https://0x7f.1/")
	fmt.Println(outbound.Failure(nil, err))
	// Output:
	// ssrf
	// outbound: ssrf: the destination address is not allowed
	// outbound: ssrf: the host is an IP address in a non-standard form
}

// ExampleSigning_Sign signs a request with Standard Webhooks headers.
func ExampleSigning_Sign() {
	s := outbound.Signing{Scheme: outbound.SchemeStandardWebhooks, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	body := []byte(`{"test": 2432232314}`)
	req := httptest.NewRequest(http.MethodPost, "https://tracker.example/hook", nil)
	if err := s.Sign(req, "msg_p5jXN8AQM9LWM0D4loKWxJek", body, time.Unix(1614265330, 0)); err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("webhook-id"))
	fmt.Println(req.Header.Get("webhook-timestamp"))
	fmt.Println(req.Header.Get("webhook-signature"))
	// Output:
	// msg_p5jXN8AQM9LWM0D4loKWxJek
	// 1614265330
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// ExampleRedact cleans a sent URL for the attempt log.
func ExampleRedact() {
	fmt.Println(outbound.Redact("https://bob:pw@tracker.example/cb?click_id=abc&token=t0k&ts=1780000000&sig=9f8e", "click_id"))
	// Output:
	// https://REDACTED@tracker.example/cb?click_id=REDACTED&token=REDACTED&ts=1780000000&sig=REDACTED
}
