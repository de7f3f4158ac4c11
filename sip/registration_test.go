package sip_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sipgoua "github.com/emiago/sipgo"
	sipgo "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip"
)

// The provider account of the trunk tests.
const (
	provUser     = "4930123456"
	provPassword = "trunk-secret"
	provRealm    = "provider.test"
)

// fastTrunkTimings keep the registration tests quick: retries within
// milliseconds, keepalives every 50 ms.
func fastTrunkTimings() sip.TrunkTimings {
	return sip.TrunkTimings{
		MinBackoff:     20 * time.Millisecond,
		MaxBackoff:     100 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
		Keepalive:      50 * time.Millisecond,
		Unregister:     2 * time.Second,
	}
}

// provScript decides the answer to one request; nil drops it unanswered.
type provScript func(p *fakeProvider, req *sipgo.Request) *sipgo.Response

// fakeProvider is a provider's registrar on loopback, built from sipgo's
// server: it records every REGISTER and OPTIONS (retransmissions once) and
// answers them as its scripts say.
type fakeProvider struct {
	addr     netip.AddrPort
	password string // what it accepts

	mu       sync.Mutex
	register provScript
	options  provScript
	regs     []*sipgo.Request
	opts     []*sipgo.Request
	answers  []int // status sent to each REGISTER, 0 for none
	branches map[string]bool
	nonces   map[string]bool
	nonceN   int
	changed  chan struct{}
}

func startProvider(t *testing.T, register provScript) *fakeProvider {
	t.Helper()
	p := &fakeProvider{
		password: provPassword,
		register: register,
		options:  func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response { return reply(req, 200, "OK") },
		branches: make(map[string]bool),
		nonces:   make(map[string]bool),
		changed:  make(chan struct{}),
	}
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgoua.NewUA(sipgoua.WithUserAgent("fake-provider"),
		sipgoua.WithUserAgentTransportLayerOptions(sipgo.WithTransportLayerLogger(quiet)),
		sipgoua.WithUserAgentTransactionLayerOptions(sipgo.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgoua.NewServer(ua, sipgoua.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(func(req *sipgo.Request, tx sipgo.ServerTransaction) { p.handle(req, tx, true) })
	srv.OnOptions(func(req *sipgo.Request, tx sipgo.ServerTransaction) { p.handle(req, tx, false) })
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeUDP(pc)
	}()
	t.Cleanup(func() {
		_ = pc.Close()
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Errorf("the fake provider's ServeUDP did not return")
		}
		_ = ua.Close()
	})
	return p
}

func (p *fakeProvider) handle(req *sipgo.Request, tx sipgo.ServerTransaction, register bool) {
	p.mu.Lock()
	script := p.options
	if register {
		script = p.register
	}
	p.mu.Unlock()
	res := script(p, req) // unlocked: scripts call the helpers below
	p.mu.Lock()
	branch, _ := req.Via().Params.Get("branch")
	if !p.branches[branch] {
		p.branches[branch] = true
		if register {
			p.regs = append(p.regs, req)
			code := 0
			if res != nil {
				code = res.StatusCode
			}
			p.answers = append(p.answers, code)
		} else {
			p.opts = append(p.opts, req)
		}
		close(p.changed)
		p.changed = make(chan struct{})
	}
	p.mu.Unlock()
	if res != nil {
		_ = tx.Respond(res)
	}
}

func (p *fakeProvider) setRegister(s provScript) {
	p.mu.Lock()
	p.register = s
	p.mu.Unlock()
}

func (p *fakeProvider) setOptions(s provScript) {
	p.mu.Lock()
	p.options = s
	p.mu.Unlock()
}

// registers returns the REGISTERs received and the status each got.
func (p *fakeProvider) registers() ([]*sipgo.Request, []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sipgo.Request(nil), p.regs...), append([]int(nil), p.answers...)
}

// waitFor waits (up to waitFor) until cond holds for what was received.
func (p *fakeProvider) waitUntil(t *testing.T, what string, cond func(regs []*sipgo.Request, answers []int, options int) bool) {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok := cond(p.regs, p.answers, len(p.opts))
		n, ch := len(p.regs), p.changed
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("provider: no %s within %s (%d REGISTERs)", what, waitFor, n)
		}
	}
}

