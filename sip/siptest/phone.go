package siptest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DefaultIP is the address phones bind when Options.IP is empty.
const DefaultIP = "127.0.0.1"

// incomingBuffer is how many unread incoming calls a phone queues.
const incomingBuffer = 64

// ErrClosed is returned by operations on a phone that has been closed.
var ErrClosed = errors.New("siptest: phone closed")

// Options configure a Phone.
type Options struct {
	// User is the SIP user name (the extension); Password its digest password.
	User, Password string
	// Server is the ip:port of the server under test; every request the
	// phone sends goes there (it is the phone's outbound proxy).
	Server string
	// Transport is "udp" (default) or "tcp". A TCP phone has no listener: it
	// opens one connection to Server and can only be reached through it.
	Transport string
	// IP is the local address to bind, default 127.0.0.1; Port the UDP
	// port, default any free one.
	IP   string
	Port int
	// DisplayName goes into From.
	DisplayName string
	// UserAgent is the User-Agent header, default "siptest".
	UserAgent string
	// Answer decides how incoming INVITEs are answered; nil means
	// AnswerWith(SDP(IP, 4000, "PCMU")): 180 then 200 with a PCMU answer.
	Answer AnswerFunc
	// DigestAlgorithms are the digest algorithms the phone implements; it
	// answers the first challenge (in the server's order) that uses one of
	// them. Default: SHA-256 and MD5.
	DigestAlgorithms []string
	// Logger receives sipgo's logs; nil discards them.
	Logger *slog.Logger
}

// Phone is a SIP softphone bound to loopback. Build it with NewPhone.
type Phone struct {
	t         testing.TB
	opts      Options
	transport string // "UDP" or "TCP"
	server    netip.AddrPort

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	pc  net.PacketConn // UDP only

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // goroutines the phone started
	handlers  sync.WaitGroup // sipgo request handlers in progress
	closeOnce sync.Once

	mu        sync.Mutex
	closed    bool
	local     netip.AddrPort
	contact   string // our Contact URI
	dialogs   map[string]*Dialog
	regCallID string
	regCSeq   uint32
	incoming  chan *IncomingCall
	stray     []*Response
	lastChal  string // last challenge answered, for Preauth
	lastNC    int
}

