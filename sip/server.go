package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// allowMethods is what Ringdesk answers, for Allow headers (RFC 3261 §20.5).
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, REGISTER"

// udpReadBuffer is the receive buffer asked for on SIP UDP sockets: about a
// second of requests at a few thousand calls per second.
const udpReadBuffer = 4 << 20

// sweepInterval is how often expired registrations and nonce counts are dropped.
const sweepInterval = 15 * time.Second

// Handler receives new calls from the server.
type Handler interface {
	// HandleInvite is called for every new authenticated INVITE. It must
	// return promptly; the handler takes ownership of call and must answer
	// or reject it.
	HandleInvite(call *InboundCall)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(call *InboundCall)

// HandleInvite implements Handler.
func (f HandlerFunc) HandleInvite(call *InboundCall) { f(call) }

// Option configures a Server.
type Option func(*Server) error

// WithClock replaces time.Now, for tests of expiry.
func WithClock(now func() time.Time) Option {
	return func(s *Server) error {
		s.now = now
		return nil
	}
}

// Server is Ringdesk's SIP endpoint: listeners, registrar, and the table of
// dialogs that routes in-dialog requests. It carries SDP as opaque bytes.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	auth    *authenticator
	reg     *registrar
	dialogs dialogTable
	badLog  rateLimiter
	bad400  rateLimiter
	// trunks tells which provider an INVITE comes from; forbidden limits
	// the 403s to INVITEs from anywhere else (per source address).
	trunks    *trunkSet
	forbidden *sourceLimiter

	handler Handler
	tlsConf *tls.Config // server certificate for tls listeners

	mu        sync.Mutex
	listeners []*listener
	serving   bool
	closed    bool
	done      chan struct{}
	wg        sync.WaitGroup // dialog and transaction goroutines: see goBackground

	trunkRegs trunkRegs // outbound registrations and keepalives: registration.go
}

// listener is one bound socket and what Ringdesk advertises for it.
type listener struct {
	cfg       Listen
	network   string // sipgo transport name: "UDP", "TCP", "TLS"
	packet    net.PacketConn
	stream    net.Listener
	bound     netip.AddrPort
	advHost   string
	advPort   int
	laddrUDP  sip.Addr
	closeOnce sync.Once
}

func (l *listener) close() {
	l.closeOnce.Do(func() {
		if l.packet != nil {
			_ = l.packet.Close()
		}
		if l.stream != nil {
			_ = l.stream.Close()
		}
	})
}

// NewServer builds a server; Listen binds its sockets and Serve runs it.
func NewServer(cfg Config, store BindingStore, log *slog.Logger, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if store == nil {
		store = &MemoryBindings{}
	}
	s := &Server{
		cfg:    cfg,
		log:    log,
		now:    time.Now,
		done:   make(chan struct{}),
		badLog: newRateLimiter(5, time.Second),
		bad400: newRateLimiter(200, time.Second),

		trunks:    newTrunkSet(cfg.Trunks),
		forbidden: newSourceLimiter(forbiddenBurst, forbiddenPer),
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	s.dialogs.m = make(map[dialogID]*dialog)
	var err error
	s.auth, err = newAuthenticator(cfg.Realm, cfg.DigestAlgorithms, cfg.NonceTTL, cfg.Users, s.now)
	if err != nil {
		return nil, err
	}
	s.reg = newRegistrar(s, store)

	if cfg.TLSCertFile != "" {
		cert, cerr := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if cerr != nil {
			return nil, fmt.Errorf("sip tls: %w", cerr)
		}
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	libLog := slog.New(levelShift{log.With("component", "sipgo").Handler()})
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(libLog),
			sip.WithTransportLayerReadFilter(s.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(libLog),
			sip.WithTransactionLayerUnhandledResponseHandler(s.handleStrayResponse),
		),
	}
	clientTLS, err := clientTLSConfig(cfg.Trunks, s.tlsConf)
	if err != nil {
		return nil, err
	}
	uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(clientTLS))
	s.ua, err = sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(libLog))
	if err != nil {
		return nil, fmt.Errorf("sip server: %w", err)
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientLogger(libLog))
	if err != nil {
		return nil, fmt.Errorf("sip client: %w", err)
	}
	s.srv.OnRegister(s.guard(s.reg.handle))
	s.srv.OnInvite(s.guard(s.handleInvite))
	s.srv.OnAck(s.guard(s.handleAck))
	s.srv.OnBye(s.guard(s.handleInDialog))
	s.srv.OnInfo(s.guard(s.handleInDialog))
	s.srv.OnUpdate(s.guard(s.handleInDialog))
	s.srv.OnPrack(s.guard(s.handleInDialog))
	s.srv.OnRefer(s.guard(s.handleInDialog))
	s.srv.OnNotify(s.guard(s.handleInDialog))
	s.srv.OnOptions(s.guard(s.handleOptions))
	s.srv.OnCancel(s.guard(s.handleStrayCancel))
	s.srv.OnSubscribe(s.guard(s.handleSubscribe))
	s.srv.OnNoRoute(s.guard(s.handleNoRoute))
	return s, nil
}