// waitRegisters waits until n REGISTERs were answered with code.
func (p *fakeProvider) waitRegisters(t *testing.T, code, n int) {
	t.Helper()
	p.waitUntil(t, fmt.Sprintf("%d REGISTERs answered %d", n, code), func(_ []*sipgo.Request, answers []int, _ int) bool {
		return count(answers, code) >= n
	})
}

func count(answers []int, code int) int {
	n := 0
	for _, a := range answers {
		if a == code {
			n++
		}
	}
	return n
}

// challenge answers req with 401 (or 407) and a fresh nonce, qop=auth.
func (p *fakeProvider) challenge(req *sipgo.Request, code int, stale bool) *sipgo.Response {
	p.mu.Lock()
	p.nonceN++
	nonce := fmt.Sprintf("nonce-%d-%s", p.nonceN, testkit.RandHex(8))
	p.nonces[nonce] = true
	p.mu.Unlock()
	return p.challengeWith(req, code, nonce, stale)
}

func (p *fakeProvider) challengeWith(req *sipgo.Request, code int, nonce string, stale bool) *sipgo.Response {
	p.mu.Lock()
	p.nonces[nonce] = true
	p.mu.Unlock()
	c := digest.Challenge{Realm: provRealm, Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	name, reason := "WWW-Authenticate", "Unauthorized"
	if code == 407 {
		name, reason = "Proxy-Authenticate", "Proxy Authentication Required"
	}
	return reply(req, code, reason, sipgo.NewHeader(name, c.String()))
}

// credentials returns the digest credentials of req (Authorization or
// Proxy-Authorization), or nil.
func credentials(req *sipgo.Request) *digest.Credentials {
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		if h := req.GetHeader(name); h != nil {
			if c, err := digest.ParseCredentials(h.Value()); err == nil {
				return c
			}
		}
	}
	return nil
}

// valid reports whether req carries credentials for one of our nonces,
// made with the password p accepts for the request's method and URI.
func (p *fakeProvider) valid(req *sipgo.Request) bool {
	c := credentials(req)
	if c == nil || c.Username != provUser || c.Realm != provRealm || c.URI != req.Recipient.Addr() {
		return false
	}
	p.mu.Lock()
	known, password := p.nonces[c.Nonce], p.password
	p.mu.Unlock()
	if !known {
		return false
	}
	chal := &digest.Challenge{Realm: c.Realm, Nonce: c.Nonce, Algorithm: c.Algorithm}
	if c.QOP != "" {
		chal.QOP = []string{c.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: req.Method.String(), URI: c.URI, Username: c.Username, Password: password, Cnonce: c.Cnonce, Count: c.Nc,
	})
	return err == nil && want.Response == c.Response
}

// registrar is a provider's usual registrar: a challenge (code 401 or 407)
// to a REGISTER without valid credentials, else 200 listing the contact
// with grant seconds (or what was asked, when grant is 0), or removing it.
func registrar(code, grant int) provScript {
	return func(p *fakeProvider, req *sipgo.Request) *sipgo.Response {
		if !p.valid(req) {
			return p.challenge(req, code, false)
		}
		return granted(req, grant)
	}
}

// granted is a 200 to a valid REGISTER: the contact with its expiry, none
// when it asked for 0.
func granted(req *sipgo.Request, grant int) *sipgo.Response {
	asked := requestExpires(req)
	if asked == 0 {
		return reply(req, 200, "OK")
	}
	if grant == 0 {
		grant = asked
	}
	c := req.Contact()
	return reply(req, 200, "OK", sipgo.NewHeader("Contact", "<"+c.Address.String()+">;expires="+strconv.Itoa(grant)))
}

func reply(req *sipgo.Request, code int, reason string, hdrs ...sipgo.Header) *sipgo.Response {
	res := sipgo.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return res
}

func requestExpires(req *sipgo.Request) int {
	h := req.GetHeader("Expires")
	if h == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil {
		return -1
	}
	return n
}