// NewPhone starts a phone and registers its Close with t.Cleanup. It fails
// the test if the options are unusable or the socket cannot be bound.
func NewPhone(t testing.TB, o Options) *Phone {
	t.Helper()
	p, err := newPhone(t, o)
	if err != nil {
		t.Fatalf("siptest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func newPhone(t testing.TB, o Options) (*Phone, error) {
	t.Helper()
	if o.Transport == "" {
		o.Transport = "udp"
	}
	o.Transport = strings.ToLower(o.Transport)
	if o.Transport != "udp" && o.Transport != "tcp" {
		return nil, fmt.Errorf("transport %q: want udp or tcp", o.Transport)
	}
	if o.IP == "" {
		o.IP = DefaultIP
	}
	if o.UserAgent == "" {
		o.UserAgent = "siptest"
	}
	if len(o.DigestAlgorithms) == 0 {
		o.DigestAlgorithms = []string{"SHA-256", "MD5"}
	}
	if o.Answer == nil {
		o.Answer = AnswerWith(SDP(o.IP, 4000, "PCMU"))
	}
	server, err := netip.ParseAddrPort(o.Server)
	if err != nil {
		return nil, fmt.Errorf("server address %q: %w", o.Server, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Phone{
		t:         t,
		opts:      o,
		transport: strings.ToUpper(o.Transport),
		server:    server,
		dialogs:   make(map[string]*Dialog),
		incoming:  make(chan *IncomingCall, incomingBuffer),
		regCallID: newID(),
		regCSeq:   1,
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())

	p.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(o.UserAgent),
		sipgo.WithUserAgentHostname(o.IP),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(log),
			sip.WithTransactionLayerUnhandledResponseHandler(p.handleStrayResponse),
		),
	)
	if err != nil {
		return nil, err
	}
	p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(log))
	if err != nil {
		return nil, err
	}
	clientOpts := []sipgo.ClientOption{sipgo.WithClientLogger(log), sipgo.WithClientHostname(o.IP)}
	if p.transport == "UDP" {
		pc, lerr := net.ListenPacket("udp4", net.JoinHostPort(o.IP, strconv.Itoa(o.Port)))
		if lerr != nil {
			_ = p.ua.Close()
			return nil, lerr
		}
		p.pc = pc
		p.local = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		p.contact = fmt.Sprintf("sip:%s@%s", o.User, p.local)
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(p.local.String()), sipgo.WithClientPort(int(p.local.Port())))
	} else {
		// Like a phone behind NAT: the Contact is not reachable, only the
		// connection the phone opens is (RFC 5626 spirit).
		p.contact = fmt.Sprintf("sip:%s@%s.invalid;transport=tcp", o.User, newTag())
	}
	p.cli, err = sipgo.NewClient(p.ua, clientOpts...)
	if err != nil {
		_ = p.ua.Close()
		return nil, err
	}

	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnCancel(p.onStrayCancel)
	p.srv.OnInfo(p.onInDialog)
	p.srv.OnUpdate(p.onInDialog)
	p.srv.OnNotify(p.onInDialog)
	p.srv.OnRefer(p.onInDialog)
	p.srv.OnOptions(p.onOptions)
	p.srv.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) {
		p.respond(req, tx, 405, sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"))
	})

	if p.pc != nil {
		// Put the listening socket into the UDP pool before serving, so the
		// first request already leaves from it (sipgo adds it when ServeUDP
		// starts, which would race with a request sent right away).
		p.ua.TransportLayer().Pool("udp").Add(p.local.String(), &sip.UDPConnection{
			PacketConn: p.pc, PacketAddr: p.local.String(), Listener: true,
		})
		p.wg.Go(func() { _ = p.srv.ServeUDP(p.pc) })
	}
	return p, nil
}

// Close hangs nothing up: it stops the phone's transactions, closes its
// socket or connection, and waits for every goroutine it started. Idempotent.
func (p *Phone) Close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.cancel()
		p.handlers.Wait()
		_ = p.ua.Close()
		if p.pc != nil {
			_ = p.pc.Close()
		}
		p.wg.Wait()
	})
}

// enter marks a sipgo handler call in progress; false once the phone closed.
func (p *Phone) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.handlers.Add(1)
	return true
}

// goOwned runs f on a goroutine Close waits for.
func (p *Phone) goOwned(f func()) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.wg.Go(f)
	return nil
}

// Addr is the phone's address: the bound UDP socket, or for TCP the local
// end of its connection to the server (invalid before the first request).
func (p *Phone) Addr() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.local
}

// User is the phone's user name.
func (p *Phone) User() string { return p.opts.User }

// Transport is "UDP" or "TCP".
func (p *Phone) Transport() string { return p.transport }

// ContactURI is the URI the phone puts in Contact.
func (p *Phone) ContactURI() string { return p.contact }

// Incoming delivers the INVITEs the phone receives (re-INVITEs excluded),
// after the Answer policy has been consulted and before it acts.
func (p *Phone) Incoming() <-chan *IncomingCall { return p.incoming }

// WaitIncoming returns the next INVITE the phone receives, or fails the test
// when none comes within d.
func (p *Phone) WaitIncoming(tb testing.TB, d time.Duration) *IncomingCall {
	tb.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ic := <-p.incoming:
		return ic
	case <-timer.C:
		tb.Fatalf("phone %s (%s) received no INVITE within %s", p.User(), p.ContactURI(), d)
		return nil
	}
}

// StrayResponses returns responses that matched no transaction of the phone.
func (p *Phone) StrayResponses() []*Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Response(nil), p.stray...)
}

// serverHost is the server's host:port for URIs.
func (p *Phone) serverHost() (string, int) {
	return p.server.Addr().String(), int(p.server.Port())
}

// uri builds sip:user@server (with ;transport=tcp over TCP).
func (p *Phone) uri(user string) sip.Uri {
	host, port := p.serverHost()
	u := sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}
	if p.transport == "TCP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return u
}

