package dialer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// allowed is our Allow header: what a caller answers inside its dialog.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"

// digestAlgorithms are the digest algorithms we answer challenges with;
// the server's order decides among them.
var digestAlgorithms = []string{"SHA-256", "MD5"} //nolint:gochecknoglobals // constant table

// phoneHandlers is what the phone does with the requests the far end sends
// in the call's dialog. They are called on sipgo's goroutines and must not
// block for long.
type phoneHandlers struct {
	// bye: the far end hung up (the phone has answered 200).
	bye func()
	// info: an INFO with this body (the phone has answered 200).
	info func(contentType string, body []byte)
	// offer answers a re-INVITE's offer with an answer body; an error is
	// answered 488. A re-INVITE without an offer gets offer(nil), which
	// returns our offer, and the ACK's answer goes to ackAnswer.
	offer     func(body []byte) ([]byte, error)
	ackAnswer func(body []byte)
}

// phone is the dialer's SIP user agent (RFC 3261 UAC with the UAS side of
// its one dialog): a UDP socket or a TCP listener on the bind address,
// every request sent to the server, digest authentication, and the
// dialog's state (§12).
type phone struct {
	log       *slog.Logger
	transport string         // "UDP" or "TCP"
	server    netip.AddrPort // where every request goes
	host      string         // the server as given, for URIs
	port      uint16
	userAgent string
	user, pw  string
	handlers  phoneHandlers

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	pc      net.PacketConn // UDP
	ln      net.Listener   // TCP
	local   netip.AddrPort
	contact string

	wg        sync.WaitGroup // serving goroutines
	inflight  sync.WaitGroup // sipgo handler calls in progress
	closeOnce sync.Once

	mu     sync.Mutex
	closed bool
	dlg    *dialog
}

// dialog is the state of the call's dialog (RFC 3261 §12.1.2).
type dialog struct {
	callID    string
	localTag  string
	localURI  sip.Uri
	remoteURI sip.Uri

	mu           sync.Mutex
	remoteTag    string
	remoteTarget sip.Uri
	routeSet     []string
	cseq         uint32
	established  bool
	ended        bool
}

// newPhone binds the SIP socket (UDP) or listener (TCP) on bind and starts
// serving it.
func newPhone(ctx context.Context, s Script, server netip.AddrPort, log *slog.Logger, h phoneHandlers) (*phone, error) {
	host, port, err := splitServer(s.Server)
	if err != nil {
		return nil, err
	}
	p := &phone{
		log: log, transport: strings.ToUpper(s.Transport), server: server,
		host: host, port: port, userAgent: s.UserAgent, user: s.User, pw: s.Password,
		handlers: h,
	}
	p.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(s.UserAgent),
		sipgo.WithUserAgentHostname(s.Bind.String()),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(log),
			sip.WithTransactionLayerUnhandledResponseHandler(p.strayResponse),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = p.ua.Close()
		return nil, fmt.Errorf("sip server: %w", err)
	}
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(log), sipgo.WithClientHostname(s.Bind.String())}
	bindAt := netip.AddrPortFrom(s.Bind, 0).String()
	var lc net.ListenConfig
	if p.transport == "UDP" {
		if p.pc, err = lc.ListenPacket(ctx, "udp", bindAt); err != nil {
			_ = p.ua.Close()
			return nil, fmt.Errorf("sip socket: %w", err)
		}
		p.local = p.pc.LocalAddr().(*net.UDPAddr).AddrPort()
		opts = append(opts, sipgo.WithClientConnectionAddr(p.local.String()), sipgo.WithClientPort(int(p.local.Port())))
	} else {
		if p.ln, err = lc.Listen(ctx, "tcp", bindAt); err != nil {
			_ = p.ua.Close()
			return nil, fmt.Errorf("sip listener: %w", err)
		}
		p.local = p.ln.Addr().(*net.TCPAddr).AddrPort()
	}
	p.contact = "<sip:" + s.From + "@" + p.local.String()
	if p.transport == "TCP" {
		p.contact += ";transport=tcp"
	}
	p.contact += ">"
	p.cli, err = sipgo.NewClient(p.ua, opts...)
	if err != nil {
		p.closeSockets()
		return nil, fmt.Errorf("sip client: %w", err)
	}

	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnInfo(p.onInfo)
	p.srv.OnOptions(p.onOptions)
	p.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
	})
	p.srv.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) {
		p.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", allowed))
	})
	if p.pc != nil {
		// The socket joins the UDP pool before serving, so that the INVITE,
		// sent at once, already leaves from it (ServeUDP would add it too,
		// racing with the first request).
		p.ua.TransportLayer().Pool("udp").Add(p.local.String(), &sip.UDPConnection{
			PacketConn: p.pc, PacketAddr: p.local.String(), Listener: true,
		})
		p.wg.Go(func() { _ = p.srv.ServeUDP(p.pc) })
	} else {
		p.wg.Go(func() { _ = p.srv.ServeTCP(p.ln) })
	}
	return p, nil
}

