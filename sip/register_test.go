package sip_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// mustRegister runs RegisterRaw and checks the final status.
func mustRegister(t *testing.T, p *siptest.Phone, r siptest.RegisterRequest, want int) *siptest.Response {
	t.Helper()
	res, err := p.RegisterRaw(ctxFor(t), r)
	if err != nil {
		t.Fatalf("REGISTER: %v", err)
	}
	if res.Code != want {
		t.Fatalf("REGISTER = %d %s, want %d; headers %v", res.Code, res.Reason, want, res.Headers)
	}
	return res
}

func parseChallenges(t *testing.T, values []string) []*digest.Challenge {
	t.Helper()
	var out []*digest.Challenge
	for _, v := range values {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			t.Fatalf("challenge %q: %v", v, err)
		}
		out = append(out, c)
	}
	return out
}

func contactURIs(cs []siptest.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.URI)
	}
	return out
}

func bindingContacts(bs []sip.Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Contact)
	}
	return out
}

func TestRegisterChallenge(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	res := mustRegister(t, p, siptest.RegisterRequest{Expires: "3600", NoAuth: true}, 401)
	chals := parseChallenges(t, res.HeaderValues("WWW-Authenticate"))
	if len(chals) != 1 {
		t.Fatalf("%d challenges, want 1 (MD5 by default)", len(chals))
	}
	c := chals[0]
	if c.Realm != testRealm || !c.SupportsQOP("auth") || c.Nonce == "" || c.Stale {
		t.Errorf("challenge = %+v, want realm %q, qop=auth, a nonce, not stale", c, testRealm)
	}
	if c.Algorithm != "MD5" {
		t.Errorf("algorithm = %q, want MD5", c.Algorithm)
	}
	if len(ts.Bindings("1001")) != 0 {
		t.Error("a challenged REGISTER created a binding")
	}
	// Every challenge carries a fresh nonce.
	again := mustRegister(t, p, siptest.RegisterRequest{Expires: "3600", NoAuth: true}, 401)
	if parseChallenges(t, again.HeaderValues("WWW-Authenticate"))[0].Nonce == c.Nonce {
		t.Error("two challenges share a nonce")
	}
}

func TestRegisterDigestAlgorithms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		server    []string // Config.DigestAlgorithms
		phone     []string // what the phone implements
		wantChals []string // algorithms challenged, in order
		wantUsed  string
	}{
		{"md5 default", nil, nil, []string{"MD5"}, "MD5"},
		{"sha256 preferred", []string{"SHA-256", "MD5"}, nil, []string{"SHA-256", "MD5"}, "SHA-256"},
		{"md5 preferred", []string{"MD5", "SHA-256"}, nil, []string{"MD5", "SHA-256"}, "MD5"},
		{"old phone skips sha256", []string{"SHA-256", "MD5"}, []string{"MD5"}, []string{"SHA-256", "MD5"}, "MD5"},
		{"sha256 only", []string{"SHA-256"}, nil, []string{"SHA-256"}, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, withConfig(func(c *sip.Config) { c.DigestAlgorithms = tc.server }))
			p := ts.phone(t, "1002", func(o *siptest.Options) { o.DigestAlgorithms = tc.phone })
			res := mustRegister(t, p, siptest.RegisterRequest{Expires: "600"}, 200)
			if res.Challenge == nil {
				t.Fatal("the REGISTER was not challenged")
			}
			var algs []string
			for _, c := range parseChallenges(t, res.Challenge.HeaderValues("WWW-Authenticate")) {
				algs = append(algs, c.Algorithm)
			}
			if !slices.Equal(algs, tc.wantChals) {
				t.Errorf("challenges = %v, want %v in this order", algs, tc.wantChals)
			}
			cred, err := digest.ParseCredentials(res.Authorization)
			if err != nil {
				t.Fatal(err)
			}
			if cred.Algorithm != tc.wantUsed {
				t.Errorf("phone answered with %q, want %q", cred.Algorithm, tc.wantUsed)
			}
			if bs := ts.Bindings("1002"); len(bs) != 1 {
				t.Errorf("bindings = %v", bs)
			}
		})
	}
}

