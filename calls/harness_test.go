package calls_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/sdp"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// Waits in these tests are bounded by waitFor; nothing here should take long.
const waitFor = 5 * time.Second

// settleFor bounds how long a harness waits, after a test, for the switch,
// the SIP dialogs, the RTP sessions and the goroutines to wind down.
const settleFor = 10 * time.Second

// failedSettle replaces settleFor once a test has failed.
const failedSettle = time.Second

// expectFor bounds waits for something that follows at once when Ringdesk
// works, in the tests that reproduce bugs: they fail fast when it does not.
const expectFor = 1500 * time.Millisecond

const testRealm = "ringdesk.test"

// The RTP port range of the tests' media engines. It must not collide with
// media's own tests (40000-40099), the end-to-end tests (31000-37899) or
// the ports peertest hands out (21000-30999), which `go test ./...` may
// run at the same time in other processes.
const (
	rtpPortMin = 38000
	rtpPortMax = 38999
)

// password returns the SIP password of extension user.
func password(user string) string { return "pw-" + user }

// testUsers are the SIP accounts: 1001..1005. 1005 is a SIP user but not an
// extension of the switch.
func testUsers() []sip.User {
	var us []sip.User
	for i := 1001; i <= 1005; i++ {
		name := fmt.Sprint(i)
		us = append(us, sip.User{Name: name, Password: password(name)})
	}
	return us
}

// testExtensions are the switch's extensions, with the names and agent IDs
// the call records must carry.
func testExtensions() []calls.Extension {
	return []calls.Extension{
		{Number: "1001", Name: "Alice Agent", AgentID: "agent-alice"},
		{Number: "1002", Name: "Bob Agent", AgentID: "agent-bob"},
		{Number: "1003", Name: "Carol Agent", AgentID: "agent-carol"},
		{Number: "1004", Name: "Dave Agent", AgentID: "agent-dave"},
	}
}

// harness is a switch wired as cmd/ringdesk wires it: a real sip.Server on
// loopback (UDP and TCP, port 0) serving the Switch, and a real media.Engine
// on 127.0.0.1. siptest phones register with it and dial through it.
//
// When the test ends the harness checks that the switch is idle, no SIP
// dialog and no RTP session or port is left, that the observer saw exactly
// one CallEnded per call and nothing after it, and that the goroutine count
// is back where it was. Tests must not run in parallel: the goroutine check
// counts the whole process.
type harness struct {
	SIP    *sip.Server
	Media  *media.Engine
	Switch *calls.Switch
	Obs    *recorder // nil when the harness was given another observer
	UDP    netip.AddrPort
	TCP    netip.AddrPort

	logs *testkit.LogCapture
	// allowPanics: the test provokes a panic the switch must survive.
	allowPanics atomic.Bool

	mu     sync.Mutex
	phones []func() // phones' Close, run once Ringdesk has stopped
}

// harnessConfig is what newHarness builds from; options edit it.
type harnessConfig struct {
	calls   calls.Config
	trunks  []sip.Trunk
	media   media.Config
	obs     calls.Observer
	noTrace bool
}

type harnessOption func(*harnessConfig)

// withCalls edits the switch's configuration.
func withCalls(f func(*calls.Config)) harnessOption {
	return func(c *harnessConfig) { f(&c.calls) }
}

// withTrunks gives the SIP server trunks.
func withTrunks(ts ...sip.Trunk) harnessOption {
	return func(c *harnessConfig) { c.trunks = ts }
}

// withMedia edits the media engine's configuration.
func withMedia(f func(*media.Config)) harnessOption {
	return func(c *harnessConfig) { f(&c.media) }
}

// withoutTrace turns the SIP server's message trace off (for benchmarks); the
// harness then cannot wait for SIP traffic to go quiet before it stops.
func withoutTrace() harnessOption {
	return func(c *harnessConfig) { c.noTrace = true }
}