func cseqOf(req *sipgo.Request) uint32 { return req.CSeq().SeqNo }

// trunkServer is a Ringdesk server with trunks, serving on loopback.
type trunkServer struct {
	*sip.Server
	UDP  netip.AddrPort
	logs *testkit.LogCapture
	stop func()
}

// startTrunkServer serves trunks until the test ends (or stop).
func startTrunkServer(t *testing.T, tt sip.TrunkTimings, trunks ...sip.Trunk) *trunkServer {
	t.Helper()
	cfg := sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Realm:  testRealm,
		Users:  testUsers(),
		Trunks: trunks,
	}
	ts := &trunkServer{logs: testkit.NewLogCapture(slog.LevelInfo)}
	srv, err := sip.NewServer(cfg, nil, slog.New(ts.logs), sip.WithTrunkTimings(tt))
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ts.Server = srv
	ts.UDP = srv.Addrs()[0].Addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(ctx, sip.HandlerFunc(func(c *sip.InboundCall) { _ = c.Reject(480, "") }))
	}()
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Serve did not return 15 s after its context ended; goroutines:\n%s", testkit.Goroutines())
			}
			if p := ts.logs.Grep("panicked"); len(p) > 0 {
				t.Errorf("the server recovered from panics:\n%s", strings.Join(p, "\n"))
			}
			if t.Failed() {
				t.Logf("server log:\n%s", strings.Join(ts.logs.Lines(), "\n"))
			}
		})
	}
	t.Cleanup(ts.stop)
	return ts
}

// trunk returns the state of the trunk called name.
func (ts *trunkServer) trunk(t *testing.T, name string) sip.TrunkState {
	t.Helper()
	for _, st := range ts.TrunkStates() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no trunk %q in TrunkStates", name)
	return sip.TrunkState{}
}

// waitTrunk polls TrunkStates (up to waitFor) until cond holds for the
// trunk called name, and returns that state.
func (ts *trunkServer) waitTrunk(t *testing.T, name, what string, cond func(sip.TrunkState) bool) sip.TrunkState {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		st := ts.trunk(t, name)
		if cond(st) {
			return st
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("trunk %s: not %s within %s; state %+v", name, what, waitFor, st)
		}
	}
}

func isRegistered(st sip.TrunkState) bool { return st.State == sip.TrunkRegistered && st.Registered }
func isFailing(st sip.TrunkState) bool    { return st.State == sip.TrunkFailing }

// provTrunk is a trunk registering with p.
func provTrunk(p *fakeProvider) sip.Trunk {
	return sip.Trunk{
		Name: "prov", Host: "127.0.0.1", Port: int(p.addr.Port()),
		Username: provUser, Password: provPassword,
		Register: true, Expiry: time.Minute,
	}
}

