package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Trunk registration defaults (see TrunkTimings).
const (
	// DefaultTrunkMinBackoff is the wait before the first retry of a failed
	// registration; each further failure doubles it.
	DefaultTrunkMinBackoff = 5 * time.Second
	// DefaultTrunkMaxBackoff caps the wait between retries.
	DefaultTrunkMaxBackoff = 5 * time.Minute
	// DefaultTrunkRequestTimeout bounds one REGISTER or OPTIONS transaction:
	// Timer F of RFC 3261 §17.1.2.2 (64×T1).
	DefaultTrunkRequestTimeout = 32 * time.Second
	// DefaultTrunkUnregisterTimeout bounds unregistering every trunk when the
	// server closes.
	DefaultTrunkUnregisterTimeout = 2 * time.Second
)

const (
	// trunkRefreshMargin: a registration is refreshed at least this long
	// before it runs out, when its interval allows (see refreshAfter).
	trunkRefreshMargin = 30 * time.Second
	// maxTrunkChallenges is how many 401/407s one registration answers
	// before it gives up: the first challenge, a stale nonce, a second
	// realm. A provider that keeps challenging with fresh nonces refuses
	// the credentials.
	maxTrunkChallenges = 3
	// maxIntervalTooBrief is how many 423s one registration follows.
	maxIntervalTooBrief = 3
	// maxRetryAfter caps a provider's Retry-After.
	maxRetryAfter = time.Hour
	// backoffJitter spreads retries by ±1/backoffJitter of the wait.
	backoffJitter = 5
)

// Trunk registration states (TrunkState.State).
const (
	// TrunkRegistering: no registration has completed or failed yet.
	TrunkRegistering = "registering"
	// TrunkRegistered: the last REGISTER succeeded.
	TrunkRegistered = "registered"
	// TrunkFailing: the last REGISTER failed; it is retried with backoff.
	TrunkFailing = "failing"
	// TrunkNotRegistering: the trunk has Register off, or the server has
	// closed and removed its registration.
	TrunkNotRegistering = "not_registering"
)

// TrunkState is what Ringdesk knows about one trunk's registration and
// reachability, for status displays and metrics.
type TrunkState struct {
	// Name is the trunk's name.
	Name string
	// State is one of "registered", "registering", "failing" and
	// "not_registering" (Register off); see TrunkRegistered and the others.
	State string
	// Registered reports whether the provider holds a registration of ours
	// that has not run out: it stays true while refreshes fail, until Expires.
	Registered bool
	// LastCode and LastReason are the provider's last final response to a
	// REGISTER (0 and "" when none came: timeout, transport error).
	LastCode   int
	LastReason string
	// Error says why the trunk is failing; empty unless State is "failing".
	Error string
	// Expires is when the current registration runs out; zero when there is
	// none.
	Expires time.Time
	// NextAttempt is when the next REGISTER is due: the refresh, or the next
	// retry after a failure; zero when none is planned.
	NextAttempt time.Time
	// Since is when State last changed.
	Since time.Time
	// Reachable reports whether the provider answered the last request sent
	// to it (keepalive OPTIONS or REGISTER): any response counts, except a
	// 408 or 503 to OPTIONS. False until a first answer.
	Reachable bool
	// LastRegistered is when a REGISTER last succeeded; zero if never.
	LastRegistered time.Time
}

// TrunkTimings are the timings of the trunk registration loops. Zero fields
// take the defaults.
type TrunkTimings struct {
	// MinBackoff is the wait before retrying a failed registration; it
	// doubles with each further failure up to MaxBackoff, and each wait is
	// spread by ±20%. A Retry-After in the provider's answer replaces it.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one REGISTER or OPTIONS transaction, and the
	// provider's name lookup.
	RequestTimeout time.Duration
	// Keepalive, when set, replaces the Keepalive interval of every trunk
	// that has one.
	Keepalive time.Duration
	// Unregister bounds unregistering all trunks when the server closes.
	Unregister time.Duration
}