// withObserver replaces the recording observer.
func withObserver(o calls.Observer) harnessOption {
	return func(c *harnessConfig) { c.obs = o }
}

// newHarness starts a SIP server, media engine and switch for the test.
func newHarness(tb testing.TB, opts ...harnessOption) *harness {
	tb.Helper()
	base := runtime.NumGoroutine()
	hc := harnessConfig{
		calls: calls.Config{Extensions: testExtensions()},
		media: media.Config{
			Address: netip.MustParseAddr("127.0.0.1"),
			PortMin: rtpPortMin,
			PortMax: rtpPortMax,
		},
	}
	for _, o := range opts {
		o(&hc)
	}
	h := &harness{logs: newLogCapture()}
	log := slog.New(h.logs)

	srv, err := sip.NewServer(sip.Config{
		Listen: []sip.Listen{
			{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")},
			{Network: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:0")},
		},
		Realm:  testRealm,
		Users:  testUsers(),
		Trunks: hc.trunks,
		// The trace tells the harness when SIP traffic has stopped (see
		// waitQuiet); its lines are kept only with RINGDESK_CALLS_TRACE.
		Trace: !hc.noTrace,
	}, nil, log)
	if err != nil {
		tb.Fatalf("sip.NewServer: %v", err)
	}
	if err := srv.Listen(); err != nil {
		tb.Fatalf("sip Listen: %v", err)
	}
	for _, l := range srv.Addrs() {
		switch l.Network {
		case "udp":
			h.UDP = l.Addr
		case "tcp":
			h.TCP = l.Addr
		}
	}
	eng, err := media.NewEngine(hc.media, log)
	if err != nil {
		tb.Fatalf("media.NewEngine: %v", err)
	}
	obs := hc.obs
	if obs == nil {
		h.Obs = newRecorder()
		obs = h.Obs
	}
	sw, err := calls.NewSwitch(hc.calls, srv, eng, obs, log)
	if err != nil {
		tb.Fatalf("calls.NewSwitch: %v", err)
	}
	h.SIP, h.Media, h.Switch = srv, eng, sw

	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, sw) }()

	// Registered first, so it runs after every other cleanup of the test.
	tb.Cleanup(func() {
		h.waitIdle(tb)
		h.waitQuiet(tb)
		// Ringdesk stops before the phones: a phone closed while a message
		// of Ringdesk's is in flight to it (the ACK of a 487, say) may leak
		// a sipgo connection that siptest's Close cannot see.
		sw.Close()
		cancel()
		timer := time.NewTimer(15 * time.Second)
		defer timer.Stop()
		select {
		case err := <-served:
			if err != nil {
				tb.Errorf("sip Serve: %v", err)
			}
		case <-timer.C:
			tb.Errorf("sip Serve did not return 15 s after its context ended")
		}
		h.closePhones()
		if h.Obs != nil {
			h.Obs.check(tb)
		}
		testkit.CheckGoroutines(tb, base, settleFor)
		if p := h.logs.Grep("panicked"); len(p) > 0 && !h.allowPanics.Load() {
			tb.Errorf("recovered panics:\n%s", strings.Join(p, "\n"))
		}
		if tb.Failed() {
			tb.Logf("log (last lines):\n%s", strings.Join(h.logs.Lines(), "\n"))
		}
	})
	h.waitReady(tb)
	return h
}

// waitReady pings the UDP listener with OPTIONS until it answers, so Serve
// has installed the switch as its handler.
func (h *harness) waitReady(tb testing.TB) {
	tb.Helper()
	siptest.WaitReady(tb, h.UDP, waitFor)
}

// idleState describes what is still in use; "" when nothing is.
func (h *harness) idleState() string {
	var busy []string
	if n := h.Switch.Active(); n != 0 {
		busy = append(busy, fmt.Sprintf("%d active calls", n))
	}
	if n := h.SIP.Dialogs(); n != 0 {
		busy = append(busy, fmt.Sprintf("%d sip dialogs", n))
	}
	if n := h.Media.OpenSessions(); n != 0 {
		busy = append(busy, fmt.Sprintf("%d rtp sessions", n))
	}
	if n := h.Media.Pool().InUse(); n != 0 {
		busy = append(busy, fmt.Sprintf("%d rtp ports in use", n))
	}
	return strings.Join(busy, ", ")
}