func ha1(user, realm, password string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

func TestTrunkRegisters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		code   int // challenge
		header string
		trunk  func(*sip.Trunk)
	}{
		{name: "password 401", code: 401, header: "Authorization"},
		{name: "ha1", code: 401, header: "Authorization", trunk: func(tr *sip.Trunk) {
			tr.Password, tr.HA1, tr.Realm = "", ha1(provUser, provRealm, provPassword), provRealm
		}},
		{name: "proxy 407", code: 407, header: "Proxy-Authorization"},
		{name: "register user", code: 401, header: "Authorization", trunk: func(tr *sip.Trunk) {
			tr.RegisterUser = "ringdesk-main"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startProvider(t, registrar(tc.code, 0))
			tr := provTrunk(p)
			if tc.trunk != nil {
				tc.trunk(&tr)
			}
			user := tr.RegisterUser
			if user == "" {
				user = tr.Username
			}
			ts := startTrunkServer(t, fastTrunkTimings(), tr)
			st := ts.waitTrunk(t, "prov", "registered", isRegistered)
			p.waitRegisters(t, 200, 1)

			if st.LastCode != 200 || st.LastReason != "OK" || st.Error != "" || !st.Reachable || st.LastRegistered.IsZero() {
				t.Errorf("state = %+v, want 200 OK, no error, reachable, last registered set", st)
			}
			if left := time.Until(st.Expires); left < 50*time.Second || left > time.Minute {
				t.Errorf("registration runs out in %s, want about the minute asked for", left)
			}
			// A minute is refreshed after 30 s (max(g/2, min(3g/4, g-30s))).
			if got := st.NextAttempt.Sub(st.LastRegistered); got != 30*time.Second {
				t.Errorf("refresh planned %s after registering, want 30s", got)
			}

			regs, answers := p.registers()
			if len(regs) != 2 || answers[0] != tc.code || answers[1] != 200 {
				t.Fatalf("REGISTERs answered %v, want [%d 200]", answers, tc.code)
			}
			first, second := regs[0], regs[1]
			host := "127.0.0.1"
			if got, want := first.Recipient.String(), "sip:"+p.addr.String(); got != want {
				t.Errorf("Request-URI = %s, want %s", got, want)
			}
			for _, u := range []sipgo.Uri{first.From().Address, first.To().Address} {
				if u.User != user || u.Host != host {
					t.Errorf("From/To = %s, want sip:%s@%s", u.String(), user, host)
				}
			}
			if tag, _ := first.From().Params.Get("tag"); tag == "" {
				t.Error("From has no tag")
			}
			if _, ok := first.To().Params.Get("tag"); ok {
				t.Error("To has a tag")
			}
			c := first.Contact()
			if c == nil || c.Address.User != user || c.Address.Host != ts.UDP.Addr().String() || c.Address.Port != int(ts.UDP.Port()) {
				t.Errorf("Contact = %v, want sip:%s@%s", c, user, ts.UDP)
			}
			if requestExpires(first) != 60 {
				t.Errorf("Expires = %d, want 60", requestExpires(first))
			}
			if credentials(first) != nil {
				t.Error("the first REGISTER carried credentials before any challenge")
			}
			if second.GetHeader(tc.header) == nil {
				t.Errorf("the answer to the %d has no %s", tc.code, tc.header)
			}
			if first.CallID().Value() != second.CallID().Value() || cseqOf(second) != cseqOf(first)+1 {
				t.Errorf("Call-ID %s→%s, CSeq %d→%d: want one Call-ID and CSeq+1",
					first.CallID().Value(), second.CallID().Value(), cseqOf(first), cseqOf(second))
			}
			if n := len(ts.logs.Grep("trunk registered")); n != 1 {
				t.Errorf("%d 'trunk registered' log lines, want 1", n)
			}
		})
	}
}

func TestTrunkStaleNonce(t *testing.T) {
	t.Parallel()
	staleNonce := "stale-" + testkit.RandHex(8)
	p := startProvider(t, func(p *fakeProvider, req *sipgo.Request) *sipgo.Response {
		c := credentials(req)
		switch {
		case c == nil:
			return p.challenge(req, 401, false)
		case c.Nonce != staleNonce:
			// The nonce expired between the challenge and the answer.
			return p.challengeWith(req, 401, staleNonce, true)
		case p.valid(req):
			return granted(req, 0)
		default:
			return reply(req, 403, "Forbidden")
		}
	})
	ts := startTrunkServer(t, fastTrunkTimings(), provTrunk(p))
	ts.waitTrunk(t, "prov", "registered", isRegistered)
	regs, answers := p.registers()
	if len(regs) != 3 || answers[1] != 401 || answers[2] != 200 {
		t.Fatalf("REGISTERs answered %v, want [401 401 200]", answers)
	}
	if c := credentials(regs[2]); c == nil || c.Nonce != staleNonce {
		t.Errorf("the answer to the stale challenge used %+v, want nonce %s", c, staleNonce)
	}
}

func TestTrunkWrongPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script provScript
	}{
		// The same nonce challenged again without stale=true.
		{name: "same nonce", script: func(p *fakeProvider, req *sipgo.Request) *sipgo.Response {
			if p.valid(req) {
				return granted(req, 0)
			}
			return p.challengeWith(req, 401, "fixed-nonce", false)
		}},
		// A fresh nonce at every challenge, like Asterisk.
		{name: "fresh nonces", script: registrar(401, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startProvider(t, tc.script)
			p.mu.Lock()
			p.password = "another-password"
			p.mu.Unlock()
			ts := startTrunkServer(t, fastTrunkTimings(), provTrunk(p))
			st := ts.waitTrunk(t, "prov", "failing", isFailing)
			if st.LastCode != 401 || !strings.Contains(st.Error, "wrong credentials") || st.Registered {
				t.Errorf("state = %+v, want failing with 401 and wrong credentials", st)
			}
			// Retried with backoff: three registrations, each giving up after a
			// few challenges.
			p.waitUntil(t, "three attempts", func(regs []*sipgo.Request, _ []int, _ int) bool {
				n := 0
				for _, r := range regs {
					if credentials(r) == nil {
						n++
					}
				}
				return n >= 3
			})
			regs, _ := p.registers()
			run := 0
			for _, r := range regs {
				if credentials(r) == nil {
					run = 0
					continue
				}
				if run++; run > 3 {
					t.Fatalf("more than 3 answers to challenges in one registration")
				}
			}
			if n := len(ts.logs.Grep("trunk registration failing")); n != 1 {
				t.Errorf("%d 'trunk registration failing' log lines for one failure repeated, want 1", n)
			}

			// The provider takes the password after all: registered.
			p.mu.Lock()
			p.password = provPassword
			p.mu.Unlock()
			st = ts.waitTrunk(t, "prov", "registered", isRegistered)
			if st.Error != "" || st.LastCode != 200 {
				t.Errorf("state after recovery = %+v", st)
			}
		})
	}
}

func TestTrunkIntervalTooBrief(t *testing.T) {
	t.Parallel()
	p := startProvider(t, func(p *fakeProvider, req *sipgo.Request) *sipgo.Response {
		if !p.valid(req) {
			return p.challenge(req, 401, false)
		}
		if requestExpires(req) < 120 {
			return reply(req, 423, "Interval Too Brief", sipgo.NewHeader("Min-Expires", "120"))
		}
		return granted(req, 0)
	})
	ts := startTrunkServer(t, fastTrunkTimings(), provTrunk(p))
	st := ts.waitTrunk(t, "prov", "registered", isRegistered)
	regs, answers := p.registers()
	if got := fmt.Sprint(answers); got != "[401 423 401 200]" {
		t.Fatalf("REGISTERs answered %s, want [401 423 401 200]", got)
	}
	if requestExpires(regs[2]) != 120 || requestExpires(regs[3]) != 120 {
		t.Errorf("Expires after the 423 = %d, %d, want 120", requestExpires(regs[2]), requestExpires(regs[3]))
	}
	if left := time.Until(st.Expires); left < 110*time.Second || left > 120*time.Second {
		t.Errorf("registration runs out in %s, want about 120 s", left)
	}
	if got := st.NextAttempt.Sub(st.LastRegistered); got != 90*time.Second {
		t.Errorf("refresh planned %s after registering, want 90s (¾ of 120 s)", got)
	}
}

// TestTrunkRefreshesShortExpiry: the provider grants 1 s whatever we ask
// (Trunk.Expiry cannot be under 30 s): Ringdesk refreshes every half
// second, on one Call-ID with rising CSeqs, and logs the registration once.
func TestTrunkRefreshesShortExpiry(t *testing.T) {
	t.Parallel()
	p := startProvider(t, registrar(401, 1))
	ts := startTrunkServer(t, fastTrunkTimings(), provTrunk(p))
	p.waitRegisters(t, 200, 4)
	st := ts.waitTrunk(t, "prov", "registered", isRegistered)
	if got := st.NextAttempt.Sub(st.LastRegistered); got != 500*time.Millisecond {
		t.Errorf("refresh planned %s after registering, want 500ms", got)
	}
	regs, _ := p.registers()
	for i := 1; i < len(regs); i++ {
		if regs[i].CallID().Value() != regs[0].CallID().Value() {
			t.Fatalf("REGISTER %d has Call-ID %s, want %s", i, regs[i].CallID().Value(), regs[0].CallID().Value())
		}
		if cseqOf(regs[i]) <= cseqOf(regs[i-1]) {
			t.Fatalf("CSeq %d after %d", cseqOf(regs[i]), cseqOf(regs[i-1]))
		}
	}
	if n := len(ts.logs.Grep("trunk registered")); n != 1 {
		t.Errorf("%d 'trunk registered' log lines over several refreshes, want 1", n)
	}
}