func (tt TrunkTimings) withDefaults() TrunkTimings {
	if tt.MinBackoff == 0 {
		tt.MinBackoff = DefaultTrunkMinBackoff
	}
	if tt.MaxBackoff == 0 {
		tt.MaxBackoff = max(DefaultTrunkMaxBackoff, tt.MinBackoff)
	}
	if tt.RequestTimeout == 0 {
		tt.RequestTimeout = DefaultTrunkRequestTimeout
	}
	if tt.Unregister == 0 {
		tt.Unregister = DefaultTrunkUnregisterTimeout
	}
	return tt
}

// WithTrunkTimings replaces the timings of the trunk registration loops,
// for tests.
func WithTrunkTimings(tt TrunkTimings) Option {
	return func(s *Server) error {
		if tt.MinBackoff < 0 || tt.MaxBackoff < 0 || tt.RequestTimeout < 0 || tt.Keepalive < 0 || tt.Unregister < 0 {
			return errors.New("sip: trunk timings must not be negative")
		}
		if tt.MaxBackoff != 0 && tt.MaxBackoff < tt.MinBackoff {
			return fmt.Errorf("sip: trunk max backoff %s is shorter than min backoff %s", tt.MaxBackoff, tt.MinBackoff)
		}
		s.trunkRegs.timings = tt
		return nil
	}
}

// TrunkStates returns the registration state of every configured trunk, in
// configuration order.
func (s *Server) TrunkStates() []TrunkState {
	regs := s.trunkRegLoops()
	now := s.now()
	out := make([]TrunkState, 0, len(regs))
	for _, r := range regs {
		out = append(out, r.state(now))
	}
	return out
}

// trunkRegs owns one loop per trunk that registers or sends keepalives:
// started by Serve, stopped and waited for by close.
type trunkRegs struct {
	timings TrunkTimings // set by WithTrunkTimings

	once sync.Once
	regs []*trunkReg

	mu      sync.Mutex
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// trunkRegLoops returns the server's trunk loops, made on first use.
func (s *Server) trunkRegLoops() []*trunkReg {
	tr := &s.trunkRegs
	tr.once.Do(func() {
		tt := tr.timings.withDefaults()
		for _, t := range s.cfg.Trunks {
			tr.regs = append(tr.regs, newTrunkReg(s, t, tt))
		}
	})
	return tr.regs
}

// startTrunkRegs starts the loops. They run until stopTrunkRegs; a start
// after the stop starts nothing.
func (s *Server) startTrunkRegs(ctx context.Context) {
	regs := s.trunkRegLoops()
	tr := &s.trunkRegs
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.stopped || tr.cancel != nil {
		return
	}
	ctx, tr.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, r := range regs {
		if !r.t.Register && r.keepalive == 0 {
			continue
		}
		tr.wg.Go(func() { r.run(ctx) })
	}
}

// stopTrunkRegs stops the loops, which unregister their trunks (bounded by
// TrunkTimings.Unregister), and waits for them. Idempotent.
func (s *Server) stopTrunkRegs() {
	tr := &s.trunkRegs
	tr.mu.Lock()
	tr.stopped = true
	cancel := tr.cancel
	tr.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	tr.wg.Wait()
}

// reach is what the last request told about the provider.
type reach int

const (
	reachUnknown reach = iota
	reachYes
	reachNo
)

// trunkReg registers one trunk with its provider and sends it keepalives
// (RFC 3261 §10.2). Its loop is the only writer of its fields but st.
type trunkReg struct {
	s         *Server
	t         Trunk // with defaults
	tt        TrunkTimings
	log       *slog.Logger
	transport string // sipgo's name: UDP, TCP, TLS
	keepalive time.Duration
	callID    string // one Call-ID for all our REGISTERs (§10.2.4)
	fromTag   string
	cseq      uint32
	ask       time.Duration // expiry asked for: Trunk.Expiry, raised by 423
	failures  int           // consecutive failed registrations, for backoff
	reach     reach
	unlisted  bool // the last 200 listed other contacts but not ours
	lastFail  string

	mu sync.Mutex
	st TrunkState
}

func newTrunkReg(s *Server, t Trunk, tt TrunkTimings) *trunkReg {
	t = t.withDefaults()
	r := &trunkReg{
		s:         s,
		t:         t,
		tt:        tt,
		log:       s.log.With("trunk", t.Name),
		transport: strings.ToUpper(t.Transport),
		keepalive: t.Keepalive,
		callID:    newCallID(),
		fromTag:   newTag(),
		cseq:      randomCSeq(),
		ask:       t.Expiry,
	}
	if tt.Keepalive > 0 && r.keepalive > 0 {
		r.keepalive = tt.Keepalive
	}
	r.st = TrunkState{Name: t.Name, State: TrunkRegistering, Since: s.now()}
	if !t.Register {
		r.st.State = TrunkNotRegistering
	}
	return r
}

func (r *trunkReg) state(now time.Time) TrunkState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Registered = !st.Expires.IsZero() && now.Before(st.Expires)
	return st
}