// Listen binds every configured socket. Addresses with port 0 get a free port;
// Addrs reports what was bound.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) > 0 {
		return nil
	}
	for _, lc := range s.cfg.Listen {
		l := &listener{cfg: lc, network: strings.ToUpper(lc.Network)}
		var err error
		switch lc.Network {
		case "udp":
			var pc *net.UDPConn
			pc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(lc.Addr))
			if err == nil {
				growReadBuffer(pc, udpReadBuffer)
				l.packet = pc
				l.bound = pc.LocalAddr().(*net.UDPAddr).AddrPort()
			}
		case "tcp", "tls":
			var tl *net.TCPListener
			tl, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(lc.Addr))
			if err == nil {
				l.bound = tl.Addr().(*net.TCPAddr).AddrPort()
				l.stream = tl
				if lc.Network == "tls" {
					l.stream = tls.NewListener(tl, s.tlsConf)
				}
			}
		}
		if err != nil {
			for _, prev := range s.listeners {
				prev.close()
			}
			s.listeners = nil
			return fmt.Errorf("sip listen %s: %w", lc, err)
		}
		if s.cfg.Trace {
			if l.packet != nil {
				l.packet = &tracedPacketConn{PacketConn: l.packet, log: s.log, network: l.network}
			} else {
				l.stream = &tracedListener{Listener: l.stream, log: s.log, network: l.network}
			}
		}
		l.advHost, l.advPort = s.advertised(l.bound)
		ip := l.bound.Addr().AsSlice()
		l.laddrUDP = sip.Addr{IP: ip, Port: int(l.bound.Port()), Hostname: l.bound.Addr().String()}
		s.listeners = append(s.listeners, l)
	}
	return nil
}

// advertised returns the host and port to put in Via and Contact for a socket
// bound at b: the public address when configured, else the bound one.
func (s *Server) advertised(b netip.AddrPort) (string, int) {
	host, port := b.Addr().Unmap().String(), int(b.Port())
	if b.Addr().IsUnspecified() {
		if ip, ok := outboundIP(); ok {
			host = ip.String()
		}
	}
	if pa := s.cfg.PublicAddress; pa != "" {
		if h, p, err := net.SplitHostPort(pa); err == nil {
			host = h
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		} else {
			host = pa
		}
	}
	return host, port
}

// outboundIP guesses the address of the interface that routes to the internet,
// for listeners bound to the unspecified address without a public address.
func outboundIP() (netip.Addr, bool) {
	// TEST-NET-1 (RFC 5737): connecting a UDP socket sends nothing.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.1:9")))
	if err != nil {
		return netip.Addr{}, false
	}
	defer c.Close()
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return ap.Addr().Unmap(), true
}

