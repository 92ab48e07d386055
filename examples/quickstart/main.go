// Command quickstart is a tour of s2s that needs no setup: run it with
//
//	go run ./examples/quickstart
//
// It shows the pieces that exist today: click IDs (generate, sign, verify, reject a forged
// one), exact money (parse, rates, rounding, allocation, currency conversion), a signed
// postback received over HTTP and recorded exactly once (a retry, a forgery, an unfilled
// macro and a conflicting resend are each answered honestly, and a chargeback of the same
// transaction is applied as a status update), and a hybrid deal's CPA and
// RevShare, each line explaining itself. As the attribution package and the Tracker land, it
// grows into the whole flow: attribution, an outbound postback and a report.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/memstore"
)

func main() {
	log.SetFlags(0)
	if err := clickIDs(); err != nil {
		log.Fatal(err)
	}
	if err := exactMoney(); err != nil {
		log.Fatal(err)
	}
	if err := postbacks(); err != nil {
		log.Fatal(err)
	}
	if err := commissions(); err != nil {
		log.Fatal(err)
	}
}

func clickIDs() error {
	section("Click IDs")

	// A click on an affiliate's link mints an ID: time-ordered, 74 random bits.
	id, err := clickid.New()
	if err != nil {
		return err
	}
	fmt.Printf("new click ID         %s (created %s)\n", id, id.Timestamp().Format(time.RFC3339))
	fmt.Printf("  as a UUID          %s\n", id.UUIDString())

	// Operators' systems sometimes change case: the ID survives.
	back, err := clickid.Parse(upper(id.String()))
	if err != nil {
		return err
	}
	fmt.Printf("  parsed upper-case  same ID: %t\n", back == id)

	// Self-validating IDs: the tracker signs the ID it sends to the operator, and rejects a
	// forged or mistyped one before touching its database. Secrets come from a vault; here a
	// random one.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: secret})
	if err != nil {
		return err
	}
	signed := signer.Sign(id)
	fmt.Printf("signed click ID      %s\n", signed)
	if _, err := signer.Verify(signed); err != nil {
		return err
	}
	fmt.Println("  verify             ok")

	forged := signed[:len(signed)-1] + flip(signed[len(signed)-1])
	_, err = signer.Verify(forged)
	fmt.Printf("  verify a forgery   rejected: %t (%v)\n", errors.Is(err, clickid.ErrSignature), err)

	// A token carries the affiliate with the ID, so a conversion can be attributed even if
	// the click record is late.
	token, err := signer.SignToken(clickid.Token{ID: id, AffiliateID: "aff-42", CampaignID: "summer-casino"})
	if err != nil {
		return err
	}
	t, err := signer.VerifyToken(token)
	if err != nil {
		return err
	}
	fmt.Printf("signed token         %s\n  carries            affiliate %s, campaign %s\n", token, t.AffiliateID, t.CampaignID)
	return nil
}