// startSpread is when a trunk first registers: at once for a few trunks;
// with many (to one provider, often), spread over up to two seconds (a
// millisecond per trunk), so they do not all knock at the same instant.
func (r *trunkReg) startSpread() time.Duration {
	spread := min(time.Duration(len(r.s.cfg.Trunks))*time.Millisecond, 2*time.Second, r.tt.MinBackoff)
	if spread <= time.Millisecond {
		return 0
	}
	return time.Duration(rand.Int64N(int64(spread))) //nolint:gosec // jitter needs no cryptographic randomness
}

// run registers and refreshes the trunk and sends its keepalives until ctx
// ends, then unregisters it.
func (r *trunkReg) run(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("trunk registration panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	if !r.waitServed(ctx) {
		return
	}
	var regC, kaC <-chan time.Time
	var regTimer, kaTimer *time.Timer
	if r.t.Register {
		regTimer = time.NewTimer(r.startSpread())
		defer regTimer.Stop()
		regC = regTimer.C
	}
	if r.keepalive > 0 {
		first := r.keepalive // a REGISTER tells first whether the provider is there
		if !r.t.Register {
			first = 0
		}
		kaTimer = time.NewTimer(first)
		defer kaTimer.Stop()
		kaC = kaTimer.C
	}
	for {
		select {
		case <-ctx.Done():
			if r.t.Register {
				r.unregister(ctx)
			}
			return
		case <-regC:
			if wait, ok := r.register(ctx); ok {
				regTimer.Reset(wait)
			}
		case <-kaC:
			back := r.ping(ctx)
			kaTimer.Reset(r.keepalive)
			if back && regTimer != nil {
				// The provider was unreachable and may have lost our
				// registration (a restart): register again at once.
				regTimer.Reset(0)
			}
		}
	}
}