// A user configured with only an MD5 HA1 cannot answer a SHA-256 challenge,
// but the challenge set is the same for every user (the server cannot know
// the user before the challenge). With DigestAlgorithms [SHA-256, MD5] a
// phone that follows RFC 8760 §2.4 answers SHA-256, gets 403 (a final "wrong
// password"), and never registers, although Validate accepts the config.
// Re-challenging with the algorithms the user has keeps it working.
func TestRegisterHA1OnlyUserWithSHA256(t *testing.T) {
	t.Parallel()
	ts := startServer(t, withConfig(func(c *sip.Config) {
		c.DigestAlgorithms = []string{sip.AlgorithmSHA256, sip.AlgorithmMD5}
		c.Users = []sip.User{{Name: "1001", HA1: sip.HA1(sip.AlgorithmMD5, "1001", testRealm, password("1001"))}}
	}))
	p := ts.phone(t, "1001")
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600"}, 200)
}

func TestRegisterRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	for _, tc := range []struct {
		name string
		user string
		req  siptest.RegisterRequest
		want int
		hdr  [2]string // a header the response must carry
	}{
		{"wrong password", "1001", siptest.RegisterRequest{Expires: "600", Username: "1001", Password: "nope"}, 403, [2]string{}},
		{"unknown user", "7777", siptest.RegisterRequest{Expires: "600"}, 403, [2]string{}},
		{"another user's AOR", "1001", siptest.RegisterRequest{Expires: "600", AOR: "1002"}, 403, [2]string{}},
		{"unsupported Require", "1001", siptest.RegisterRequest{Expires: "600", Headers: []siptest.Header{{Name: "Require", Value: "foo"}}}, 420, [2]string{"Unsupported", "foo"}},
		{"two unsupported options", "1001", siptest.RegisterRequest{Expires: "600", Headers: []siptest.Header{{Name: "Require", Value: "foo, bar"}}}, 420, [2]string{"Unsupported", "foo, bar"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ts.phone(t, tc.user)
			res := mustRegister(t, p, tc.req, tc.want)
			if tc.hdr[0] != "" && res.Header(tc.hdr[0]) != tc.hdr[1] {
				t.Errorf("%s = %q, want %q", tc.hdr[0], res.Header(tc.hdr[0]), tc.hdr[1])
			}
		})
	}
	for _, u := range []string{"1001", "1002", "7777"} {
		if bs := ts.Bindings(u); len(bs) != 0 {
			t.Errorf("refused REGISTERs left bindings for %s: %v", u, bs)
		}
	}
}

func TestRegisterStaleNonce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := startServer(t, withFakeClock(clock), withConfig(func(c *sip.Config) { c.NonceTTL = time.Minute }))
	p := ts.phone(t, "1003")
	first := mustRegister(t, p, siptest.RegisterRequest{Expires: "600", NoAuth: true}, 401)
	chal := first.Header("WWW-Authenticate")

	clock.Advance(time.Minute + time.Second)
	res := mustRegister(t, p, siptest.RegisterRequest{Expires: "600", AnswerChallenge: chal, NoAuth: true}, 401)
	c := parseChallenges(t, res.HeaderValues("WWW-Authenticate"))[0]
	if !c.Stale {
		t.Errorf("challenge after an expired nonce = %q, want stale=true", res.Header("WWW-Authenticate"))
	}
	// The phone answers the new challenge without asking its user.
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", AnswerChallenge: res.Header("WWW-Authenticate")}, 200)

	// A wrong password with an expired nonce is still a wrong password.
	clock.Advance(2 * time.Minute)
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", AnswerChallenge: chal, Username: "1003", Password: "bad"}, 403)
}

func TestRegisterNonceCount(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1004")
	ok := mustRegister(t, p, siptest.RegisterRequest{Expires: "600"}, 200)

	// The same credentials again, nonce count included: a replay.
	replay := mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Authorization: ok.Authorization, NoAuth: true}, 401)
	if c := parseChallenges(t, replay.HeaderValues("WWW-Authenticate"))[0]; !c.Stale {
		t.Errorf("replayed nonce count: challenge %q, want stale=true", replay.Header("WWW-Authenticate"))
	}
	// The same nonce with the next count is fine (RFC 7616 §3.4).
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Preauth: true, NoAuth: true}, 200)
}