func (p *phone) closeSockets() {
	_ = p.ua.Close()
	if p.pc != nil {
		_ = p.pc.Close()
	}
	if p.ln != nil {
		_ = p.ln.Close()
	}
}

// close stops the phone's transactions and sockets and waits for every
// goroutine it started. Idempotent.
func (p *phone) close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.inflight.Wait()
		p.closeSockets()
		p.wg.Wait()
	})
}

// enter marks a handler call in progress; false once the phone is closing.
func (p *phone) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.inflight.Add(1)
	return true
}

// requestURI is where the INVITE goes: sip:target@server, or the target
// itself when it is a SIP URI or has a host.
func (p *phone) requestURI(target string) (sip.Uri, error) {
	var u sip.Uri
	switch {
	case strings.HasPrefix(strings.ToLower(target), "sip:"):
		if err := sip.ParseUri(target, &u); err != nil {
			return u, fmt.Errorf("target %q: %w", clip(target), err)
		}
	case strings.Contains(target, "@"):
		if err := sip.ParseUri("sip:"+target, &u); err != nil {
			return u, fmt.Errorf("target %q: %w", clip(target), err)
		}
	default:
		u = sip.Uri{Scheme: "sip", User: target, Host: p.host, Port: int(p.port)}
		if p.transport == "TCP" {
			u.UriParams = sip.NewParams()
			u.UriParams.Add("transport", "tcp")
		}
	}
	return u, nil
}

// route sends req to the server over the phone's transport.
func (p *phone) route(req *sip.Request) {
	req.SetTransport(p.transport)
	req.SetDestination(p.server.String())
}

// invite sends the INVITE with sdp as the offer and returns its
// transaction, the request as sent and the new dialog.
func (p *phone) invite(ctx context.Context, target, from string, sdp []byte) (sip.ClientTransaction, *sip.Request, error) {
	ruri, err := p.requestURI(target)
	if err != nil {
		return nil, nil, err
	}
	d := &dialog{callID: newID(), localTag: newID()[:12], cseq: 1}
	d.localURI = sip.Uri{Scheme: "sip", User: from, Host: p.host}
	d.remoteURI = sip.Uri{Scheme: ruri.Scheme, User: ruri.User, Host: ruri.Host}
	req := sip.NewRequest(sip.INVITE, ruri)
	fromH := &sip.FromHeader{Address: d.localURI, Params: sip.NewParams()}
	fromH.Params.Add("tag", d.localTag)
	req.AppendHeader(fromH)
	req.AppendHeader(&sip.ToHeader{Address: d.remoteURI, Params: sip.NewParams()})
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("Contact", p.contact))
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	req.AppendHeader(sip.NewHeader("User-Agent", p.userAgent))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdp)
	p.route(req)
	p.mu.Lock()
	p.dlg = d
	p.mu.Unlock()
	tx, err := p.cli.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return nil, nil, fmt.Errorf("send INVITE to %s: %w", p.server, err)
	}
	p.watchRetransmissions(tx)
	return tx, req, nil
}

// dialog returns the call's dialog, nil before the INVITE.
func (p *phone) dialog() *dialog {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dlg
}

// watchRetransmissions acknowledges every retransmission of the 2xx again
// (RFC 3261 §13.2.2.4).
func (p *phone) watchRetransmissions(tx sip.ClientTransaction) {
	tx.OnRetransmission(func(res *sip.Response) {
		if res.IsSuccess() && res.CSeq() != nil {
			_ = p.ack(res.CSeq().SeqNo)
		}
	})
}

// strayResponse acknowledges 2xx retransmissions that arrive after the
// INVITE transaction is gone.
func (p *phone) strayResponse(res *sip.Response) {
	d := p.dialog()
	if d == nil || !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE || res.CallID() == nil ||
		res.CallID().Value() != d.callID {
		return
	}
	d.mu.Lock()
	ok := d.established
	d.mu.Unlock()
	if ok {
		_ = p.ack(res.CSeq().SeqNo)
	}
}