// waitServed waits until sipgo serves our UDP listener. Requests to the
// provider leave from it, so that the provider sees the port of our
// contact, but sipgo finds it only once ServeUDP has started, which Serve
// does concurrently with starting the trunk loops: before that, sipgo
// tries to bind the listener's address again and fails.
func (r *trunkReg) waitServed(ctx context.Context) bool {
	l := r.s.listenerFor("UDP")
	if r.transport != "UDP" || l == nil {
		return true
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := r.s.ua.TransportLayer().GetConnection("udp", l.laddrUDP.String()); err == nil {
			_, _ = c.TryClose() // GetConnection took a reference
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// regResult is the outcome of one registration: a REGISTER with the
// answers to its challenges and 423s.
type regResult struct {
	err        error // nil: registered (or unregistered)
	code       int
	reason     string
	asked      time.Duration // the expiry finally asked for
	granted    time.Duration
	expires    time.Time
	retryAfter time.Duration
	listed     bool     // the 200 lists our contact
	others     []string // contacts it lists that are not ours
	reach      reach
}

// register runs one registration and updates the state. It returns when
// the next one is due, or false when ctx ended.
func (r *trunkReg) register(ctx context.Context) (time.Duration, bool) {
	res := r.attempt(ctx, r.ask)
	if ctx.Err() != nil {
		return 0, false
	}
	r.noteReach(res.reach)
	now := r.s.now()
	if res.err == nil {
		r.failures = 0
		r.ask = res.asked
		wait := refreshAfter(res.granted)
		r.registered(res, now, now.Add(wait))
		return wait, true
	}
	r.failures++
	wait := backoff(r.failures, r.tt.MinBackoff, r.tt.MaxBackoff)
	if res.retryAfter > 0 {
		wait = min(res.retryAfter, maxRetryAfter)
	}
	r.failed(res, now, now.Add(wait))
	return wait, true
}

// refreshAfter is when a registration granted for g is refreshed: at half
// of g for short ones, at ¾ of g for long ones, and in between trunkRefreshMargin
// before it runs out: max(g/2, min(3g/4, g−30s)). So 40 s → 20 s, 60 s → 30 s,
// 90 s → 60 s, 120 s → 90 s, 3600 s → 2700 s.
func refreshAfter(g time.Duration) time.Duration {
	return max(g/2, min(g*3/4, g-trunkRefreshMargin))
}

// backoff is the wait before retry n (n ≥ 1) of a failed registration: min
// doubled n−1 times, capped at max, spread by ±20%.
func backoff(n int, minWait, maxWait time.Duration) time.Duration {
	d := minWait
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if spread := int64(d) / backoffJitter; spread > 0 {
		d += time.Duration(rand.Int64N(2*spread+1) - spread) //nolint:gosec // jitter needs no cryptographic randomness
	}
	return d
}

func (r *trunkReg) registered(res regResult, now, next time.Time) {
	r.mu.Lock()
	prev := r.st.State
	r.st.State = TrunkRegistered
	r.st.LastCode, r.st.LastReason, r.st.Error = res.code, res.reason, ""
	r.st.Expires = res.expires
	r.st.NextAttempt = next
	r.st.LastRegistered = now
	if prev != TrunkRegistered {
		r.st.Since = now
	}
	r.mu.Unlock()
	r.lastFail = ""
	if prev != TrunkRegistered {
		r.log.Info("trunk registered", "expires", res.granted.String(), "until", res.expires.Format(time.RFC3339), "refresh_in", next.Sub(now).String())
	} else {
		r.log.Debug("trunk registration refreshed", "expires", res.granted.String())
	}
	unlisted := !res.listed && len(res.others) > 0
	if unlisted && !r.unlisted {
		r.log.Warn("trunk provider's 200 lists other contacts but not ours; taking it as registered",
			"contacts", strings.Join(res.others, ", "))
	}
	r.unlisted = unlisted
}

func (r *trunkReg) failed(res regResult, now, next time.Time) {
	r.mu.Lock()
	prev := r.st.State
	r.st.State = TrunkFailing
	r.st.LastCode, r.st.LastReason, r.st.Error = res.code, res.reason, res.err.Error()
	r.st.NextAttempt = next
	if prev != TrunkFailing {
		r.st.Since = now
	}
	r.mu.Unlock()
	// Log when the trunk starts failing or fails differently, not at every retry.
	what := strconv.Itoa(res.code) + " " + res.err.Error()
	if prev != TrunkFailing || what != r.lastFail {
		r.log.Warn("trunk registration failing", "code", res.code, "reason", res.reason,
			"error", res.err.Error(), "retry_in", next.Sub(now).Round(time.Millisecond).String())
	} else {
		r.log.Debug("trunk registration failed again", "code", res.code, "error", res.err.Error(), "attempt", r.failures)
	}
	r.lastFail = what
}

// noteReach records what a request told about the provider and reports
// whether it came back after being unreachable.
func (r *trunkReg) noteReach(rc reach) bool {
	if rc == reachUnknown {
		return false
	}
	prev := r.reach
	r.reach = rc
	r.mu.Lock()
	r.st.Reachable = rc == reachYes
	r.mu.Unlock()
	switch {
	case rc == reachNo && prev != reachNo:
		r.log.Warn("trunk unreachable", "host", r.t.HostPort())
	case rc == reachYes && prev == reachNo:
		r.log.Info("trunk reachable again", "host", r.t.HostPort())
		return true
	}
	return false
}

// ping sends a keepalive OPTIONS and reports whether the provider came back
// after being unreachable. Any response but 408 and 503 means the provider
// is there.
func (r *trunkReg) ping(ctx context.Context) bool {
	dest, err := r.resolve(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Debug("trunk keepalive", "error", err)
			return r.noteReach(reachNo)
		}
		return false
	}
	req := r.newRequest(sip.OPTIONS, dest, newCallID(), newTag(), 1)
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res, err := r.do(ctx, req)
	switch {
	case ctx.Err() != nil:
		return false
	case err != nil:
		r.log.Debug("trunk keepalive", "error", err)
		return r.noteReach(reachNo)
	case res.StatusCode == 408 || res.StatusCode == 503:
		r.log.Debug("trunk keepalive", "code", res.StatusCode)
		return r.noteReach(reachNo)
	default:
		return r.noteReach(reachYes)
	}
}

// unregister removes our registration (Expires: 0, RFC 3261 §10.2.2) when
// the provider may hold one, within TrunkTimings.Unregister.
func (r *trunkReg) unregister(ctx context.Context) {
	r.mu.Lock()
	bound := !r.st.Expires.IsZero() && r.s.now().Before(r.st.Expires)
	r.mu.Unlock()
	if !bound {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.tt.Unregister)
	defer cancel()
	res := r.attempt(ctx, 0)
	if res.err != nil {
		r.log.Warn("trunk unregister failed", "code", res.code, "error", res.err.Error())
		return
	}
	now := r.s.now()
	r.mu.Lock()
	r.st.State = TrunkNotRegistering
	r.st.LastCode, r.st.LastReason = res.code, res.reason
	r.st.Expires, r.st.NextAttempt, r.st.Since = time.Time{}, time.Time{}, now
	r.mu.Unlock()
	r.log.Info("trunk unregistered")
}

// attempt sends a REGISTER asking for expires (0: unregister), answers its
// digest challenges with the trunk's credentials (a stale nonce is answered
// again, RFC 3261 §22.4) and follows 423 Interval Too Brief with the
// provider's Min-Expires (§10.3 step 7).
func (r *trunkReg) attempt(ctx context.Context, expires time.Duration) regResult {
	out := regResult{asked: expires}
	if r.s.listenerFor(r.transport) == nil {
		out.err = fmt.Errorf("no %s listener for our contact", r.t.Transport)
		return out
	}
	dest, err := r.resolve(ctx)
	if err != nil {
		out.err, out.reach = err, reachNo
		return out
	}
	auth := newClientAuth(r.t)
	var authz sip.Header
	challenges, brief := 0, 0
	for {
		r.cseq++
		req := r.newRequest(sip.REGISTER, dest, r.callID, r.fromTag, r.cseq)
		contact := r.s.contactFor(r.t.RegisterUser, r.transport)
		req.AppendHeader(&contact)
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
		req.AppendHeader(sip.NewHeader("Allow", allowMethods))
		if authz != nil {
			req.AppendHeader(authz)
		}
		sent := r.s.now()
		res, err := r.do(ctx, req)
		if err != nil {
			out.err, out.reach = err, reachNo
			return out
		}
		out.code, out.reason, out.reach = res.StatusCode, res.Reason, reachYes
		switch {
		case res.StatusCode == 401 || res.StatusCode == 407:
			if challenges++; challenges > maxTrunkChallenges {
				out.err = fmt.Errorf("%w: challenged %d times in a row: wrong credentials", ErrAuth, challenges)
				return out
			}
			if authz, err = auth.authorize(req, res); err != nil {
				out.err = err
				return out
			}
		case res.StatusCode == 423 && expires > 0:
			minExp, ok := headerSeconds(res, "Min-Expires")
			if brief++; !ok || minExp <= expires || brief > maxIntervalTooBrief {
				out.err = fmt.Errorf("423 Interval Too Brief with Min-Expires %q, asked %s", headerValue(res, "Min-Expires"), expires)
				return out
			}
			r.log.Debug("trunk asks for a longer registration", "min_expires", minExp.String())
			expires, out.asked = minExp, minExp
			// Start over: a new challenge, answered afresh.
			auth, authz, challenges = newClientAuth(r.t), nil, 0
		case res.IsSuccess():
			out.granted, out.listed, out.others = grantedExpiry(res, contact.Address, expires, r.transport)
			out.expires = sent.Add(out.granted)
			if expires > 0 && out.granted <= 0 {
				out.err = fmt.Errorf("%d %s granting no time", res.StatusCode, res.Reason)
			}
			return out
		default:
			out.err = fmt.Errorf("%d %s", res.StatusCode, res.Reason)
			if ra, ok := headerSeconds(res, "Retry-After"); ok && ra > 0 {
				out.retryAfter = ra
			}
			return out
		}
	}
}

// newRequest builds an out-of-dialog request to the provider:
// sip:HOST:PORT, From and To sip:user@HOST.
func (r *trunkReg) newRequest(method sip.RequestMethod, dest, callID, tag string, cseq uint32) *sip.Request {
	host := strings.Trim(r.t.Host, "[]")
	ruri := sip.Uri{Scheme: "sip", Host: host, Port: r.t.Port}
	if r.transport != "UDP" {
		ruri.UriParams = sip.NewParams()
		ruri.UriParams.Add("transport", strings.ToLower(r.transport))
	}
	req := sip.NewRequest(method, ruri)
	req.AppendHeader(r.s.via(r.transport))
	user := r.t.RegisterUser
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host}, Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("User-Agent", r.s.cfg.UserAgent))
	req.SetBody(nil)
	r.s.route(req, r.transport, dest)
	return req
}