func TestRegisterTwoPhones(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	desk := ts.phone(t, "1005", func(o *siptest.Options) { o.UserAgent = "desk" })
	soft := ts.phone(t, "1005", func(o *siptest.Options) { o.UserAgent = "soft" })
	mustRegister(t, desk, siptest.RegisterRequest{Expires: "3600"}, 200)
	res := mustRegister(t, soft, siptest.RegisterRequest{Expires: "1800"}, 200)

	want := []string{soft.ContactURI(), desk.ContactURI()}
	if got := contactURIs(res.Contacts); !slices.Equal(got, want) {
		t.Errorf("200 lists %v, want %v (newest first)", got, want)
	}
	if c := res.Contact(desk.ContactURI()); c == nil || c.Expires < 3590 || c.Expires > 3600 {
		t.Errorf("desk phone's remaining expires = %+v, want about 3600", c)
	}
	if c := res.Contact(soft.ContactURI()); c == nil || c.Expires != 1800 {
		t.Errorf("soft phone's expires = %+v, want 1800", c)
	}
	bs := ts.Bindings("1005")
	if got := bindingContacts(bs); !slices.Equal(got, want) {
		t.Fatalf("Bindings = %v, want %v (newest first)", got, want)
	}
	for i, p := range []*siptest.Phone{soft, desk} {
		b := bs[i]
		if b.Source != p.Addr() || b.Transport != "UDP" || b.AOR != "1005" {
			t.Errorf("binding %d = %+v, want source %s over UDP", i, b, p.Addr())
		}
	}
	if bs[0].UserAgent != "soft" || bs[1].UserAgent != "desk" {
		t.Errorf("user agents = %q, %q", bs[0].UserAgent, bs[1].UserAgent)
	}
}

func TestRegisterExpires(t *testing.T) {
	t.Parallel()
	ts := startServer(t) // min 60 s, max 3600 s, default 600 s
	const contact = "<sip:1006@127.0.0.1:7000>"
	for _, tc := range []struct {
		name       string
		expires    string // header
		contact    string
		want       int
		wantExp    int    // the 200's contact expires
		minExpires string // the 423's Min-Expires
	}{
		{name: "header", expires: "600", contact: contact, want: 200, wantExp: 600},
		{name: "contact param wins", expires: "600", contact: contact + ";expires=120", want: 200, wantExp: 120},
		{name: "contact param alone", contact: contact + ";expires=300", want: 200, wantExp: 300},
		{name: "none: default", contact: contact, want: 200, wantExp: 600},
		{name: "exactly min", expires: "60", contact: contact, want: 200, wantExp: 60},
		{name: "below min", expires: "30", contact: contact, want: 423, minExpires: "60"},
		{name: "param below min", expires: "600", contact: contact + ";expires=1", want: 423, minExpires: "60"},
		{name: "above max: capped", expires: "7200", contact: contact, want: 200, wantExp: 3600},
		{name: "param above max: capped", contact: contact + ";expires=86400", want: 200, wantExp: 3600},
		{name: "not a number", expires: "soon", contact: contact, want: 400},
		{name: "negative", expires: "-5", contact: contact, want: 400},
		{name: "bad param", contact: contact + ";expires=later", want: 400},
		// RFC 3261 §20.19 / §10.2.1.1: delta-seconds up to 2**32-1; larger values
		// are treated as the maximum. 18446744074 s overflows time.Duration
		// (int64 ns) in registrar.go:213 and :217 and lands at 0.29 s.
		{name: "beyond 2**32: capped", expires: "18446744074", contact: contact, want: 200, wantExp: 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ts.phone(t, "1006")
			res := mustRegister(t, p, siptest.RegisterRequest{Expires: tc.expires, Contacts: []string{tc.contact}}, tc.want)
			switch tc.want {
			case 200:
				c := res.Contact("sip:1006@127.0.0.1:7000")
				if c == nil || c.Expires != tc.wantExp {
					t.Errorf("contacts = %+v, want expires=%d", res.Contacts, tc.wantExp)
				}
				bs := ts.Bindings("1006")
				if len(bs) != 1 {
					t.Fatalf("Bindings = %v", bs)
				}
				if left := time.Until(bs[0].Expires); left < time.Duration(tc.wantExp-2)*time.Second || left > time.Duration(tc.wantExp)*time.Second {
					t.Errorf("binding expires in %s, want %ds", left, tc.wantExp)
				}
				if tc.wantExp > 0 {
					// Clean up for the next case.
					mustRegister(t, p, siptest.RegisterRequest{Expires: "0", Contacts: []string{"*"}}, 200)
				}
			case 423:
				if got := res.Header("Min-Expires"); got != tc.minExpires {
					t.Errorf("Min-Expires = %q, want %q", got, tc.minExpires)
				}
				if bs := ts.Bindings("1006"); len(bs) != 0 {
					t.Errorf("423 left a binding: %v", bs)
				}
			}
		})
	}
}