// Addrs returns the bound listeners, e.g. for tests that listen on port 0.
func (s *Server) Addrs() []Listen {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Listen, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, Listen{Network: l.cfg.Network, Addr: l.bound})
	}
	return out
}

// Serve loads the stored registrations and serves requests until ctx ends,
// passing new calls to h. It closes the sockets and waits for its goroutines
// before returning.
func (s *Server) Serve(ctx context.Context, h Handler) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.serving || s.closed {
		s.mu.Unlock()
		return errors.New("sip: Serve called twice")
	}
	s.serving = true
	s.handler = h
	listeners := append([]*listener(nil), s.listeners...)
	s.mu.Unlock()

	if err := s.reg.load(ctx); err != nil {
		s.close()
		return err
	}
	errc := make(chan error, len(listeners))
	var lwg sync.WaitGroup
	for _, l := range listeners {
		lwg.Go(func() {
			var err error
			switch {
			case l.packet != nil:
				err = s.srv.ServeUDP(l.packet)
			case l.network == "TLS":
				err = s.srv.ServeTLS(l.stream)
			default:
				err = s.srv.ServeTCP(l.stream)
			}
			if err != nil && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				errc <- fmt.Errorf("sip serve %s: %w", l.cfg, err)
			}
		})
		s.log.Info("sip listening", "listen", l.cfg.Network+"://"+l.bound.String(),
			"advertised", net.JoinHostPort(l.advHost, strconv.Itoa(l.advPort)))
	}
	lwg.Go(func() { s.sweepLoop(ctx) })
	s.startTrunkRegs(ctx)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.close()
	lwg.Wait()
	return err
}

// Close releases a server that will not (or no longer) Serve: its sockets
// and transport layer. Serve closes them itself when its context ends.
// Idempotent.
func (s *Server) Close() { s.close() }

// close stops accepting, ends every dialog's background work and closes the
// transport layer. Idempotent.
func (s *Server) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	listeners := s.listeners
	s.mu.Unlock()
	s.stopTrunkRegs() // unregisters through the listeners: before closing them
	for _, l := range listeners {
		l.close()
	}
	s.wg.Wait()
	_ = s.ua.Close()
}

// goBackground runs f on a goroutine that close waits for. Once the server
// is closed it runs nothing: close may already be waiting.
func (s *Server) goBackground(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Server) sweepLoop(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("sip sweep panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	s.trunks.refresh(ctx)
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.reg.sweep(ctx)
			s.auth.prune()
			if n%trunkResolveEvery == 0 {
				s.trunks.refresh(ctx)
			}
		}
	}
}

// Bindings returns the current, unexpired registrations of aor, newest first.
func (s *Server) Bindings(aor string) []Binding { return s.reg.lookup(aor) }

// guard wraps a request handler: a request that reached a handler despite
// missing the headers every handler relies on gets 400, and a bug triggered
// by one request is logged and answered 500 instead of ending the process.
// sipgo runs each request on its own goroutine, so this is the request
// boundary in the sense of STYLE §4.
func (s *Server) guard(h func(*sip.Request, sip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("sip handler panicked", "method", req.Method, "panic", r, "stack", string(debug.Stack()))
				s.respond(tx, req, 500, "Server Internal Error")
			}
		}()
		if code, msg := checkRequest(req); code != 0 {
			if s.badLog.allow() {
				s.log.Warn("sip request rejected", "method", req.Method, "source", req.Source(), "code", code, "reason", msg)
			}
			if !req.IsAck() {
				res := sip.NewResponseFromRequest(req, code, reasonPhrase(code), nil)
				res.SipVersion = "SIP/2.0"
				s.decorate(res, sip.NewHeader("Warning", warning(s.cfg.UserAgent, msg)))
				if err := tx.Respond(res); err != nil {
					s.log.Debug("sip respond failed", "code", code, "error", err)
				}
			}
			return
		}
		h(req, tx)
	}
}

