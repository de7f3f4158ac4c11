package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// offerResponseTimeout bounds how long a re-INVITE or UPDATE waits for the
// consumer's answer before the server answers 500 itself.
const offerResponseTimeout = 5 * time.Second

// dialogID identifies a dialog from Ringdesk's side (RFC 3261 §12).
type dialogID struct {
	callID, local, remote string
}

func (id dialogID) String() string { return id.callID + ";" + id.local + ";" + id.remote }

// dialogIDFromRequest is the ID of the dialog an incoming request belongs to:
// the To tag is ours, the From tag the peer's.
func dialogIDFromRequest(req *sip.Request) (dialogID, bool) {
	to, _ := req.To().Params.Get("tag")
	from, _ := req.From().Params.Get("tag")
	if to == "" {
		return dialogID{}, false
	}
	return dialogID{callID: req.CallID().Value(), local: to, remote: from}, true
}

// dialogIDFromResponse is the ID of the dialog a response to our request
// belongs to: the From tag is ours, the To tag the peer's.
func dialogIDFromResponse(res *sip.Response) (dialogID, error) {
	if res.CallID() == nil || res.From() == nil || res.To() == nil {
		return dialogID{}, errors.New("response without Call-ID, From or To")
	}
	from, _ := res.From().Params.Get("tag")
	to, _ := res.To().Params.Get("tag")
	return dialogID{callID: res.CallID().Value(), local: from, remote: to}, nil
}

// dialogTable is Ringdesk's own routing table for in-dialog requests.
type dialogTable struct {
	mu sync.Mutex
	m  map[dialogID]*dialog
}

func (t *dialogTable) add(d *dialog) {
	id := d.key()
	t.mu.Lock()
	t.m[id] = d
	t.mu.Unlock()
}

func (t *dialogTable) get(id dialogID) *dialog {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *dialogTable) remove(d *dialog) {
	id := d.key()
	t.mu.Lock()
	if t.m[id] == d {
		delete(t.m, id)
	}
	t.mu.Unlock()
}

func (t *dialogTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Dialogs returns how many dialogs are in the routing table.
func (s *Server) Dialogs() int { return s.dialogs.count() }

// dialog is the state both kinds of legs share once a dialog exists: what to
// put in requests we send, and how to handle requests the peer sends.
type dialog struct {
	s   *Server
	log *slog.Logger
	id  dialogID

	events eventSink

	mu           sync.Mutex
	localHdr     sip.FromHeader // our address with our tag, as From of our requests
	remoteHdr    sip.ToHeader   // the peer's address with its tag, as To of our requests
	remoteTarget sip.Uri        // the peer's Contact (RFC 3261 §12.1)
	routeSet     []string       // Route values for our requests
	localCSeq    uint32
	remoteCSeq   uint32
	dest         string // ip:port the peer's requests come from: where ours go
	transport    string
	contact      sip.ContactHeader
	ended        bool
	offerPending bool          // a re-INVITE/UPDATE from the peer awaits our answer
	ack          *pendingAck   // our 2xx awaiting its ACK
	done         chan struct{} // closed when the dialog ends
	// earlyBye, set on inbound dialogs, handles a BYE that arrives before
	// the INVITE was answered; it reports false once it was answered.
	earlyBye func() bool
}

// pendingAck retransmits a 2xx over UDP until its ACK arrives (RFC 3261 §13.3.1.4).
type pendingAck struct {
	cseq  uint32
	res   *sip.Response
	acked chan []byte   // receives the ACK body once
	done  chan struct{} // closed when the wait is over, however it ended
}

// ackOutcome is how waiting for an ACK ended.
type ackOutcome int

const (
	ackReceived ackOutcome = iota
	ackTimedOut
	ackDialogEnded
)

// pendingAck returns the 2xx awaiting its ACK, nil if none.
func (d *dialog) pendingAck() *pendingAck {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ack
}

func (s *Server) newDialog(id dialogID, log *slog.Logger) *dialog {
	return &dialog{
		s:    s,
		id:   id,
		log:  log,
		done: make(chan struct{}),
	}
}

func (d *dialog) key() dialogID {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.id
}

// end marks the dialog ended and removes it from the table. Idempotent.
func (d *dialog) end() bool {
	d.mu.Lock()
	if d.ended {
		d.mu.Unlock()
		return false
	}
	d.ended = true
	close(d.done)
	d.mu.Unlock()
	d.s.dialogs.remove(d)
	return true
}

func (d *dialog) isEnded() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ended
}

