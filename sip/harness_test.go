package sip_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// Waits in these tests are bounded by this; nothing here should take long.
const waitFor = 5 * time.Second

const testRealm = "ringdesk.test"

// password returns the test password of extension user.
func password(user string) string { return "pw-" + user }

// testUsers are the accounts every test server knows.
func testUsers() []sip.User {
	var us []sip.User
	for i := 1001; i <= 1009; i++ {
		name := fmt.Sprint(i)
		us = append(us, sip.User{Name: name, Password: password(name)})
	}
	return us
}

// fakeClock is an injectable clock (sip.WithClock) that tests advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// events records what a dialog reports, for tests to wait on.
type events struct {
	mu      sync.Mutex
	list    []sip.Event
	changed chan struct{}
}

func newEvents() *events { return &events{changed: make(chan struct{})} }

func (e *events) add(ev sip.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

func (e *events) all() []sip.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sip.Event(nil), e.list...)
}

// names lists the event types received, for failure messages.
func (e *events) names() []string {
	var out []string
	for _, ev := range e.all() {
		out = append(out, reflect.TypeOf(ev).Name())
	}
	return out
}

// waitEvent waits (up to waitFor) for the first event of type T.
func waitEvent[T sip.Event](t testing.TB, e *events) T {
	t.Helper()
	ev, ok := waitEventFor[T](e, waitFor)
	if !ok {
		var zero T
		t.Fatalf("no %T within %s; events: %v", zero, waitFor, e.names())
	}
	return ev
}

func waitEventFor[T sip.Event](e *events, d time.Duration) (T, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		e.mu.Lock()
		for _, ev := range e.list {
			if v, ok := ev.(T); ok {
				e.mu.Unlock()
				return v, true
			}
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			var zero T
			return zero, false
		}
	}
}

// has reports whether an event of type T arrived.
func has[T sip.Event](e *events) bool {
	for _, ev := range e.all() {
		if _, ok := ev.(T); ok {
			return true
		}
	}
	return false
}

// inbound is an InboundCall with its events.
type inbound struct {
	*sip.InboundCall
	ev *events
}

// testServer is a sip.Server serving on loopback port 0.
type testServer struct {
	*sip.Server
	UDP, TCP netip.AddrPort
	calls    chan *inbound
	clock    *fakeClock
	logs     *testkit.LogCapture
	stopOnce sync.Once
	stopFn   func()
}

// serverOptions configure startServer.
type serverOptions struct {
	cfg   sip.Config
	store sip.BindingStore
	clock *fakeClock
	tcp   bool
}

type serverOption func(*serverOptions)

func withConfig(f func(*sip.Config)) serverOption {
	return func(o *serverOptions) { f(&o.cfg) }
}
func withStore(s sip.BindingStore) serverOption { return func(o *serverOptions) { o.store = s } }
func withFakeClock(c *fakeClock) serverOption   { return func(o *serverOptions) { o.clock = c } }
func withTCP() serverOption                     { return func(o *serverOptions) { o.tcp = true } }