func exactMoney() error {
	section("Exact money")

	// Amounts from postbacks are parsed with a strict grammar: no floats, no exponents,
	// no more decimals than the currency has.
	ftd, err := money.Parse("150.00", money.EUR, nil)
	if err != nil {
		return err
	}
	fmt.Printf("first deposit        %s (%d minor units)\n", ftd, ftd.Minor())
	for _, bad := range []string{"1e3", "NaN", "10.005"} {
		_, err := money.Parse(bad, money.EUR, nil)
		fmt.Printf("  refused %-10q %v\n", bad, err)
	}
	yen, err := money.Parse("1500", money.JPY, nil)
	if err != nil {
		return err
	}
	dinar, err := money.Parse("12.345", money.KWD, nil)
	if err != nil {
		return err
	}
	fmt.Printf("  other exponents    %s, %s\n", yen, dinar)

	// A 35% RevShare on 10.30 of net revenue is exactly 3.605: a tie. The rounding mode is
	// explicit and applied once, to the final figure.
	ngr := money.MustParse("10.30", money.EUR)
	share := money.MustParseRate("35%")
	fmt.Printf("35%% of %s     ", ngr)
	for _, mode := range []money.RoundingMode{money.HalfEven, money.HalfUp, money.Down, money.Ceil} {
		c, err := ngr.MulRate(share, mode)
		if err != nil {
			return err
		}
		fmt.Printf(" %s (%s)", c.Decimal(), mode)
	}
	fmt.Println()

	// A commission split between an affiliate and two sub-affiliates: the parts add up to
	// the whole, to the cent.
	pot := money.MustParse("100.00", money.EUR)
	parts, err := pot.Allocate(1, 1, 1)
	if err != nil {
		return err
	}
	fmt.Printf("100.00 EUR in thirds %s + %s + %s\n", parts[0], parts[1], parts[2])

	// Currency conversion records the rate, its source and its time with the result.
	x := money.ExchangeRate{
		From: money.EUR, To: money.USD, Rate: money.MustParseRate("1.0843"),
		Source: "ECB reference rate", At: time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC),
	}
	usd, err := ftd.Convert(x, money.HalfEven)
	if err != nil {
		return err
	}
	fmt.Printf("converted            %s = %s at %s (%s, %s)\n",
		usd.Original, usd.Amount, x.Rate, x.Source, x.At.Format(time.DateOnly))

	// Mixing currencies is an error, never a silent sum.
	_, err = ftd.Add(usd.Amount)
	fmt.Printf("EUR + USD            refused: %v\n", err)
	return nil
}

func postbacks() error {
	section("Postbacks, recorded exactly once")

	// The operator signs its postbacks with a secret shared with the tracker (s2s v1).
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	key := postback.Key{ID: "2026-11", Secret: secret}
	src, err := postback.NewSource("casino-x", postback.Auth{Method: postback.MethodSignedQuery, Keys: []postback.Key{key}}, nil)
	if err != nil {
		return err
	}

	// What happens to a verified postback: here, record it in the in-memory store. The
	// postback gives the record of what its sender said (Postback.Conversion); the receiver
	// adds what it decides: the dedup key, by attribution's default policy (source, event,
	// transaction), and the affiliate. (With the Tracker, attribution decides all of it, with
	// windows, models, a status machine and commissions.)
	st := memstore.New(nil)
	recv := postback.ReceiverFunc(func(ctx context.Context, pb *postback.Postback) (postback.Result, error) {
		conv := pb.Conversion()
		dedupKey, code := attribution.Dedup{}.Key(&conv)
		if code != "" { // never for a postback that parsing accepted
			return postback.Result{Outcome: postback.Rejected, Reason: postback.ReasonRejectedDownstream}, nil
		}
		conv.ID, conv.DedupKey, conv.AffiliateID = uuid.Must(uuid.NewV7()), dedupKey, "aff-42"
		c, err := st.RecordConversion(ctx, store.RecordConversionParams{Conversion: conv})
		switch {
		case err == nil:
			return postback.Result{Outcome: postback.Accepted}, nil
		case errors.Is(err, store.ErrDuplicate) && c.Status != conv.Status:
			// The same transaction with a new status: a status update (a chargeback), not a
			// retry. Apply it from the stored status; a concurrent update makes this a conflict.
			_, err := st.ChangeStatus(ctx, store.ChangeStatusParams{ConversionID: c.ID, From: c.Status, To: conv.Status,
				Reason: "status " + pb.OriginalStatus + " from " + pb.Source, At: pb.ReceivedAt})
			if errors.Is(err, store.ErrConflict) {
				return postback.Result{Outcome: postback.Conflict}, nil
			}
			if err != nil {
				return postback.Result{}, err
			}
			return postback.Result{Outcome: postback.Accepted}, nil
		case errors.Is(err, store.ErrDuplicate):
			return postback.Result{Outcome: postback.Duplicate}, nil
		case errors.Is(err, store.ErrConflict):
			return postback.Result{Outcome: postback.Conflict}, nil
		}
		return postback.Result{}, err
	})
	handler, err := postback.NewHandler(src, recv, nil)
	if err != nil {
		return err
	}

	click, err := clickid.New()
	if err != nil {
		return err
	}
	deposited := time.Now().Add(-2 * time.Minute).Unix()
	ftd := fmt.Sprintf("click_id=%s&event=ftd&amount=150.00&currency=EUR&txn_id=TX-99812&occurred_at=%d", click, deposited)
	signed, err := postback.SignQuery("/postback", ftd, key, time.Now())
	if err != nil {
		return err
	}
	conflicting, err := postback.SignQuery("/postback", strings.Replace(ftd, "150.00", "1500.00", 1), key, time.Now())
	if err != nil {
		return err
	}
	macro, err := postback.SignQuery("/postback", "click_id={clickid}&event=ftd&txn_id=TX-1", key, time.Now())
	if err != nil {
		return err
	}
	chargeback, err := postback.SignQuery("/postback", ftd+"&status=reversed", key, time.Now())
	if err != nil {
		return err
	}
	for _, tc := range []struct{ what, query string }{
		{"signed FTD", signed},
		{"the same, retried", signed},
		{"forged amount", strings.Replace(signed, "150.00", "15000.00", 1)},
		{"unfilled macro", macro},
		{"same txn, new amount", conflicting},
		{"same txn, reversed", chargeback},
		{"the reversal, retried", chargeback},
	} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/postback?"+tc.query, nil))
		fmt.Printf("%-22s %d %s", tc.what, rec.Code, rec.Body.String())
	}

	pb, err := src.ParseQuery("/postback", signed)
	if err != nil {
		return err
	}
	conv := pb.Conversion()
	dedupKey, _ := attribution.Dedup{}.Key(&conv) // source, event, transaction
	c, err := st.GetConversionByKey(context.Background(), dedupKey)
	if err != nil {
		return err
	}
	fmt.Printf("stored once            %s of %s, transaction %s, click %s\n", c.Event, c.Amount, c.TransactionID, c.ClickID)
	for _, h := range c.History {
		fmt.Printf("  status %-14s %s\n", h.Status, h.Reason)
	}
	return nil
}