// checkRequest checks what every handler relies on: the SIP version (505),
// the headers RFC 3261 §8.1.1 requires (400), no control characters in them
// (400), and Max-Forwards (483, §16.3). It returns 0 when all is well.
func checkRequest(req *sip.Request) (int, string) {
	if req.SipVersion != "SIP/2.0" {
		return 505, "only SIP/2.0 is supported"
	}
	switch {
	case req.CallID() == nil || req.CallID().Value() == "":
		return 400, "missing Call-ID"
	case req.From() == nil:
		return 400, "missing From"
	case req.To() == nil:
		return 400, "missing To"
	case req.CSeq() == nil:
		return 400, "missing CSeq"
	case req.Via() == nil:
		return 400, "missing Via"
	case req.CSeq().MethodName != req.Method && (!req.IsAck() || req.CSeq().MethodName != sip.INVITE):
		return 400, "CSeq method does not match the request method"
	}
	for _, v := range []string{req.CallID().Value(), req.From().Value(), req.To().Value(), req.Recipient.String()} {
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return 400, "control character in a header"
		}
	}
	if _, ok := req.From().Params.Get("tag"); !ok && !req.IsAck() {
		return 400, "From has no tag"
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 && req.Method != sip.OPTIONS {
		return 483, "Max-Forwards is zero"
	}
	return 0, ""
}

func warning(agent, text string) string {
	text = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return ' '
		}
		return r
	}, text)
	if len(text) > 200 {
		text = text[:200]
	}
	return `399 ` + strings.ReplaceAll(agent, " ", "-") + ` "` + text + `"`
}

// respond sends a response built from req, with our Server header.
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	s.decorate(res, hdrs...)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "code", code, "method", req.Method, "error", err)
	}
}

func (s *Server) decorate(res *sip.Response, hdrs ...sip.Header) {
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if res.StatusCode == 405 || res.StatusCode == 200 && res.CSeq() != nil && res.CSeq().MethodName == sip.OPTIONS {
		res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	}
}

func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if _, inDialog := req.To().Params.Get("tag"); inDialog {
		s.handleInDialog(req, tx)
		return
	}
	s.respond(tx, req, 200, "OK",
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Supported", ""))
}

func (s *Server) handleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	// No event packages are implemented yet (message-summary, presence).
	s.respond(tx, req, 489, "Bad Event")
}

func (s *Server) handleNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, 405, "Method Not Allowed")
}

// handleStrayCancel answers a CANCEL that matched no INVITE transaction
// (matched ones are answered by the transaction layer): RFC 3261 §9.2.
func (s *Server) handleStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// handleStrayResponse deals with responses that match no client transaction,
// typically 2xx retransmissions after an INVITE transaction ended: a 2xx to an
// INVITE we no longer want is acknowledged and hung up (RFC 3261 §13.2.2.4).
func (s *Server) handleStrayResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
		return
	}
	id, err := dialogIDFromResponse(res)
	if err != nil {
		return
	}
	if d := s.dialogs.get(id); d != nil {
		d.retransmitAck(res)
		return
	}
	s.goBackground(func() { s.ackAndBye(res) })
}

// readFilter sees every UDP datagram and TCP read before sipgo parses it. For
// UDP it parses the datagram: one that does not parse is answered 400 when it
// looks like a request and dropped either way, because sipgo would only log it
// and the sender would retransmit for 32 s (RFC 3261 §21.4.1).
func (s *Server) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	if props.Transport != "UDP" {
		return data, nil
	}
	if len(data) <= 4 {
		return data, nil // keep-alive CRLFs
	}
	if _, err := sip.ParseMessage(data); err != nil {
		if s.badLog.allow() {
			s.log.Warn("malformed sip datagram dropped", "source", props.RemoteAddr.String(), "error", err.Error(), "bytes", len(data))
		}
		if s.bad400.allow() {
			s.reject400(props, data, err)
		}
		return nil, nil
	}
	return data, nil
}

