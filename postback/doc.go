// Package postback will hold inbound and outbound postbacks.
//
// Inbound: parsing of GET query, form POST and JSON POST into one canonical Postback; sender
// dialects (Everflow, Voluum, Keitaro, Binom, Affise, CAKE, TUNE/HasOffers, RedTrack, Scaleo,
// MyAffiliates and custom); verification per source with no silent downgrade (the s2s v1
// signed query, Standard Webhooks, static tokens, IP allowlists); strict input limits; and an
// http.Handler that answers honestly: accepted, duplicate, rejected with a reason, or conflict.
//
// Outbound: URL and body templates for every macro dialect in use, checked when parsed;
// signing; delivery with retries, backoff, an SSRF guard and an outbox in the store.
//
// This package has no code yet.
package postback