// waitIdle waits until the switch has no call, the SIP server no dialog and
// the media engine no session or port in use; it fails the test otherwise.
func (h *harness) waitIdle(tb testing.TB) {
	tb.Helper()
	d := settleFor
	if tb.Failed() {
		d = failedSettle // something is known to be stuck: report it quickly
	}
	if !h.pollIdle(d) {
		tb.Errorf("not idle %s after the test: %s", d, h.idleState())
	}
}

// pollIdle polls for idleness for up to d.
func (h *harness) pollIdle(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for h.idleState() != "" {
		if time.Now().After(deadline) {
			return false
		}
		<-time.After(5 * time.Millisecond) // a bounded poll, not a synchronisation sleep
	}
	return true
}

// quietFor is how long no SIP message may have been sent or received before
// the harness takes SIP traffic to be over.
const quietFor = 30 * time.Millisecond

// waitQuiet waits until Ringdesk's SIP server has neither sent nor received
// a message for quietFor, so that nothing is in flight when the phones
// close: siptest's Phone.Close does not wait for sipgo to finish a message
// that arrives meanwhile, and sipgo may then open a connection that nobody
// closes (a goroutine leak that is not Ringdesk's).
func (h *harness) waitQuiet(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(settleFor)
	for {
		quiet := time.Since(h.logs.LastSIP())
		if quiet >= quietFor {
			return
		}
		if time.Now().After(deadline) {
			tb.Errorf("SIP traffic did not stop within %s", settleFor)
			return
		}
		<-time.After(quietFor - quiet) // bounded wait for a quiet period
	}
}