func TestRegisterRemove(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1007")
	const a, b, c = "sip:1007@127.0.0.1:7001", "sip:1007@127.0.0.1:7002", "sip:1007@127.0.0.1:7003"
	res := mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Contacts: []string{"<" + a + ">", "<" + b + ">;expires=300", "<" + c + ">"}}, 200)
	if got := contactURIs(res.Contacts); len(got) != 3 {
		t.Fatalf("200 lists %v, want 3 contacts", got)
	}

	t.Run("expires 0 removes one", func(t *testing.T) {
		res := mustRegister(t, p, siptest.RegisterRequest{Expires: "0", Contacts: []string{"<" + b + ">"}}, 200)
		if got := contactURIs(res.Contacts); len(got) != 2 || slices.Contains(got, b) {
			t.Errorf("after removing %s the 200 lists %v", b, got)
		}
		if got := bindingContacts(ts.Bindings("1007")); slices.Contains(got, b) || len(got) != 2 {
			t.Errorf("Bindings = %v", got)
		}
	})
	t.Run("expires param 0 removes one", func(t *testing.T) {
		res := mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Contacts: []string{"<" + a + ">;expires=0"}}, 200)
		if got := contactURIs(res.Contacts); !slices.Equal(got, []string{c}) {
			t.Errorf("200 lists %v, want only %s", got, c)
		}
	})
	t.Run("removing an unknown contact is a no-op", func(t *testing.T) {
		mustRegister(t, p, siptest.RegisterRequest{Expires: "0", Contacts: []string{"<sip:1007@127.0.0.1:7999>"}}, 200)
		if got := bindingContacts(ts.Bindings("1007")); !slices.Equal(got, []string{c}) {
			t.Errorf("Bindings = %v", got)
		}
	})
	t.Run("star needs Expires 0 and no other contact", func(t *testing.T) {
		for _, r := range []siptest.RegisterRequest{
			{Expires: "600", Contacts: []string{"*"}},
			{Contacts: []string{"*"}},
			{Expires: "0", Contacts: []string{"*", "<" + a + ">"}},
			{Expires: "0", Contacts: []string{"<" + a + ">", "*"}},
		} {
			mustRegister(t, p, r, 400)
		}
		if got := bindingContacts(ts.Bindings("1007")); !slices.Equal(got, []string{c}) {
			t.Errorf("a refused Contact: * changed the bindings: %v", got)
		}
	})
	t.Run("star removes all", func(t *testing.T) {
		mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Contacts: []string{"<" + a + ">"}}, 200)
		res := mustRegister(t, p, siptest.RegisterRequest{Expires: "0", Contacts: []string{"*"}}, 200)
		if len(res.Contacts) != 0 {
			t.Errorf("200 to Contact: * lists %v", res.Contacts)
		}
		if bs := ts.Bindings("1007"); len(bs) != 0 {
			t.Errorf("Bindings = %v", bs)
		}
	})
}

func TestRegisterQuery(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := startServer(t, withFakeClock(clock))
	one := ts.phone(t, "1008")
	two := ts.phone(t, "1008")
	mustRegister(t, one, siptest.RegisterRequest{Expires: "3600"}, 200)
	clock.Advance(100 * time.Second)
	res := mustRegister(t, two, siptest.RegisterRequest{Expires: "600"}, 200)
	// The 200 lists every binding with its remaining time (RFC 3261 §10.3 step 8).
	if c := res.Contact(one.ContactURI()); c == nil || c.Expires != 3500 {
		t.Errorf("older binding: %+v, want expires=3500", c)
	}
	if c := res.Contact(two.ContactURI()); c == nil || c.Expires != 600 {
		t.Errorf("newer binding: %+v, want expires=600", c)
	}

	clock.Advance(50 * time.Second)
	q := mustRegister(t, one, siptest.RegisterRequest{NoContact: true}, 200)
	want := []string{two.ContactURI(), one.ContactURI()}
	if got := contactURIs(q.Contacts); !slices.Equal(got, want) {
		t.Errorf("query lists %v, want %v", got, want)
	}
	if c := q.Contact(one.ContactURI()); c == nil || c.Expires != 3450 {
		t.Errorf("query: %+v, want expires=3450", c)
	}
	if got := bindingContacts(ts.Bindings("1008")); !slices.Equal(got, want) {
		t.Errorf("a query changed the bindings: %v", got)
	}

	// Expired bindings are neither listed nor returned.
	clock.Advance(600 * time.Second)
	q = mustRegister(t, one, siptest.RegisterRequest{NoContact: true}, 200)
	if got := contactURIs(q.Contacts); !slices.Equal(got, []string{one.ContactURI()}) {
		t.Errorf("query after the newer binding expired lists %v", got)
	}
	if got := bindingContacts(ts.Bindings("1008")); !slices.Equal(got, []string{one.ContactURI()}) {
		t.Errorf("Bindings after expiry = %v", got)
	}
}