// resolve returns where requests to the provider go, looking its host up
// now (it may move): IP:port (see lookupTrunkHost). Over TLS it is
// host:port, for the certificate check.
func (r *trunkReg) resolve(ctx context.Context) (string, error) {
	host := strings.Trim(r.t.Host, "[]")
	port := uint16(r.t.Port) // validated 1-65535
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), port).String(), nil
	}
	a, err := r.s.lookupTrunkHost(ctx, host, r.transport, r.tt.RequestTimeout)
	if err != nil {
		return "", err
	}
	if r.transport == "TLS" {
		return net.JoinHostPort(host, strconv.Itoa(int(port))), nil
	}
	return netip.AddrPortFrom(a, port).String(), nil
}

// do sends req and waits, up to TrunkTimings.RequestTimeout, for its final
// response.
func (r *trunkReg) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	rctx, cancel := context.WithTimeout(ctx, r.tt.RequestTimeout)
	defer cancel()
	res, err := r.s.do(rctx, req)
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrNoAnswer), errors.Is(err, sip.ErrTransactionTimeout):
		return nil, fmt.Errorf("%s to %s: %w within %s", req.Method, req.Destination(), ErrNoAnswer, r.tt.RequestTimeout)
	default:
		return nil, fmt.Errorf("%s to %s: %w", req.Method, req.Destination(), err)
	}
}