func (h *harness) closePhones() {
	h.mu.Lock()
	fs := h.phones
	h.phones = nil
	h.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// phoneTB hands siptest a testing.TB whose Cleanup belongs to the harness,
// so phones close after the idle check (calls hung up at the end of a test
// still reach them) and after Ringdesk's SIP server has stopped.
type phoneTB struct {
	testing.TB
	h *harness
}

func (p phoneTB) Cleanup(f func()) {
	p.h.mu.Lock()
	p.h.phones = append(p.h.phones, f)
	p.h.mu.Unlock()
}

type phoneOption func(*siptest.Options)

// answer sets a phone's answer policy.
func answer(a siptest.AnswerFunc) phoneOption { return func(o *siptest.Options) { o.Answer = a } }

// overTCP makes the phone use TCP.
func overTCP() phoneOption { return func(o *siptest.Options) { o.Transport = "tcp" } }

// displayName sets the From display name the phone sends.
func displayName(n string) phoneOption { return func(o *siptest.Options) { o.DisplayName = n } }

// phone starts a softphone for user.
func (h *harness) phone(tb testing.TB, user string, opts ...phoneOption) *siptest.Phone {
	tb.Helper()
	o := siptest.Options{User: user, Password: password(user), Server: h.UDP.String(), UserAgent: "siptest-" + user}
	for _, f := range opts {
		f(&o)
	}
	if os.Getenv("RINGDESK_CALLS_TRACE") != "" {
		o.Logger = slog.New(h.logs).With("phone", user)
	}
	if strings.EqualFold(o.Transport, "tcp") {
		o.Server = h.TCP.String()
	}
	return siptest.NewPhone(phoneTB{TB: tb, h: h}, o)
}

// register starts a phone for user and registers it for an hour.
func (h *harness) register(tb testing.TB, user string, opts ...phoneOption) *siptest.Phone {
	tb.Helper()
	p := h.phone(tb, user, opts...)
	res, err := p.Register(ctxFor(tb), 3600)
	if err != nil || res.Code != 200 {
		tb.Fatalf("register %s: %v %v", user, res, err)
	}
	return p
}

// dial has p call target with offer (nil: a late offer).
func dial(tb testing.TB, p *siptest.Phone, target string, offer []byte, opts ...siptest.DialOption) *siptest.Call {
	tb.Helper()
	c, err := p.Dial(ctxFor(tb), target, offer, opts...)
	if err != nil {
		tb.Fatalf("%s dials %s: %v", p.User(), target, err)
	}
	return c
}

// waitFinal waits for the final response to a call placed by a phone.
func waitFinal(tb testing.TB, c *siptest.Call) (int, []byte) {
	tb.Helper()
	code, body, err := c.WaitAnswer(ctxFor(tb))
	if err != nil {
		tb.Fatalf("no final response: %v", err)
	}
	return code, body
}

// incoming waits for phone p to receive an INVITE.
func incoming(tb testing.TB, p *siptest.Phone) *siptest.IncomingCall {
	tb.Helper()
	return p.WaitIncoming(tb, waitFor)
}

// noIncoming fails if phone p received an INVITE.
func noIncoming(tb testing.TB, p *siptest.Phone) {
	tb.Helper()
	select {
	case ic := <-p.Incoming():
		tb.Errorf("phone %s was rung: %s", p.User(), ic)
	default:
	}
}

// waitBye waits for the peer's BYE on d and returns it.
func waitBye(tb testing.TB, who string, d interface {
	WaitBye(context.Context) (*siptest.Message, error)
},
) *siptest.Message {
	tb.Helper()
	m, err := d.WaitBye(ctxFor(tb))
	if err != nil {
		tb.Fatalf("%s got no BYE: %v", who, err)
	}
	return m
}

// waitCancel waits for the CANCEL of an incoming call and returns it.
func waitCancel(tb testing.TB, ic *siptest.IncomingCall) *siptest.Message {
	tb.Helper()
	if err := ic.WaitCancel(ctxFor(tb)); err != nil {
		tb.Fatalf("%s: no CANCEL: %v", ic, err)
	}
	return ic.CancelRequest()
}

// ctxFor returns a context that ends after waitFor or with the test.
func ctxFor(tb testing.TB) context.Context {
	tb.Helper()
	return ctxWithin(tb, waitFor)
}

// ctxWithin returns a context that ends after d or with the test.
func ctxWithin(tb testing.TB, d time.Duration) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// ringdeskMedia parses an SDP body Ringdesk sent (an offer or an answer) and
// checks that it points at Ringdesk's media engine: 127.0.0.1 and an even
// port from the engine's range.
func ringdeskMedia(tb testing.TB, body []byte) sdp.Media {
	tb.Helper()
	a, err := sdp.ParseAnswer(body) // same syntax for offers; only Media is used
	if err != nil {
		tb.Fatalf("Ringdesk's SDP does not parse: %v\n%s", err, body)
	}
	m := a.Media()
	if m.Addr != netip.MustParseAddr("127.0.0.1") {
		tb.Errorf("Ringdesk's SDP has address %v, want the media engine's 127.0.0.1\n%s", m.Addr, body)
	}
	if m.Port < rtpPortMin || m.Port > rtpPortMax || m.Port%2 != 0 {
		tb.Errorf("Ringdesk's SDP has port %d, want an even port in %d-%d\n%s", m.Port, rtpPortMin, rtpPortMax, body)
	}
	if !bytes.Contains(body, []byte("o=ringdesk ")) {
		tb.Errorf("Ringdesk's SDP has no o=ringdesk origin:\n%s", body)
	}
	return m
}

// recorder is the test Observer: it keeps every event, lets tests wait for
// them, and checks the observer contract (CallStarted first, exactly one
// CallEnded per call, nothing after it).
type recorder struct {
	mu      sync.Mutex
	events  []calls.Event
	ended   map[calls.CallID]int
	started map[calls.CallID]bool
	bad     []string
	changed chan struct{}
	hook    atomic.Pointer[func(calls.Event)]
	after   atomic.Pointer[func(calls.Event)]
}

func newRecorder() *recorder {
	return &recorder{ended: make(map[calls.CallID]int), started: make(map[calls.CallID]bool), changed: make(chan struct{})}
}

// setHook runs f on the call's goroutine for every event, before it is
// recorded; f may block to hold the call's supervisor. nil removes it.
func (r *recorder) setHook(f func(calls.Event)) {
	if f == nil {
		r.hook.Store(nil)
		return
	}
	r.hook.Store(&f)
}

// setAfterHook runs f on the call's goroutine for every event, after it was
// recorded. nil removes it.
func (r *recorder) setAfterHook(f func(calls.Event)) {
	if f == nil {
		r.after.Store(nil)
		return
	}
	r.after.Store(&f)
}

// Observe implements calls.Observer.
func (r *recorder) Observe(e calls.Event) {
	if f := r.hook.Load(); f != nil {
		(*f)(e)
	}
	r.record(e)
	if f := r.after.Load(); f != nil {
		(*f)(e)
	}
}

func (r *recorder) record(e calls.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := e.Call()
	switch {
	case r.ended[id] > 0:
		r.bad = append(r.bad, fmt.Sprintf("%s after CallEnded of %s", eventName(e), id))
	case !r.started[id]:
		if _, ok := e.(calls.CallStarted); !ok {
			r.bad = append(r.bad, fmt.Sprintf("%s before CallStarted of %s", eventName(e), id))
		}
	}
	switch e.(type) {
	case calls.CallStarted:
		if r.started[id] {
			r.bad = append(r.bad, fmt.Sprintf("second CallStarted of %s", id))
		}
		r.started[id] = true
	case calls.CallEnded:
		r.ended[id]++
	}
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// check reports violations of the observer contract.
func (r *recorder) check(tb testing.TB) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bad {
		tb.Errorf("observer: %s", b)
	}
	for id := range r.started {
		if n := r.ended[id]; n != 1 {
			tb.Errorf("observer: call %s ended %d times, want exactly once; its events: %v", id, n, eventNames(r.forCallLocked(id)))
		}
	}
}

// all returns the events so far.
func (r *recorder) all() []calls.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]calls.Event(nil), r.events...)
}