func TestRegisterOutOfOrder(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1009")
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", CSeq: 20}, 200) // 20 challenged, 21 accepted
	// RFC 3261 §10.3 step 7: same Call-ID, CSeq not higher: the update fails.
	res := mustRegister(t, p, siptest.RegisterRequest{Expires: "3600", CSeq: 10}, 500)
	if !strings.Contains(res.Header("Warning"), "out of order") {
		t.Errorf("Warning = %q", res.Header("Warning"))
	}
	if bs := ts.Bindings("1009"); len(bs) != 1 || time.Until(bs[0].Expires) > 601*time.Second {
		t.Errorf("the out-of-order REGISTER changed the binding: %v", bs)
	}
	// Contact: * follows the same rule.
	mustRegister(t, p, siptest.RegisterRequest{Expires: "0", Contacts: []string{"*"}, CSeq: 5}, 500)
	// Another Call-ID (the phone rebooted) may use any CSeq.
	mustRegister(t, p, siptest.RegisterRequest{Expires: "3600", CSeq: 1, CallID: "rebooted-" + testkit.RandHex(8)}, 200)
	if bs := ts.Bindings("1009"); len(bs) != 1 || time.Until(bs[0].Expires) < 3500*time.Second {
		t.Errorf("Bindings = %v, want one refreshed for an hour", bs)
	}
}

func TestRegisterTooManyContacts(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	var cs []string
	for i := range 11 {
		cs = append(cs, fmt.Sprintf("<sip:1001@127.0.0.1:%d>", 7100+i))
	}
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Contacts: cs[:10]}, 200)
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Contacts: cs[10:]}, 403)
	if n := len(ts.Bindings("1001")); n != 10 {
		t.Errorf("%d bindings, want 10", n)
	}
}

func TestRegisterPersists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ringdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := sip.NewSQLBindings(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()

	first := startServer(t, withStore(store), withFakeClock(clock))
	long := first.phone(t, "1001", func(o *siptest.Options) { o.UserAgent = "long" })
	short := first.phone(t, "1001", func(o *siptest.Options) { o.UserAgent = "short" })
	other := first.phone(t, "1002")
	mustRegister(t, long, siptest.RegisterRequest{Expires: "3600"}, 200)
	mustRegister(t, short, siptest.RegisterRequest{Expires: "60"}, 200)
	mustRegister(t, other, siptest.RegisterRequest{Expires: "600"}, 200)
	before := first.Bindings("1001")
	first.stop()

	// The same database, a new process: bindings are back, expired ones are not.
	second := startServer(t, withStore(store), withFakeClock(clock))
	if got := second.Bindings("1001"); len(got) != 2 {
		t.Fatalf("after restart Bindings(1001) = %v, want both", got)
	}
	second.stop()

	clock.Advance(2 * time.Minute)
	third := startServer(t, withStore(store), withFakeClock(clock))
	got := third.Bindings("1001")
	if len(got) != 1 {
		t.Fatalf("after restart and 2 min Bindings(1001) = %v, want only the long one", got)
	}
	var want sip.Binding
	for _, b := range before {
		if b.UserAgent == "long" {
			want = b
		}
	}
	g := got[0]
	if g.Contact != want.Contact || g.Source != long.Addr() || g.Transport != "UDP" || g.CallID != want.CallID ||
		g.CSeq != want.CSeq || g.UserAgent != "long" || !g.Expires.Equal(want.Expires.Truncate(time.Millisecond)) {
		t.Errorf("restored binding = %+v\nwant %+v", g, want)
	}
	if b := third.Bindings("1002"); len(b) != 1 || b[0].Source != other.Addr() {
		t.Errorf("Bindings(1002) = %v", b)
	}
	// The restored binding is used: the phone is rung at its source.
	out, ev := third.invite(t, "1001", sdpOf(20000), nil)
	ic := incoming(t, long)
	if ic.LocalAddr != long.Addr() {
		t.Errorf("INVITE arrived on %s, want %s", ic.LocalAddr, long.Addr())
	}
	waitEvent[sip.Answered](t, ev)
	if err := out.Hangup(ctxFor(t), ""); err != nil {
		t.Fatal(err)
	}
}

