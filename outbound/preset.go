package outbound

import (
	"net/url"
	"strings"

	"github.com/s2skit/s2s/event"
)

// preset is a receiver's documented postback URL, written with our macros: the path and the
// parameters appended to an endpoint's base URL, and the receiver's words for statuses.
//
// The receiver's click ID is {foreign_click_id} everywhere: the ID the receiver put on the
// click (Values.ForeignClickID). The conversion's ID goes where the receiver dedups or
// updates a conversion (txid, tid, action_id...): it is the same for every status change
// and every retry of one conversion, so a retry is never counted twice and a status change
// updates the conversion the receiver already has.
type preset struct {
	name    string
	doc     string // the documentation page the URL follows
	dialect string
	method  string
	path    string        // appended to the base URL's path; may hold a secret macro (keyPath)
	keyPath string        // a secret that, when configured, is a path segment before path
	params  []presetParam // appended to the base URL's query, in order
	// requires lists the parameters the base URL's query must set (constants of the
	// receiver's account, such as Everflow's nid).
	requires []string
	status   map[event.Status]string
}

// presetParam is one parameter of a preset's query.
type presetParam struct {
	name, value string
	// secret names the secret the value is; the parameter is sent only when the endpoint has
	// the secret, unless required.
	secret   string
	required bool
}

// presets lists the presets by name. It is never modified.
var presets = [...]preset{
	{
		// https://helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls: nid and
		// transaction_id required, amount in the offer currency, order_id; the verification
		// token when the advertiser enabled it
		// (https://docs.dataflysignal.com/integrations/attribution/everflow). Event postbacks
		// add a constant event_id to the base URL.
		name: "everflow", dialect: "braces", path: "/",
		requires: []string{"nid"},
		params: []presetParam{
			{name: "transaction_id", value: "{foreign_click_id}"},
			{name: "amount", value: "{amount}"},
			{name: "order_id", value: "{conversion_id}"},
			{name: "verification_token", value: "{query_secret:verification_token}", secret: "verification_token"},
		},
		doc: "https://helpdesk.everflow.io/customer/accessing-editing-s2s-postback-urls",
	},
	{
		// https://doc.voluum.com/en/tracking_conversions_postback.html: /postback?cid=&payout=
		// &txid=&currency=; txid is unique within a cid, so one conversion is counted once.
		name: "voluum", dialect: "braces", path: "/postback",
		params: []presetParam{
			{name: "cid", value: "{foreign_click_id}"},
			{name: "payout", value: "{payout}"},
			{name: "txid", value: "{conversion_id}"},
			{name: "currency", value: "{payout_currency}"},
		},
		doc: "https://doc.voluum.com/en/tracking_conversions_postback.html",
	},
	{
		// https://docs.keitaro.io/en/conversions/postback.html: /{key}/postback?subid=&status=
		// &payout=&currency=&tid=; statuses lead, sale, rejected; the postback key in the path.
		name: "keitaro", dialect: "braces", path: "/postback", keyPath: "postback_key",
		params: []presetParam{
			{name: "subid", value: "{foreign_click_id}"},
			{name: "status", value: "{status}"},
			{name: "payout", value: "{payout}"},
			{name: "currency", value: "{payout_currency}"},
			{name: "tid", value: "{conversion_id}"},
		},
		status: map[event.Status]string{
			event.StatusPending: "lead", event.StatusApproved: "sale",
			event.StatusRejected: "rejected", event.StatusReversed: "rejected",
		},
		doc: "https://docs.keitaro.io/en/conversions/postback.html",
	},
	{
		// https://docs.binom.org/postback-url.php: click.php?cnv_id=&payout=&cnv_status=
		// &cnv_currency=; cnv_status is free text.
		name: "binom", dialect: "braces", path: "/click.php",
		params: []presetParam{
			{name: "cnv_id", value: "{foreign_click_id}"},
			{name: "payout", value: "{payout}"},
			{name: "cnv_status", value: "{status}"},
			{name: "cnv_currency", value: "{payout_currency}"},
		},
		doc: "https://docs.binom.org/postback-url.php",
	},
	{
		// https://help.redtrack.io/knowledgebase/kb/conversion-tracking/tracking-event-types/:
		// /postback?clickid=&sum=, and rdtk_event_id for its "ignore duplicates by event ID"
		// mode. The conversion type (type=) is the account's own name: add it to the base URL.
		name: "redtrack", dialect: "braces", path: "/postback",
		params: []presetParam{
			{name: "clickid", value: "{foreign_click_id}"},
			{name: "sum", value: "{payout}"},
			{name: "rdtk_event_id", value: "{conversion_id}"},
		},
		doc: "https://help.redtrack.io/knowledgebase/kb/conversion-tracking/tracking-event-types/",
	},
	{
		// https://help-center.affise.com/en/articles/6475468-affise-postback-url-parameters:
		// /postback?clickid=&action_id=&sum=&status= (1 approved, 2 pending, 3 declined) and
		// the secure code when the offer or advertiser has one. The goal is the offer's own:
		// add goal= to the base URL.
		name: "affise", dialect: "braces", path: "/postback",
		params: []presetParam{
			{name: "clickid", value: "{foreign_click_id}"},
			{name: "action_id", value: "{conversion_id}"},
			{name: "sum", value: "{payout}"},
			{name: "status", value: "{status}"},
			{name: "secure", value: "{query_secret:secure}", secret: "secure"},
		},
		status: map[event.Status]string{
			event.StatusApproved: "1", event.StatusPending: "2",
			event.StatusRejected: "3", event.StatusReversed: "3",
		},
		doc: "https://help-center.affise.com/en/articles/6475468-affise-postback-url-parameters",
	},
	{
		// https://support.getcake.com/support/solutions/articles/5000546059: the request
		// session ID (#reqid#) comes back in r; CAKE's own tokens use the hash dialect. The
		// offer (o) and event (e) are the account's: put them in the base URL.
		name: "cake", dialect: "hash", path: "/p.ashx",
		params: []presetParam{
			{name: "f", value: "pb"},
			{name: "r", value: "#foreign_click_id#"},
			{name: "t", value: "#conversion_id#"},
			{name: "p", value: "#payout#"},
		},
		doc: "https://support.getcake.com/support/solutions/articles/5000546059",
	},
	{
		// https://support.tune.com/hc/en-us/articles/4413247665431-Receiving-Conversions-via-Postback-URL:
		// /aff_lsr?transaction_id= with the sale amount and an advertiser sub ID; the
		// Advertiser Security Token when the offer requires it
		// (https://support.tune.com/hc/en-us/articles/1500007718142-Advertiser-Security-Tokens).
		name: "tune", dialect: "braces", path: "/aff_lsr",
		params: []presetParam{
			{name: "transaction_id", value: "{foreign_click_id}"},
			{name: "amount", value: "{amount}"},
			{name: "adv_sub", value: "{conversion_id}"},
			{name: "security_token", value: "{query_secret:security_token}", secret: "security_token"},
		},
		doc: "https://support.tune.com/hc/en-us/articles/4413247665431-Receiving-Conversions-via-Postback-URL",
	},
	{
		// http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion: the
		// add-or-change postback, so that a status change updates the conversion; the
		// advertiser security token is mandatory there. The goal (goal_id or goal_alias) is the
		// account's: add it to the base URL.
		name: "scaleo", dialect: "braces", path: "/track/conv-addchange",
		params: []presetParam{
			{name: "click_id", value: "{foreign_click_id}"},
			{name: "adv_order_id", value: "{conversion_id}"},
			{name: "conv_status", value: "{status}"},
			{name: "amount", value: "{amount}"},
			{name: "token", value: "{query_secret:token}", secret: "token", required: true},
		},
		status: map[event.Status]string{event.StatusReversed: "rejected"},
		doc:    "http://help.scaleo.io/article/484-ultimate-postbacks-add-change-conversion",
	},
}