func TestTrunkUnregistersOnClose(t *testing.T) {
	t.Parallel()
	p := startProvider(t, registrar(401, 0))
	ts := startTrunkServer(t, fastTrunkTimings(), provTrunk(p))
	ts.waitTrunk(t, "prov", "registered", isRegistered)
	before, _ := p.registers()
	ts.stop()

	regs, answers := p.registers()
	if len(regs) < len(before)+2 {
		t.Fatalf("%d REGISTERs after close, want the unregistration and its challenge", len(regs)-len(before))
	}
	last := regs[len(regs)-1]
	if requestExpires(last) != 0 || answers[len(answers)-1] != 200 || credentials(last) == nil {
		t.Errorf("last REGISTER: Expires %d, answered %d, credentials %v; want an authenticated Expires: 0, 200",
			requestExpires(last), answers[len(answers)-1], credentials(last) != nil)
	}
	if last.CallID().Value() != before[0].CallID().Value() || cseqOf(last) <= cseqOf(before[len(before)-1]) {
		t.Error("the unregistration has another Call-ID or no higher CSeq")
	}
	if c := last.Contact(); c == nil || c.Address.User != provUser || c.Address.Port != int(ts.UDP.Port()) {
		t.Errorf("unregistration Contact = %v, want ours", c)
	}
	st := ts.trunk(t, "prov")
	if st.Registered || st.State != sip.TrunkNotRegistering || !st.Expires.IsZero() {
		t.Errorf("state after close = %+v, want not registered", st)
	}
}

func TestTrunkFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     provScript
		code       int
		err        string
		retryAfter time.Duration
		reachable  bool
	}{
		{name: "403", code: 403, err: "403 Forbidden", reachable: true, answer: func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
			return reply(req, 403, "Forbidden")
		}},
		{name: "404", code: 404, err: "404 Not Found", reachable: true, answer: func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
			return reply(req, 404, "Not Found")
		}},
		{name: "500", code: 500, err: "500 Server Internal Error", reachable: true, answer: func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
			return reply(req, 500, "Server Internal Error")
		}},
		{name: "503 Retry-After", code: 503, err: "503 Service Unavailable", retryAfter: time.Second, reachable: true, answer: func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
			return reply(req, 503, "Service Unavailable", sipgo.NewHeader("Retry-After", "1 (maintenance)"))
		}},
		{name: "603", code: 603, err: "603 Decline", reachable: true, answer: func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
			return reply(req, 603, "Decline")
		}},
		{name: "after the challenge", code: 403, err: "403 Forbidden", reachable: true, answer: func(p *fakeProvider, req *sipgo.Request) *sipgo.Response {
			if credentials(req) == nil {
				return p.challenge(req, 401, false)
			}
			return reply(req, 403, "Forbidden")
		}},
		{name: "timeout", code: 0, err: "no final response", answer: func(*fakeProvider, *sipgo.Request) *sipgo.Response {
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startProvider(t, tc.answer)
			tt := fastTrunkTimings()
			tt.RequestTimeout = 300 * time.Millisecond
			// A first retry late enough that the state seen is the first failure's.
			tt.MinBackoff, tt.MaxBackoff = 500*time.Millisecond, time.Second
			ts := startTrunkServer(t, tt, provTrunk(p))
			st := ts.waitTrunk(t, "prov", "failing", isFailing)
			if st.LastCode != tc.code || !strings.Contains(st.Error, tc.err) || st.Reachable != tc.reachable || st.Registered {
				t.Errorf("state = %+v, want failing with %d, error %q, reachable %v", st, tc.code, tc.err, tc.reachable)
			}
			wait := st.NextAttempt.Sub(st.Since) // first failure: both set at once
			if tc.retryAfter > 0 && wait != tc.retryAfter {
				t.Errorf("retry planned after %s, want the Retry-After %s", wait, tc.retryAfter)
			}
			if tc.retryAfter == 0 && (wait < 400*time.Millisecond || wait > 600*time.Millisecond) {
				t.Errorf("retry planned after %s, want 500ms ±20%%", wait)
			}
			if n := len(ts.logs.Grep("trunk registration failing")); n != 1 {
				t.Errorf("%d 'trunk registration failing' log lines, want 1", n)
			}
			p.setRegister(registrar(401, 0))
			st = ts.waitTrunk(t, "prov", "registered after the provider recovered", isRegistered)
			if !st.Reachable || st.Error != "" {
				t.Errorf("state after recovery = %+v", st)
			}
		})
	}
}

func TestTrunkCannotSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		trunk sip.Trunk
		err   string
	}{
		{
			name:  "unresolvable host",
			trunk: sip.Trunk{Name: "prov", Host: "provider.invalid", Username: provUser, Register: true},
			err:   "resolve provider.invalid",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := fastTrunkTimings()
			tt.RequestTimeout = 300 * time.Millisecond
			ts := startTrunkServer(t, tt, tc.trunk)
			st := ts.waitTrunk(t, "prov", "failing", isFailing)
			if !strings.Contains(st.Error, tc.err) || st.LastCode != 0 {
				t.Errorf("state = %+v, want error %q", st, tc.err)
			}
		})
	}
}

// TestTrunkNeedsListener: a trunk over a transport Ringdesk does not
// listen on is refused when the server is made, not at the first call.
func TestTrunkNeedsListener(t *testing.T) {
	cfg := sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Trunks: []sip.Trunk{{Name: "prov", Host: "127.0.0.1", Transport: "tcp", Username: provUser, Register: true}},
	}
	if _, err := sip.NewServer(cfg, nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "needs a tcp listener") {
		t.Errorf("NewServer: %v, want a tcp trunk refused without a tcp listener", err)
	}
}

func TestTrunkContacts(t *testing.T) {
	t.Parallel()
	const other = "<sip:someone@192.0.2.1:5060>;expires=300"
	tests := []struct {
		name     string
		contacts func(ours string) []string
		want     time.Duration
		warn     bool
	}{
		{name: "ours among others", want: 90 * time.Second, contacts: func(ours string) []string {
			return []string{other, "<" + ours + ">;expires=90"}
		}},
		{name: "only others", want: 45 * time.Second, warn: true, contacts: func(string) []string {
			return []string{other}
		}},
		{name: "none", want: 45 * time.Second, contacts: func(string) []string { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startProvider(t, func(p *fakeProvider, req *sipgo.Request) *sipgo.Response {
				if !p.valid(req) {
					return p.challenge(req, 401, false)
				}
				res := reply(req, 200, "OK", sipgo.NewHeader("Expires", "45"))
				for _, c := range tc.contacts(req.Contact().Address.String()) {
					res.AppendHeader(sipgo.NewHeader("Contact", c))
				}
				return res
			})
			ts := startTrunkServer(t, fastTrunkTimings(), provTrunk(p))
			st := ts.waitTrunk(t, "prov", "registered", isRegistered)
			if left := time.Until(st.Expires); left > tc.want || left < tc.want-10*time.Second {
				t.Errorf("registration runs out in %s, want about %s", left, tc.want)
			}
			if got := len(ts.logs.Grep("lists other contacts")) > 0; got != tc.warn {
				t.Errorf("warned about our missing contact: %v, want %v", got, tc.warn)
			}
		})
	}
}