// A TCP phone has no listener: the server must reach it through the
// connection it registered over, which the binding records.
func TestRegisterTCPReusesConnection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, withTCP())
	answer := sdpOf(21000)
	p := ts.phone(t, "1003", func(o *siptest.Options) { o.Transport = "tcp"; o.Answer = siptest.AnswerWith(answer) })
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600"}, 200)
	if !p.Addr().IsValid() {
		t.Fatal("the phone has no connection")
	}
	bs := ts.Bindings("1003")
	if len(bs) != 1 || bs[0].Transport != "TCP" || bs[0].Source != p.Addr() {
		t.Fatalf("Bindings = %+v, want one over TCP from %s", bs, p.Addr())
	}
	if !strings.HasSuffix(bs[0].Contact, ".invalid;transport=tcp") {
		t.Errorf("contact %q: the phone advertises an unreachable Contact on purpose", bs[0].Contact)
	}

	out, ev := ts.invite(t, "1003", sdpOf(22000), map[string]string{"X-Test": "tcp"})
	ic := incoming(t, p)
	if ic.LocalAddr != p.Addr() || ic.Request.Transport != "TCP" {
		t.Errorf("INVITE arrived on %s over %s, want the phone's connection %s", ic.LocalAddr, ic.Request.Transport, p.Addr())
	}
	if ic.Header("X-Test") != "tcp" {
		t.Errorf("X-Test = %q", ic.Header("X-Test"))
	}
	a := waitEvent[sip.Answered](t, ev)
	if string(a.SDP) != string(answer) {
		t.Errorf("answer = %q", a.SDP)
	}
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatalf("no ACK over TCP: %v", err)
	}
	if err := out.Hangup(ctxFor(t), `Q.850;cause=16`); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	bye, err := ic.WaitBye(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if bye.Transport != "TCP" {
		t.Errorf("BYE over %s", bye.Transport)
	}
	if p.Addr() != bs[0].Source {
		t.Errorf("the phone's connection changed from %s to %s", bs[0].Source, p.Addr())
	}
}

// RFC 3261 §22.3: a request may carry credentials for several realms; the
// server uses the ones for its own realm (RFC 2617 §3.2.2). Ringdesk
// refuses the whole request if the first Authorization is for another realm.
func TestRegisterForeignRealmCredentials(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	foreign := `Digest username="1001", realm="carrier.example", nonce="abc", uri="sip:carrier.example", response="00000000000000000000000000000000"`
	mustRegister(t, p, siptest.RegisterRequest{Expires: "600", Headers: []siptest.Header{{Name: "Authorization", Value: foreign}}}, 200)
}

// Ringdesk challenges with qop=auth but also accepts responses without qop,
// which carry no nonce count: such credentials can be replayed for the
// whole nonce lifetime (RFC 7616 §5.4 and §5.5; RFC 2617 §3.2.2: a client
// MUST use qop when the server offered it, so nothing legitimate is lost).
func TestRegisterNoQOPReplay(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	chal := mustRegister(t, p, siptest.RegisterRequest{Expires: "600", NoAuth: true}, 401)
	c, err := digest.ParseChallenge(chal.Header("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	c.QOP = nil // a client that ignores qop (RFC 2069 style)
	cred, err := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + ts.UDP.String(), Username: "1001", Password: password("1001")})
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.RegisterRaw(ctxFor(t), siptest.RegisterRequest{Expires: "600", Authorization: cred.String(), NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	replay, err := p.RegisterRaw(ctxFor(t), siptest.RegisterRequest{Expires: "600", Authorization: cred.String(), NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.Code == 200 && replay.Code == 200 {
		t.Errorf("the same qop-less credentials were accepted twice")
	}
}