// reject400 answers an unparseable request statelessly, copying the headers a
// client needs to match the response from the raw text.
func (s *Server) reject400(props sip.TransportReadProps, data []byte, perr error) {
	if strings.HasPrefix(string(data[:min(len(data), 8)]), "SIP/") {
		return // a response: never answer a response
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], "SIP/2.0") {
		return
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	want := map[string]string{
		"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
		"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq",
	}
	found := 0
	for _, ln := range lines[1:] {
		ln = strings.TrimRight(ln, "\r")
		if ln == "" {
			break
		}
		name, value, ok := strings.Cut(ln, ":")
		if !ok {
			continue
		}
		canon, ok := want[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			continue
		}
		b.WriteString(canon + ": " + strings.TrimSpace(value) + "\r\n")
		found++
	}
	if found < 5 {
		return // not enough to let the client match a response
	}
	b.WriteString("Server: " + s.cfg.UserAgent + "\r\n")
	b.WriteString("Warning: " + warning(s.cfg.UserAgent, perr.Error()) + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	s.mu.Lock()
	listeners := s.listeners
	s.mu.Unlock()
	for _, l := range listeners {
		if l.packet != nil && l.packet.LocalAddr().String() == props.LocalAddr.String() {
			_, _ = l.packet.WriteTo([]byte(b.String()), props.RemoteAddr)
			return
		}
	}
}

// listenerFor returns the listener used to send over transport (UDP, TCP, TLS).
func (s *Server) listenerFor(transport string) *listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.network == transport {
			return l
		}
	}
	return nil
}

// rateLimiter is a token bucket for log lines and stateless responses.
type rateLimiter struct {
	mu     sync.Mutex
	burst  float64
	rate   float64 // tokens per second
	tokens float64
	last   time.Time
}

func newRateLimiter(burst int, per time.Duration) rateLimiter {
	return rateLimiter{burst: float64(burst), rate: float64(burst) / per.Seconds(), tokens: float64(burst)}
}

func (r *rateLimiter) allow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !r.last.IsZero() {
		r.tokens = min(r.burst, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	}
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

// levelShift lowers sipgo's log levels by one step: it logs peer errors
// (unparseable messages, missing transactions) as errors, which for us are
// warnings, and routine events as info, which for us are debug.
type levelShift struct{ slog.Handler }

func (h levelShift) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, shift(l))
}

func (h levelShift) Handle(ctx context.Context, r slog.Record) error {
	r.Level = shift(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h levelShift) WithAttrs(as []slog.Attr) slog.Handler {
	return levelShift{h.Handler.WithAttrs(as)}
}

func (h levelShift) WithGroup(name string) slog.Handler { return levelShift{h.Handler.WithGroup(name)} }

func shift(l slog.Level) slog.Level {
	switch {
	case l >= slog.LevelError:
		return slog.LevelWarn
	case l >= slog.LevelInfo:
		return slog.LevelDebug
	default:
		return l - 4
	}
}

// clientTLSConfig is the TLS configuration of connections Ringdesk opens
// (to tls trunks): the provider's certificate must chain to the system's
// roots or to a CA a trunk names (ca_file), and match the trunk's host.
// One pool serves every trunk: a private CA given for one trunk is trusted
// for the others too. Ringdesk's own certificate, when it has one, is
// offered to providers that ask for a client certificate.
func clientTLSConfig(trunks []Trunk, server *tls.Config) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, t := range trunks {
		if t.CAFile == "" {
			continue
		}
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("trunk %s: ca_file: %w", t.Name, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("trunk %s: ca_file %s holds no PEM certificate", t.Name, t.CAFile)
		}
	}
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if server != nil {
		c.Certificates = server.Certificates
	}
	return c, nil
}