func commissions() error {
	section("Commissions: a hybrid deal, explained")

	// The deal is data: CPA 100.00 EUR for a first deposit of at least 20.00 EUR, plus 30% of
	// NGR, where NGR = GGR × 83.5% − bonuses (the MGA formula, without payment fees).
	eur := func(s string) money.Amount { return money.MustParse(s, money.EUR) }
	plan := &commission.Plan{
		ID: "hybrid-2026", Currency: money.EUR,
		CPA: &commission.CPA{Amount: eur("100.00"), Baseline: commission.Baseline{MinFTD: eur("20.00")}},
		RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), Carryover: commission.CarryForward,
			NGR: commission.Formula{
				{Field: commission.GGR, Rate: money.MustParseRate("83.5%")},
				{Field: commission.Bonuses, Rate: money.MustParseRate("-1")},
			}},
	}
	if err := plan.Validate(); err != nil {
		return err
	}
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cpa, err := plan.CPALine(commission.CPAInput{
		AffiliateID: "aff-42", PlayerID: "p-1", EventID: "TX-99812", At: at, FTD: eur("150.00"),
	})
	if err != nil {
		return err
	}
	fmt.Println(cpa.Explain())

	rev := commission.Revenue{GGR: eur("1234.56"), Bonuses: eur("100.00")}
	ngr, err := plan.NGR(&rev)
	if err != nil {
		return err
	}
	share, carry, err := plan.RevShareLine(commission.RevShareInput{
		AffiliateID: "aff-42", Period: commission.PeriodOf(at, commission.Month, time.UTC), Players: 1, Revenue: &rev, NGR: ngr,
	})
	if err != nil {
		return err
	}
	fmt.Println(share.Explain())
	fmt.Printf("owed for November     %s (CPA) + %s (RevShare), carried to December: %s\n", cpa.Amount, share.Amount, carry)
	return nil
}

func section(title string) {
	fmt.Fprintf(os.Stdout, "\n== %s\n", title)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// flip returns another base32 character than c.
func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}