// forCall returns the events of call id.
func (r *recorder) forCall(id calls.CallID) []calls.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forCallLocked(id)
}

func (r *recorder) forCallLocked(id calls.CallID) []calls.Event {
	var out []calls.Event
	for _, e := range r.events {
		if e.Call() == id {
			out = append(out, e)
		}
	}
	return out
}

// count returns how many events of type T were recorded.
func count[T calls.Event](r *recorder) int {
	n := 0
	for _, e := range r.all() {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

// waitEvent waits for the first event of type T that match accepts (nil:
// any) and returns it.
func waitEvent[T calls.Event](tb testing.TB, r *recorder, match func(T) bool) T {
	tb.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if v, ok := e.(T); ok && (match == nil || match(v)) {
				r.mu.Unlock()
				return v
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			var zero T
			tb.Fatalf("no %T within %s; events: %v", zero, waitFor, eventNames(r.all()))
			return zero
		}
	}
}

// waitNth waits until n events of type T were recorded and returns them.
func waitNth[T calls.Event](tb testing.TB, r *recorder, n int) []T {
	tb.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		r.mu.Lock()
		var out []T
		for _, e := range r.events {
			if v, ok := e.(T); ok {
				out = append(out, v)
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if len(out) >= n {
			return out
		}
		select {
		case <-ch:
		case <-timer.C:
			var zero T
			tb.Fatalf("%d %T within %s, want %d; events: %v", len(out), zero, waitFor, n, eventNames(r.all()))
			return nil
		}
	}
}

// ended waits for the (first) CallEnded and returns its record.
func (h *harness) ended(tb testing.TB) calls.CallRecord {
	tb.Helper()
	return waitEvent[calls.CallEnded](tb, h.Obs, nil).Record
}

func eventName(e calls.Event) string { return reflect.TypeOf(e).Name() }

func eventNames(evs []calls.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventName(e))
	}
	return out
}