// authenticate resends the INVITE (or another request) prev with
// credentials for the challenge in res and returns the new transaction and
// request, and the digest algorithm used.
func (p *phone) authenticate(ctx context.Context, prev *sip.Request, res *sip.Response) (sip.ClientTransaction, *sip.Request, string, error) {
	chalHdr, authHdr := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chalHdr, authHdr = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chals []string
	for _, h := range res.GetHeaders(chalHdr) {
		chals = append(chals, h.Value())
	}
	// A new request, not the old one edited: the old transaction may still
	// read its request while it acknowledges the challenge.
	req := prev.Clone()
	auth, alg, err := p.digest(chals, string(req.Method), req.Recipient.String())
	if err != nil {
		return nil, nil, "", err
	}
	req.RemoveHeader(authHdr)
	req.AppendHeader(sip.NewHeader(authHdr, auth))
	req.RemoveHeader("Via")
	if d := p.dialog(); d != nil && req.CallID() != nil && req.CallID().Value() == d.callID {
		d.mu.Lock()
		d.cseq++
		req.CSeq().SeqNo = d.cseq
		d.mu.Unlock()
	} else {
		req.CSeq().SeqNo++
	}
	tx, err := p.cli.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return nil, nil, "", fmt.Errorf("resend %s with credentials: %w", req.Method, err)
	}
	if req.Method == sip.INVITE {
		p.watchRetransmissions(tx)
	}
	return tx, req, alg, nil
}

// digest answers the first challenge (in the server's order) that uses an
// algorithm we know.
func (p *phone) digest(chals []string, method, uri string) (string, string, error) {
	if p.user == "" {
		return "", "", fmt.Errorf("%w: the server asks for credentials; give -user and -password", ErrNoCredentials)
	}
	for _, v := range chals {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			continue
		}
		alg := strings.ToUpper(c.Algorithm)
		if alg == "" {
			alg = "MD5"
		}
		if !slices.Contains(digestAlgorithms, alg) {
			continue
		}
		if len(c.QOP) > 0 && !c.SupportsQOP("auth") {
			continue
		}
		cred, err := digest.Digest(c, digest.Options{Method: method, URI: uri, Username: p.user, Password: p.pw, Count: 1})
		if err != nil {
			return "", "", fmt.Errorf("digest: %w", err)
		}
		return cred.String(), alg, nil
	}
	return "", "", fmt.Errorf("%w: no challenge with %s and qop auth in %q", ErrNoCredentials, strings.Join(digestAlgorithms, " or "), chals)
}

// establish takes the far end's tag, Contact and Record-Route from the 2xx
// (RFC 3261 §12.1.2): the route set is the Record-Route in reverse.
func (d *dialog) establish(res *sip.Response) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.remoteTag, _ = res.To().Params.Get("tag")
	if ct := res.Contact(); ct != nil {
		d.remoteTarget = *ct.Address.Clone()
	}
	d.routeSet = nil
	rrs := res.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		d.routeSet = append(d.routeSet, rrs[i].Value())
	}
	d.established = true
}

// end marks the dialog over; it reports whether it was not already.
func (d *dialog) end() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	was := d.ended
	d.ended = true
	return !was
}