// Presets returns the names of the receiver presets an Endpoint may name, in a new slice.
func Presets() []string {
	names := make([]string, len(presets))
	for i := range presets {
		names[i] = presets[i].name
	}
	return names
}

func presetNamed(name string) (*preset, bool) {
	for i := range presets {
		if presets[i].name == name {
			return &presets[i], true
		}
	}
	return nil, false
}

// urlTemplate returns the URL template of p for the base URL base (already checked: an
// absolute URL without fragment) with the endpoint's secrets, in p's dialect. The problem is
// "" or says what is wrong with the base.
func (p *preset) urlTemplate(base *url.URL, secrets map[string]string) (tmpl, problem string) {
	d, _ := dialectNamed(p.dialect)
	have := base.Query()
	for _, k := range p.requires {
		if !have.Has(k) {
			return "", "the " + p.name + " preset needs the account's " + k + "= in the base URL's query"
		}
	}
	var b strings.Builder
	b.WriteString(base.Scheme + "://" + base.Host)
	b.WriteString(strings.TrimSuffix(base.EscapedPath(), "/"))
	if _, ok := secrets[p.keyPath]; ok && p.keyPath != "" {
		b.WriteString("/" + d.open + fnSecret + ":" + p.keyPath + d.close)
	}
	b.WriteString(p.path)
	sep := "?"
	if base.RawQuery != "" {
		b.WriteString("?" + base.RawQuery)
		sep = "&"
	}
	for _, q := range p.params {
		if have.Has(q.name) {
			return "", "the base URL's query sets " + q.name + ", which the " + p.name + " preset sets"
		}
		if q.secret != "" {
			if _, ok := secrets[q.secret]; !ok {
				if q.required {
					return "", "the " + p.name + " preset needs the secret " + q.secret
				}
				continue
			}
		}
		b.WriteString(sep + q.name + "=" + q.value)
		sep = "&"
	}
	return b.String(), ""
}

// statusWords returns the status words of p overlaid by the endpoint's own.
func (p *preset) statusWords(own map[event.Status]string) map[event.Status]string {
	if p == nil || len(p.status) == 0 {
		return own
	}
	m := make(map[event.Status]string, len(p.status)+len(own))
	for k, v := range p.status {
		m[k] = v
	}
	for k, v := range own {
		m[k] = v
	}
	return m
}