// gate blocks the goroutines that call wait until open is called.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

func (g *gate) wait() { <-g.ch }

// newLogCapture keeps the harness's log: info and up, or every SIP message
// and sipgo's own debug lines with RINGDESK_CALLS_TRACE set.
func newLogCapture() *testkit.LogCapture {
	level := slog.LevelInfo
	if os.Getenv("RINGDESK_CALLS_TRACE") != "" {
		level = slog.LevelDebug - 4 // sipgo's debug lines, shifted down by package sip
	}
	return testkit.NewLogCapture(level)
}

// waitLog waits until a log line containing sub was written.
func (h *harness) waitLog(tb testing.TB, sub string) {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	for len(h.logs.Grep(sub)) == 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("no log line %q within %s", sub, waitFor)
		}
		<-time.After(2 * time.Millisecond) // bounded poll of the log
	}
}

// pair is an answered call from 1001 to 1002, each phone with its own RTP
// peer.
type pair struct {
	caller, callee         *siptest.Phone
	call                   *siptest.Call
	ic                     *siptest.IncomingCall
	callerRTP, calleeRTP   *rtpPeer
	callerSide, calleeSide sdp.Media // Ringdesk's media on each leg
	callerLeg, calleeLeg   calls.LegID
	id                     calls.CallID
}

// connect sets up an answered call from 1001 to 1002; callerSDP and
// calleeSDP are phoneSDP items (nil: PCMU and telephone-event).
func (h *harness) connect(tb testing.TB, callerSDP, calleeSDP []string) *pair {
	tb.Helper()
	p := &pair{callerRTP: newRTPPeer(tb, "caller"), calleeRTP: newRTPPeer(tb, "callee")}
	p.callee = h.register(tb, "1002", answer(siptest.Manual))
	p.caller = h.register(tb, "1001")
	p.call = dial(tb, p.caller, "1002", p.callerRTP.SDP(callerSDP...))
	p.ic = incoming(tb, p.callee)
	p.calleeSide = ringdeskMedia(tb, p.ic.SDP)
	h.ring(tb, p.ic)
	respond(tb, p.ic, 200, p.calleeRTP.SDP(calleeSDP...))
	code, body := waitFinal(tb, p.call)
	if code != 200 {
		tb.Fatalf("caller got %d, want 200", code)
	}
	p.callerSide = ringdeskMedia(tb, body)
	if err := p.ic.WaitAck(ctxFor(tb)); err != nil {
		tb.Fatalf("callee got no ACK: %v", err)
	}
	ans := waitEvent[calls.CallAnswered](tb, h.Obs, func(e calls.CallAnswered) bool { return e.Leg.SIPCallID == p.ic.CallID() })
	st := waitEvent(tb, h.Obs, func(e calls.CallStarted) bool { return e.Leg.SIPCallID == p.call.CallID() })
	p.callerLeg, p.calleeLeg, p.id = st.Leg.ID, ans.Leg.ID, ans.Call()
	return p
}

// hangup ends the call with a BYE from the caller.
func (p *pair) hangup(tb testing.TB) {
	tb.Helper()
	if code, err := p.call.Bye(ctxFor(tb)); err != nil || code != 200 {
		tb.Fatalf("caller BYE: %d %v", code, err)
	}
	waitBye(tb, "callee", p.ic)
}

// up is a stream from the caller's peer to Ringdesk; down one from the
// callee's.
func (p *pair) up(pt uint8) *stream {
	return p.callerRTP.newStream(p.callerSide.RemoteAddr(), pt, 0xA1A1)
}

func (p *pair) down(pt uint8) *stream {
	return p.calleeRTP.newStream(p.calleeSide.RemoteAddr(), pt, 0xB2B2)
}