// grantedExpiry is how long a 2xx to a REGISTER asking for asked keeps us
// registered (RFC 3261 §10.2.4): our contact's expires parameter when the
// provider lists our contact, else the Expires header, else what we asked.
// It also returns whether our contact was listed, and the others listed.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration, transport string) (time.Duration, bool, []string) {
	var (
		listed  bool
		granted time.Duration
		fromOur bool
		others  []string
	)
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if !sameContact(c.Address, ours, transport) {
			others = append(others, c.Address.String())
			continue
		}
		listed = true
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
				granted, fromOur = time.Duration(n)*time.Second, true
			}
		}
	}
	if fromOur {
		return granted, listed, others
	}
	if d, ok := headerSeconds(res, "Expires"); ok {
		return d, listed, others
	}
	return asked, listed, others
}

// sameContact compares the parts of two contact URIs a registrar keeps:
// user, host and port (RFC 3261 §10.3 step 6 compares whole URIs, but
// providers add or drop parameters).
func sameContact(a, b sip.Uri, transport string) bool {
	port := func(u sip.Uri) int {
		if u.Port == 0 {
			return sip.DefaultPort(transport)
		}
		return u.Port
	}
	return a.User == b.User && strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && port(a) == port(b)
}

func headerValue(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return strings.TrimSpace(h.Value())
	}
	return ""
}

// headerSeconds parses a header holding delta-seconds, like Expires,
// Min-Expires and Retry-After (its comment and parameters are ignored).
func headerSeconds(res *sip.Response, name string) (time.Duration, bool) {
	v := headerValue(res, name)
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 || end > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