// newRequest builds a request inside the dialog (RFC 3261 §12.2.1.1):
// Request-URI the remote target, the route set as Route headers. cseq is
// used for ACK; other methods take the next CSeq.
func (p *phone) newRequest(method sip.RequestMethod, contentType string, body []byte, cseq uint32) (*sip.Request, error) {
	d := p.dialog()
	if d == nil {
		return nil, errNoDialog
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.established {
		return nil, errNoDialog
	}
	target := d.remoteTarget
	if target.Host == "" {
		target = d.remoteURI
	}
	req := sip.NewRequest(method, *target.Clone())
	from := &sip.FromHeader{Address: *d.localURI.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: *d.remoteURI.Clone(), Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	if method != sip.ACK {
		d.cseq++
		cseq = d.cseq
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range d.routeSet {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.userAgent))
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	p.route(req)
	return req, nil
}

// ack acknowledges the 2xx to the INVITE with CSeq cseq (RFC 3261 §13.2.2.4).
func (p *phone) ack(cseq uint32) error {
	req, err := p.newRequest(sip.ACK, "", nil, cseq)
	if err != nil {
		return err
	}
	return p.cli.WriteRequest(req, sipgo.ClientRequestBuild)
}

// do sends an in-dialog request and returns its final response, answering
// one challenge with credentials.
func (p *phone) do(ctx context.Context, method sip.RequestMethod, contentType string, body []byte) (*sip.Response, error) {
	req, err := p.newRequest(method, contentType, body, 0)
	if err != nil {
		return nil, err
	}
	res, err := p.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if (res.StatusCode == 401 || res.StatusCode == 407) && p.user != "" {
		tx, _, _, err := p.authenticate(ctx, req, res)
		if err != nil {
			return res, nil //nolint:nilerr // the challenge is the answer
		}
		defer tx.Terminate()
		for {
			select {
			case r := <-tx.Responses():
				if r.IsProvisional() {
					continue
				}
				return r, nil
			case <-tx.Done():
				return nil, fmt.Errorf("%s: %w", method, tx.Err())
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return res, nil
}

// bye hangs up and returns the status of the answer to the BYE.
func (p *phone) bye(ctx context.Context) (int, error) {
	if d := p.dialog(); d == nil || !d.end() {
		return 0, nil
	}
	res, err := p.do(ctx, sip.BYE, "", nil)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// cancel sends CANCEL for the INVITE inv as sent (RFC 3261 §9.1) and
// returns the status of the answer to the CANCEL.
func (p *phone) cancel(ctx context.Context, inv *sip.Request) (int, error) {
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	sip.CopyHeaders("Route", inv, req)
	req.SetBody(nil)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	res, err := p.cli.Do(ctx, req, func(*sipgo.Client, *sip.Request) error { return nil })
	if err != nil {
		return 0, fmt.Errorf("cancel: %w", err)
	}
	return res.StatusCode, nil
}

// inDialog reports whether req belongs to the call's dialog: its Call-ID,
// and our tag as its To tag.
func (p *phone) inDialog(req *sip.Request) (*dialog, bool) {
	d := p.dialog()
	if d == nil || req.CallID() == nil || req.To() == nil || req.CallID().Value() != d.callID {
		return nil, false
	}
	tag, _ := req.To().Params.Get("tag")
	if tag != d.localTag {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d, d.established && !d.ended
}

func (p *phone) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	p.respondBody(req, tx, code, reason, "", nil, hdrs...)
}

func (p *phone) respondBody(req *sip.Request, tx sip.ServerTransaction, code int, reason, contentType string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	res.AppendHeader(sip.NewHeader("User-Agent", p.userAgent))
	if contentType != "" {
		res.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// onInvite refuses calls to the dialer and answers re-INVITEs in its
// dialog (RFC 3261 §14.2).
func (p *phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if !p.enter() {
		p.respond(req, tx, 503, "Service Unavailable")
		return
	}
	defer p.inflight.Done()
	if tag, _ := req.To().Params.Get("tag"); tag == "" {
		p.respond(req, tx, 486, "Busy Here")
		return
	}
	if _, ok := p.inDialog(req); !ok {
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	body, err := p.handlers.offer(req.Body())
	if err != nil {
		p.log.Warn("re-INVITE refused", "error", err)
		p.respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	p.respondBody(req, tx, 200, "OK", "application/sdp", body, sip.NewHeader("Contact", p.contact))
}

func (p *phone) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if !p.enter() {
		return
	}
	defer p.inflight.Done()
	if _, ok := p.inDialog(req); ok && len(req.Body()) > 0 {
		p.handlers.ackAnswer(req.Body())
	}
}

func (p *phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if !p.enter() {
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	defer p.inflight.Done()
	d, ok := p.inDialog(req)
	if !ok {
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	p.respond(req, tx, 200, "OK")
	d.end()
	p.handlers.bye()
}

func (p *phone) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	if !p.enter() {
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	defer p.inflight.Done()
	if _, ok := p.inDialog(req); !ok {
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	p.respond(req, tx, 200, "OK")
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	p.handlers.info(ct, req.Body())
}

func (p *phone) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	p.respond(req, tx, 200, "OK", sip.NewHeader("Allow", allowed))
}

// responseFrom names the far end of a response: its Server header, else
// its User-Agent.
func responseFrom(res *sip.Response) string {
	for _, name := range []string{"Server", "User-Agent"} {
		if h := res.GetHeader(name); h != nil && strings.TrimSpace(h.Value()) != "" {
			return strings.TrimSpace(h.Value())
		}
	}
	return ""
}

// hasSDP reports whether a message carries an SDP body.
func hasSDP(msg interface {
	Body() []byte
	ContentType() *sip.ContentTypeHeader
},
) bool {
	if len(msg.Body()) == 0 {
		return false
	}
	ct := msg.ContentType()
	return ct == nil || strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp")
}

// newID returns 24 random hex digits, for Call-IDs and tags.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusText is "486 Busy Here".
func statusText(code int, reason string) string {
	if reason == "" {
		return strconv.Itoa(code)
	}
	return strconv.Itoa(code) + " " + reason
}