// via returns a new Via for a request we send over transport.
func (s *Server) via(transport string) *sip.ViaHeader {
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport}
	if l := s.listenerFor(transport); l != nil {
		v.Host, v.Port = l.advHost, l.advPort
	}
	v.Params = sip.NewParams()
	v.Params.Add("branch", sip.GenerateBranchN(16))
	v.Params.Add("rport", "")
	return v
}

// contactFor returns Ringdesk's Contact for dialogs over transport.
func (s *Server) contactFor(user, transport string) sip.ContactHeader {
	c := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user}}
	if l := s.listenerFor(transport); l != nil {
		c.Address.Host, c.Address.Port = l.advHost, l.advPort
	}
	if transport != "UDP" {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", strings.ToLower(transport))
	}
	return c
}

// route sets where a request goes: over transport to dest, leaving from the
// UDP listener so NATs and phones see the port they registered with.
func (s *Server) route(req *sip.Request, transport, dest string) {
	req.SetTransport(transport)
	req.SetDestination(dest)
	if transport == "UDP" {
		if l := s.listenerFor("UDP"); l != nil {
			req.Laddr = l.laddrUDP
		}
	}
}

// newRequest builds an in-dialog request (RFC 3261 §12.2.1.1).
func (d *dialog) newRequest(method sip.RequestMethod, body []byte, contentType string) (*sip.Request, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended && method != sip.ACK {
		return nil, ErrDialogEnded
	}
	req := sip.NewRequest(method, *d.remoteTarget.Clone())
	req.AppendHeader(d.s.via(d.transport))
	from := d.localHdr
	from.Params = from.Params.Clone()
	req.AppendHeader(&from)
	to := d.remoteHdr
	to.Params = to.Params.Clone()
	req.AppendHeader(&to)
	cid := sip.CallIDHeader(d.id.callID)
	req.AppendHeader(&cid)
	if method != sip.ACK && method != sip.CANCEL {
		d.localCSeq++
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.localCSeq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range d.routeSet {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	if method == sip.INVITE || method == sip.UPDATE {
		c := d.contact
		req.AppendHeader(&c)
	}
	req.AppendHeader(sip.NewHeader("User-Agent", d.s.cfg.UserAgent))
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	dest := d.dest
	if len(d.routeSet) > 0 {
		var u sip.Uri
		if _, err := sip.ParseAddressValue(d.routeSet[0], &u, nil); err == nil {
			dest = hostPort(u, d.transport)
		}
	}
	d.s.route(req, d.transport, dest)
	return req, nil
}

// hostPort returns host:port of u with the transport's default port.
func hostPort(u sip.Uri, transport string) string {
	port := u.Port
	if port == 0 {
		port = sip.DefaultPort(transport)
	}
	return fmt.Sprintf("%s:%d", u.Host, port)
}

// prebuilt marks a request as fully built so sipgo adds nothing.
func prebuilt(_ *sipgo.Client, req *sip.Request) error {
	if req.Body() == nil {
		req.SetBody(nil)
	}
	return nil
}

// do sends a request in a new client transaction and returns its final response.
func (s *Server) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := s.client.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		return nil, fmt.Errorf("send %s: %w", req.Method, err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", req.Method, err)
			}
			return nil, fmt.Errorf("%s: %w", req.Method, ErrNoAnswer)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Bye ends the dialog with BYE and waits for the peer's answer. A Reason
// header (RFC 3326) may be given, e.g. `Q.850;cause=16;text="Normal call clearing"`.
func (d *dialog) bye(ctx context.Context, reason string) error {
	req, err := d.newRequest(sip.BYE, nil, "")
	if err != nil {
		return err
	}
	if reason != "" {
		req.AppendHeader(sip.NewHeader("Reason", reason))
	}
	d.end()
	res, err := d.s.do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 && res.StatusCode != 481 && res.StatusCode != 408 {
		return fmt.Errorf("bye answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// sendInfo sends INFO with body and waits for the answer.
func (d *dialog) sendInfo(ctx context.Context, contentType string, body []byte) error {
	req, err := d.newRequest(sip.INFO, body, contentType)
	if err != nil {
		return err
	}
	res, err := d.s.do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("info answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// handleAck routes an ACK for a 2xx to its dialog (ACKs for other responses
// are absorbed by the INVITE server transaction).
func (s *Server) handleAck(req *sip.Request, _ sip.ServerTransaction) {
	id, ok := dialogIDFromRequest(req)
	if !ok {
		return
	}
	if d := s.dialogs.get(id); d != nil {
		d.receiveAck(req)
	}
}

func (d *dialog) receiveAck(req *sip.Request) {
	d.mu.Lock()
	p := d.ack
	if p == nil || p.cseq != req.CSeq().SeqNo {
		d.mu.Unlock()
		return // a retransmitted or stray ACK
	}
	d.ack = nil
	d.mu.Unlock()
	p.acked <- req.Body()
}

// handleInDialog routes BYE, INFO, UPDATE, re-INVITE, OPTIONS and the
// methods Ringdesk does not implement inside dialogs.
func (s *Server) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	id, ok := dialogIDFromRequest(req)
	if !ok {
		switch req.Method {
		case sip.BYE, sip.INFO, sip.UPDATE, sip.PRACK, sip.NOTIFY:
			s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		default:
			s.respond(tx, req, 405, "Method Not Allowed")
		}
		return
	}
	d := s.dialogs.get(id)
	if d == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	d.handleRequest(req, tx)
}

func (d *dialog) handleRequest(req *sip.Request, tx sip.ServerTransaction) {
	s := d.s
	// RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
	d.mu.Lock()
	seq := req.CSeq().SeqNo
	if d.remoteCSeq != 0 && seq < d.remoteCSeq || (seq == d.remoteCSeq && req.Method != sip.ACK) {
		d.mu.Unlock()
		s.respond(tx, req, 500, "Server Internal Error", sip.NewHeader("Warning", warning(s.cfg.UserAgent, "CSeq out of order")))
		return
	}
	d.remoteCSeq = seq
	d.mu.Unlock()

	switch req.Method {
	case sip.BYE:
		s.respond(tx, req, 200, "OK")
		d.mu.Lock()
		early := d.earlyBye
		d.mu.Unlock()
		if early != nil && early() {
			return // a BYE before the answer: the INVITE got 487 (RFC 3261 §15.1.2)
		}
		if d.end() {
			reason := ""
			if h := req.GetHeader("Reason"); h != nil {
				reason = h.Value()
			}
			d.events.emit(ByeReceived{Reason: reason})
		}
	case sip.INFO:
		s.respond(tx, req, 200, "OK")
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		d.events.emit(InfoReceived{ContentType: ct, Body: req.Body()})
	case sip.OPTIONS:
		s.respond(tx, req, 200, "OK", sip.NewHeader("Accept", "application/sdp"))
	case sip.REFER:
		d.handleRefer(req, tx)
	case sip.INVITE, sip.UPDATE:
		d.handleOffer(req, tx)
	default:
		s.respond(tx, req, 501, "Not Implemented")
	}
}

// handleOffer handles a re-INVITE or UPDATE: the consumer answers through
// OfferReceived.Respond; a re-INVITE's 2xx then waits for its ACK.
func (d *dialog) handleOffer(req *sip.Request, tx sip.ServerTransaction) {
	s := d.s
	d.mu.Lock()
	if p := d.ack; p != nil && req.Method == sip.INVITE && req.CSeq().SeqNo > p.cseq {
		// A new INVITE means the peer got our 2xx: its ACK is late or
		// lost, or sipgo handles the two on different goroutines.
		d.ack = nil
		select {
		case p.acked <- nil:
		default:
		}
	}
	if d.offerPending || d.ack != nil {
		d.mu.Unlock()
		// RFC 3261 §14.2 and RFC 3311 §5.2: an offer before we answered
		// the previous one gets 500 with a random Retry-After of 0-10 s
		// (491 is for glare, when our own offer is pending).
		s.respond(tx, req, 500, "Server Internal Error",
			sip.NewHeader("Retry-After", strconv.Itoa(int(randomCSeq()%11))))
		return
	}
	d.offerPending = true
	if c := req.Contact(); c != nil && req.Method == sip.INVITE {
		d.remoteTarget = *c.Address.Clone() // target refresh (§12.2.2)
	}
	d.mu.Unlock()
	// The offer is pending until its final response is about to be sent
	// (respond2xx then tracks a 2xx until its ACK).
	var pendingOnce sync.Once
	notPending := func() {
		pendingOnce.Do(func() {
			d.mu.Lock()
			d.offerPending = false
			d.mu.Unlock()
		})
	}
	defer notPending()

	if !isSDP(req) {
		s.respond(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
		return
	}
	type answer struct {
		code int
		sdp  []byte
	}
	answers := make(chan answer, 1)
	var once sync.Once
	d.events.emit(OfferReceived{
		Method: string(req.Method),
		SDP:    req.Body(),
		Respond: func(code int, sdp []byte) {
			once.Do(func() { answers <- answer{code, sdp} })
		},
	})
	var a answer
	timer := time.NewTimer(offerResponseTimeout)
	defer timer.Stop()
	select {
	case a = <-answers:
	case <-timer.C:
		a = answer{code: 500}
		d.log.Warn("no answer to in-dialog offer", "method", req.Method)
	case <-d.done:
		a = answer{code: 481}
	case <-tx.Done():
		return
	}
	// The offer stops being pending before its answer goes out: a peer
	// may send the next one as soon as it has the answer.
	notPending()
	if a.code < 200 || a.code >= 300 {
		s.respond(tx, req, a.code, reasonPhrase(a.code))
		return
	}
	res := sip.NewResponseFromRequest(req, a.code, "OK", a.sdp)
	d.mu.Lock()
	c := d.contact
	d.mu.Unlock()
	res.AppendHeader(&c)
	if len(a.sdp) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	s.decorate(res)
	if req.Method == sip.UPDATE {
		if err := tx.Respond(res); err != nil {
			d.log.Debug("update respond failed", "error", err)
		}
		return
	}
	p, err := d.respond2xx(tx, res)
	if err != nil {
		d.log.Debug("re-INVITE respond failed", "error", err)
		return
	}
	body, outcome := d.awaitAck(p)
	switch outcome {
	case ackReceived:
	case ackDialogEnded:
		return
	case ackTimedOut:
		d.log.Warn("no ACK for re-INVITE 2xx")
		d.events.emit(AckTimedOut{})
		return
	}
	if len(a.sdp) == 0 || len(body) > 0 {
		// Our 2xx carried the offer: the answer is in the ACK.
		d.events.emit(AckReceived{SDP: body})
	}
}

// respond2xx sends a 2xx to an INVITE and registers it as awaiting its ACK.
func (d *dialog) respond2xx(tx sip.ServerTransaction, res *sip.Response) (*pendingAck, error) {
	p := &pendingAck{cseq: res.CSeq().SeqNo, res: res, acked: make(chan []byte, 1), done: make(chan struct{})}
	d.mu.Lock()
	d.ack = p
	d.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		d.clearAck(p)
		close(p.done)
		return nil, fmt.Errorf("send %d: %w", res.StatusCode, err)
	}
	return p, nil
}

func (d *dialog) clearAck(p *pendingAck) {
	d.mu.Lock()
	if d.ack == p {
		d.ack = nil
	}
	d.mu.Unlock()
}

// awaitAck retransmits a 2xx over UDP at T1, 2T1, ... T2 until its ACK arrives
// or 64*T1 passes (RFC 3261 §13.3.1.4), and returns the ACK's body and how the
// wait ended. A dialog that ends meanwhile (a BYE can overtake its ACK, as
// sipgo handles each message on its own goroutine) ends the wait quietly.
func (d *dialog) awaitAck(p *pendingAck) ([]byte, ackOutcome) {
	defer close(p.done)
	reliable := sip.IsReliable(p.res.Transport())
	interval := sip.T1
	retransmit := time.NewTimer(interval)
	if reliable {
		retransmit.Stop()
	}
	defer retransmit.Stop()
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	for {
		select {
		case body := <-p.acked:
			return body, ackReceived
		case <-retransmit.C:
			if err := d.s.ua.TransportLayer().WriteMsg(p.res); err != nil {
				d.log.Debug("2xx retransmit failed", "error", err)
			}
			interval = min(2*interval, sip.T2)
			retransmit.Reset(interval)
		case <-giveUp.C:
			d.clearAck(p)
			return nil, ackTimedOut
		case <-d.done:
			d.clearAck(p)
			return nil, ackDialogEnded
		case <-d.s.done:
			d.clearAck(p)
			return nil, ackDialogEnded
		}
	}
}

// retransmitAck answers a retransmitted 2xx of an INVITE we already
// acknowledged (RFC 3261 §13.2.2.4).
func (d *dialog) retransmitAck(res *sip.Response) {
	d.mu.Lock()
	seq := d.localCSeq
	d.mu.Unlock()
	if res.CSeq().SeqNo > seq {
		return
	}
	ack, err := d.newAck(res.CSeq().SeqNo)
	if err != nil {
		return
	}
	if err := d.s.client.WriteRequest(ack, prebuilt); err != nil {
		d.log.Debug("ack retransmit failed", "error", err)
	}
}

// newAck builds the ACK for the 2xx of the INVITE with CSeq seq.
func (d *dialog) newAck(seq uint32) (*sip.Request, error) {
	ack, err := d.newRequest(sip.ACK, nil, "")
	if err != nil {
		return nil, err
	}
	ack.CSeq().SeqNo = seq
	return ack, nil
}

// ackAndBye acknowledges an unwanted 2xx and hangs the dialog up at once,
// for a 2xx that arrived after Ringdesk gave up on the INVITE.
func (s *Server) ackAndBye(res *sip.Response) {
	transport := strings.ToUpper(res.Transport())
	if transport == "" {
		transport = "UDP"
	}
	id, err := dialogIDFromResponse(res)
	if err != nil || res.Contact() == nil {
		return
	}
	d := s.newDialog(id, s.log.With("sip_call_id", id.callID))
	d.localHdr = sip.FromHeader{Address: res.From().Address, Params: res.From().Params.Clone(), DisplayName: res.From().DisplayName}
	d.remoteHdr = sip.ToHeader{Address: res.To().Address, Params: res.To().Params.Clone()}
	d.remoteTarget = *res.Contact().Address.Clone()
	d.localCSeq = res.CSeq().SeqNo
	d.transport = transport
	d.dest = res.Source()
	for _, rr := range res.GetHeaders("Record-Route") {
		d.routeSet = append([]string{rr.Value()}, d.routeSet...)
	}
	ack, err := d.newAck(res.CSeq().SeqNo)
	if err != nil {
		return
	}
	if err := s.client.WriteRequest(ack, prebuilt); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.bye(ctx, ""); err != nil {
		s.log.Debug("bye after late 2xx failed", "error", err)
	}
}

func isSDP(req *sip.Request) bool {
	if len(req.Body()) == 0 {
		return true // no body: a late offer is requested
	}
	ct := req.ContentType()
	if ct == nil {
		return false
	}
	v := strings.ToLower(strings.TrimSpace(ct.Value()))
	return strings.HasPrefix(v, "application/sdp")
}

// reasonPhrase returns the standard reason phrase of code (RFC 3261 §21).
func reasonPhrase(code int) string {
	switch code {
	case 200:
		return "OK"
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 415:
		return "Unsupported Media Type"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 483:
		return "Too Many Hops"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 491:
		return "Request Pending"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "Version Not Supported"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	default:
		return "Unknown"
	}
}