// TestTrunkKeepalive: OPTIONS go to every trunk with a keepalive; a
// provider that stops answering is unreachable, and when it answers again
// Ringdesk registers at once (it may have restarted and lost us).
func TestTrunkKeepalive(t *testing.T) {
	t.Parallel()
	p := startProvider(t, registrar(401, 3600))
	quiet := startProvider(t, func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
		return reply(req, 500, "Server Internal Error")
	})
	quiet.setOptions(func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response {
		return reply(req, 404, "Not Found") // still there
	})
	reg := provTrunk(p)
	reg.Keepalive = time.Second // fastTrunkTimings make it 50 ms
	noReg := sip.Trunk{Name: "quiet", Host: "127.0.0.1", Port: int(quiet.addr.Port()), Keepalive: time.Second}
	tt := fastTrunkTimings()
	tt.RequestTimeout = 300 * time.Millisecond
	ts := startTrunkServer(t, tt, reg, noReg)

	ts.waitTrunk(t, "prov", "registered and reachable", func(st sip.TrunkState) bool { return isRegistered(st) && st.Reachable })
	st := ts.waitTrunk(t, "quiet", "reachable", func(st sip.TrunkState) bool { return st.Reachable })
	if st.State != sip.TrunkNotRegistering || st.Registered {
		t.Errorf("trunk without Register: %+v, want not_registering", st)
	}
	if regs, _ := quiet.registers(); len(regs) != 0 {
		t.Errorf("a trunk without Register sent %d REGISTERs", len(regs))
	}
	p.waitUntil(t, "two OPTIONS", func(_ []*sipgo.Request, _ []int, options int) bool { return options >= 2 })

	// The provider goes away...
	p.setOptions(func(*fakeProvider, *sipgo.Request) *sipgo.Response { return nil })
	st = ts.waitTrunk(t, "prov", "unreachable", func(st sip.TrunkState) bool { return !st.Reachable })
	if !st.Registered {
		t.Errorf("unreachable but within its expiry: %+v, want still registered", st)
	}
	registered := count(p.answersNow(), 200)

	// ...and comes back: REGISTER at once, not at the refresh in 45 min.
	p.setOptions(func(_ *fakeProvider, req *sipgo.Request) *sipgo.Response { return reply(req, 200, "OK") })
	p.waitRegisters(t, 200, registered+1)
	ts.waitTrunk(t, "prov", "reachable", func(st sip.TrunkState) bool { return st.Reachable && isRegistered(st) })
	if len(ts.logs.Grep("trunk unreachable")) != 1 || len(ts.logs.Grep("trunk reachable again")) != 1 {
		t.Errorf("want one 'trunk unreachable' and one 'trunk reachable again' log line:\n%s", strings.Join(ts.logs.Lines(), "\n"))
	}
}

func (p *fakeProvider) answersNow() []int {
	_, a := p.registers()
	return a
}

// TestTrunkStatesBeforeServe: every trunk is listed from the start.
func TestTrunkStatesBeforeServe(t *testing.T) {
	t.Parallel()
	cfg := sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Trunks: []sip.Trunk{
			{Name: "a", Host: "127.0.0.1", Username: "u", Register: true},
			{Name: "b", Host: "127.0.0.1"},
		},
	}
	srv, err := sip.NewServer(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sts := srv.TrunkStates()
	if len(sts) != 2 || sts[0].Name != "a" || sts[0].State != sip.TrunkRegistering || sts[1].Name != "b" || sts[1].State != sip.TrunkNotRegistering {
		t.Errorf("TrunkStates = %+v", sts)
	}
}

// TestTrunkGoroutinesStop: closing the server stops and waits for the
// registration and keepalive loops. Not parallel: it counts goroutines.
func TestTrunkGoroutinesStop(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("scenario", func(t *testing.T) {
		p := startProvider(t, registrar(401, 1))
		tr := provTrunk(p)
		tr.Keepalive = time.Second
		ts := startTrunkServer(t, fastTrunkTimings(), tr)
		p.waitRegisters(t, 200, 2)
		p.waitUntil(t, "OPTIONS", func(_ []*sipgo.Request, _ []int, options int) bool { return options >= 1 })
		ts.stop()
	})
	if t.Failed() {
		return
	}
	testkit.CheckGoroutines(t, base, 10*time.Second)
	if s := testkit.Goroutines(); strings.Contains(s, "ringdesk/sip.(*trunkReg)") {
		t.Errorf("trunk loops still running:\n%s", s)
	}
}