// startServer runs a server until the test ends. Its handler queues every
// new call on ts.calls with an event recorder attached.
func startServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	o := serverOptions{cfg: sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Realm:  testRealm,
		Users:  testUsers(),
	}}
	for _, f := range opts {
		f(&o)
	}
	if o.tcp {
		o.cfg.Listen = append(o.cfg.Listen, sip.Listen{Network: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:0")})
	}
	level := slog.LevelInfo
	if os.Getenv("RINGDESK_SIP_TRACE") != "" {
		level = slog.LevelDebug
		o.cfg.Trace = true
	}
	ts := &testServer{calls: make(chan *inbound, 64), clock: o.clock, logs: testkit.NewLogCapture(level)}
	var sopts []sip.Option
	if o.clock != nil {
		sopts = append(sopts, sip.WithClock(o.clock.Now))
	}
	srv, err := sip.NewServer(o.cfg, o.store, slog.New(ts.logs), sopts...)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ts.Server = srv
	for _, l := range srv.Addrs() {
		switch l.Network {
		case "udp":
			ts.UDP = l.Addr
		case "tcp":
			ts.TCP = l.Addr
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	handler := sip.HandlerFunc(func(c *sip.InboundCall) {
		in := &inbound{InboundCall: c, ev: newEvents()}
		c.SetEventHandler(in.ev.add)
		select {
		case ts.calls <- in:
		default:
			_ = c.Reject(503, "")
		}
	})
	go func() { done <- srv.Serve(ctx, handler) }()
	ts.stopFn = func() {
		cancel()
		timer := time.NewTimer(15 * time.Second)
		defer timer.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-timer.C:
			t.Errorf("Serve did not return 15 s after its context ended; goroutines:\n%s", testkit.Goroutines())
		}
		if p := ts.logs.Grep("panicked"); len(p) > 0 {
			t.Errorf("the server recovered from panics:\n%s", strings.Join(p, "\n"))
		}
		if t.Failed() {
			lines := ts.logs.Lines()
			if len(lines) > 200 {
				lines = lines[len(lines)-200:]
			}
			t.Logf("server log:\n%s", strings.Join(lines, "\n"))
		}
	}
	t.Cleanup(ts.stop)
	ts.waitReady(t)
	return ts
}

// stop ends Serve and waits for it. Idempotent.
func (ts *testServer) stop() { ts.stopOnce.Do(ts.stopFn) }

// waitReady pings the UDP listener with OPTIONS until it answers: Serve has
// then loaded the stored bindings and installed the handler.
func (ts *testServer) waitReady(t testing.TB) {
	t.Helper()
	siptest.WaitReady(t, ts.UDP, waitFor)
}

// phone starts a softphone for extension user (UDP unless o says otherwise).
func (ts *testServer) phone(t testing.TB, user string, mod ...func(*siptest.Options)) *siptest.Phone {
	t.Helper()
	o := siptest.Options{User: user, Password: password(user), Server: ts.UDP.String()}
	for _, f := range mod {
		f(&o)
	}
	if strings.EqualFold(o.Transport, "tcp") {
		o.Server = ts.TCP.String()
	}
	return siptest.NewPhone(t, o)
}

// registered starts a phone for user and registers it for an hour.
func (ts *testServer) registered(t testing.TB, user string, mod ...func(*siptest.Options)) *siptest.Phone {
	t.Helper()
	p := ts.phone(t, user, mod...)
	res, err := p.Register(ctxFor(t), 3600)
	if err != nil || res.Code != 200 {
		t.Fatalf("register %s: %v %v", user, res, err)
	}
	return p
}

// nextCall waits for the handler to receive a call.
func (ts *testServer) nextCall(t testing.TB) *inbound {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	select {
	case c := <-ts.calls:
		return c
	case <-timer.C:
		t.Fatal("the handler received no call")
		return nil
	}
}

// invite rings the newest binding of user from Ringdesk and records events.
func (ts *testServer) invite(t testing.TB, user string, sdp []byte, hdrs map[string]string) (*sip.OutboundCall, *events) {
	t.Helper()
	bs := ts.Bindings(user)
	if len(bs) == 0 {
		t.Fatalf("%s is not registered", user)
	}
	ev := newEvents()
	out, err := ts.Invite(ctxFor(t), sip.InviteRequest{
		Target:  bs[0],
		From:    sip.Party{User: "1001", DisplayName: "Reception"},
		To:      user,
		SDP:     sdp,
		Headers: hdrs,
	}, ev.add)
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	return out, ev
}

// incoming waits for phone p to receive an INVITE.
func incoming(t testing.TB, p *siptest.Phone) *siptest.IncomingCall {
	t.Helper()
	return p.WaitIncoming(t, waitFor)
}

// ctxFor returns a context that ends after waitFor or with the test.
func ctxFor(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

func sdpOf(port int, extra ...string) []byte {
	return siptest.SDP("127.0.0.1", port, append([]string{"PCMU", "telephone-event"}, extra...)...)
}