// aorURI is sip:user@serverhost, for From and To.
func (p *Phone) aorURI(user string) sip.Uri {
	host, _ := p.serverHost()
	return sip.Uri{Scheme: "sip", User: user, Host: host}
}

func (p *Phone) contactHeader() sip.Header {
	return sip.NewHeader("Contact", "<"+p.contact+">")
}

// route sends req to the server over the phone's transport.
func (p *Phone) route(req *sip.Request) {
	req.SetTransport(p.transport)
	req.SetDestination(p.server.String())
}

// learnLocal records the local end of the TCP connection once it exists.
func (p *Phone) learnLocal() {
	if p.transport != "TCP" {
		return
	}
	c, err := p.ua.TransportLayer().GetConnection("tcp", p.server.String())
	if err != nil || c == nil {
		return
	}
	defer func() { _, _ = c.TryClose() }()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return
	}
	p.mu.Lock()
	p.local = ap
	p.mu.Unlock()
}

// respond answers req statelessly within its transaction.
func (p *Phone) respond(req *sip.Request, tx sip.ServerTransaction, code int, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reasonPhrase(code), nil)
	res.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (p *Phone) addDialog(d *Dialog) {
	p.mu.Lock()
	p.dialogs[d.key()] = d
	p.mu.Unlock()
}

func (p *Phone) removeDialog(d *Dialog) {
	p.mu.Lock()
	if p.dialogs[d.key()] == d {
		delete(p.dialogs, d.key())
	}
	p.mu.Unlock()
}

// dialogFor finds the dialog of an incoming request: Call-ID and our tag,
// which is the To tag of requests the peer sends.
func (p *Phone) dialogFor(req *sip.Request) *Dialog {
	if req.CallID() == nil || req.To() == nil {
		return nil
	}
	tag, _ := req.To().Params.Get("tag")
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dialogs[req.CallID().Value()+"\x00"+tag]
}

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if !p.enter() {
		p.respond(req, tx, 503)
		return
	}
	defer p.handlers.Done()
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		p.onReInvite(req, tx)
		return
	}
	p.answerInvite(req, tx)
}

// onReInvite answers a re-INVITE with the SDP the phone last sent.
func (p *Phone) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	d := p.dialogFor(req)
	if d == nil || d.Ended() {
		p.respond(req, tx, 481)
		return
	}
	d.record(req)
	d.mu.Lock()
	body := d.localSDP
	d.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	res.AppendHeader(p.contactHeader())
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	_ = tx.Respond(res)
}

func (p *Phone) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if d := p.dialogFor(req); d != nil {
		d.record(req)
		d.ackOnce.Do(func() { close(d.acked) })
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	d := p.dialogFor(req)
	if d == nil || d.Ended() {
		p.respond(req, tx, 481)
		return
	}
	d.record(req)
	p.respond(req, tx, 200)
	d.end(messageOfRequest(req))
}

func (p *Phone) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	d := p.dialogFor(req)
	if d == nil || d.Ended() {
		p.respond(req, tx, 481)
		return
	}
	d.record(req)
	p.respond(req, tx, 200)
}

func (p *Phone) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		p.onInDialog(req, tx)
		return
	}
	p.respond(req, tx, 200, sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"))
}

func (p *Phone) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	p.respond(req, tx, 481)
}

// handleStrayResponse acknowledges 2xx retransmissions of INVITEs whose
// transaction is gone and keeps every stray response for inspection.
func (p *Phone) handleStrayResponse(res *sip.Response) {
	r := responseOf(res)
	p.mu.Lock()
	p.stray = append(p.stray, r)
	p.mu.Unlock()
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE || res.From() == nil || res.CallID() == nil {
		return
	}
	tag, _ := res.From().Params.Get("tag")
	p.mu.Lock()
	d := p.dialogs[res.CallID().Value()+"\x00"+tag]
	p.mu.Unlock()
	if d != nil {
		d.countRetransmission()
		if !d.manualAck {
			_ = d.sendAck(res.CSeq().SeqNo)
		}
	}
}
