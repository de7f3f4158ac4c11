package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// inviteFailsafe answers 500 to an INVITE the consumer never answered, so a
// bug cannot pin a transaction forever.
const inviteFailsafe = 30 * time.Minute

// Party is one end of a call as SIP shows it.
type Party struct {
	// User is the user part of the URI: an extension or a number.
	User string
	// DisplayName is the quoted name, "" when absent.
	DisplayName string
	// URI is the whole address, e.g. "sip:1001@127.0.0.1".
	URI string
}

// InboundCall is an INVITE Ringdesk received: the UAS side of a dialog.
// Answer, Progress and Reject are safe to call from any goroutine.
type InboundCall struct {
	// CallID is the SIP Call-ID of this leg.
	CallID string
	// From is the calling party as the phone presented it.
	From Party
	// To is the To header's party.
	To Party
	// Dialed is the user part of the Request-URI: the number dialed.
	Dialed string
	// AuthUser is the extension that authenticated with digest; empty for
	// a call from a trunk.
	AuthUser string
	// Trunk is the provider the call came from (Trunk.Name), empty for a
	// call from a phone.
	Trunk string
	// Source is where the INVITE came from; Transport how ("UDP", "TCP", "TLS").
	Source    netip.AddrPort
	Transport string
	// UserAgent is the caller's User-Agent header.
	UserAgent string
	// SDP is the offer, empty for a late offer.
	SDP []byte

	d   *dialog
	req *sip.Request
	tx  sip.ServerTransaction

	// sendMu orders the responses to the INVITE. It is held across
	// tx.Respond, so sipgo's CANCEL callback must never take it: that
	// callback runs under the transaction's lock (see onCancel).
	sendMu     sync.Mutex
	final      atomic.Bool // a final response went out, or the INVITE ended
	finalSent  chan struct{}
	finalOnce  sync.Once
	cancelled  chan struct{}
	cancelOnce sync.Once
}

// SetEventHandler sets where the call's events go. Events that happened
// before (a CANCEL racing the handler) are delivered at once, in order.
func (c *InboundCall) SetEventHandler(h EventHandler) { c.d.events.set(h) }

// Progress sends a provisional response: 180 Ringing, or 183 Session
// Progress with an SDP answer for early media.
func (c *InboundCall) Progress(code int, sdp []byte) error {
	if code <= 100 || code >= 200 {
		return fmt.Errorf("progress with code %d", code)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.final.Load() || c.d.isEnded() || isClosed(c.cancelled) {
		return ErrFinalResponseSent
	}
	res := c.response(code, sdp)
	if err := c.tx.Respond(res); err != nil {
		return fmt.Errorf("send %d: %w", code, err)
	}
	return nil
}

// Answer sends 200 OK with sdp (an answer, or an offer when the INVITE had
// none) and confirms the dialog when the ACK arrives (AckReceived) or gives
// up after 64*T1 (AckTimedOut).
func (c *InboundCall) Answer(sdp []byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if isClosed(c.cancelled) {
		return fmt.Errorf("answer: %w", ErrCancelled)
	}
	if c.final.Load() {
		return ErrFinalResponseSent
	}
	if c.d.isEnded() {
		return ErrDialogEnded
	}
	c.final.Store(true)
	res := c.response(200, sdp)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	p, err := c.d.respond2xx(c.tx, res)
	if err != nil {
		if isClosed(c.cancelled) {
			return fmt.Errorf("answer: %w: %w", ErrCancelled, err)
		}
		return err
	}
	if isClosed(c.cancelled) {
		// The transaction took the CANCEL first and sent 487; our 2xx
		// went nowhere.
		c.d.clearAck(p)
		close(p.done)
		return fmt.Errorf("answer: %w", ErrCancelled)
	}
	c.finalOnce.Do(func() { close(c.finalSent) })
	d := c.d
	d.s.goBackground(func() {
		body, outcome := d.awaitAck(p)
		switch outcome {
		case ackReceived:
			d.events.emit(AckReceived{SDP: body})
		case ackTimedOut:
			d.events.emit(AckTimedOut{})
		case ackDialogEnded:
			// hung up before the ACK: nothing to confirm
		}
	})
	return nil
}

// Reject ends the INVITE with a final response of 300 or more. reason, when
// not empty, goes into a Reason header (RFC 3326), e.g. `Q.850;cause=17`.
func (c *InboundCall) Reject(code int, reason string) error {
	if code < 300 {
		return fmt.Errorf("reject with code %d", code)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.final.Swap(true) {
		return ErrFinalResponseSent
	}
	res := c.response(code, nil)
	if reason != "" {
		res.AppendHeader(sip.NewHeader("Reason", reason))
	}
	if code == 503 {
		res.AppendHeader(sip.NewHeader("Retry-After", "5"))
	}
	c.finalOnce.Do(func() { close(c.finalSent) })
	c.d.end()
	if err := c.tx.Respond(res); err != nil {
		return fmt.Errorf("send %d: %w", code, err)
	}
	return nil
}

// onCancel runs inside sipgo's transaction lock when a CANCEL matches the
// INVITE: it only signals; handleInvite's goroutine does the rest.
func (c *InboundCall) onCancel(*sip.Request) {
	c.cancelOnce.Do(func() { close(c.cancelled) })
}

// cancelledNow ends the call after a CANCEL (the transaction layer answered
// 487) or a BYE in the early dialog, and tells the handler.
func (c *InboundCall) cancelledNow() {
	c.final.Store(true)
	c.finalOnce.Do(func() { close(c.finalSent) })
	if c.d.end() {
		c.d.events.emit(Cancelled{})
	}
}

// earlyBye handles a BYE received before the INVITE was answered (RFC 3261
// §15.1.2): the INVITE gets 487 and the call counts as cancelled. It
// reports false when the call was already answered.
func (c *InboundCall) earlyBye() bool {
	c.sendMu.Lock()
	if c.final.Swap(true) {
		c.sendMu.Unlock()
		return false
	}
	res := c.response(487, nil)
	c.cancelOnce.Do(func() { close(c.cancelled) })
	c.finalOnce.Do(func() { close(c.finalSent) })
	if err := c.tx.Respond(res); err != nil {
		c.d.log.Debug("487 after early BYE failed", "error", err)
	}
	c.sendMu.Unlock()
	c.cancelledNow()
	return true
}

// Hangup sends BYE on an answered call. reason goes into a Reason header.
// When the 2xx still awaits its ACK, it waits for it first: the callee must
// not send BYE before (RFC 3261 §15).
func (c *InboundCall) Hangup(ctx context.Context, reason string) error {
	if !c.final.Load() || c.d.isEnded() {
		return ErrDialogEnded
	}
	if p := c.d.pendingAck(); p != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c.d.bye(ctx, reason)
}

// SendInfo sends INFO inside the answered dialog.
func (c *InboundCall) SendInfo(ctx context.Context, contentType string, body []byte) error {
	return c.d.sendInfo(ctx, contentType, body)
}

// Ended reports whether the dialog is over.
func (c *InboundCall) Ended() bool { return c.d.isEnded() }

// response builds a response to the INVITE with our To tag, Contact and
// Server header, and the SDP body if any.
func (c *InboundCall) response(code int, sdp []byte) *sip.Response {
	res := sip.NewResponseFromRequest(c.req, code, reasonPhrase(code), sdp)
	if code < 300 {
		ct := c.d.contact
		res.AppendHeader(&ct)
	}
	if len(sdp) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	c.d.s.decorate(res)
	return res
}

// handleInvite takes a new INVITE, or routes a re-INVITE to its dialog.
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		s.handleInDialog(req, tx)
		return
	}
	if unsupported := unsupportedRequire(req); unsupported != "" {
		s.respond(tx, req, 420, "Bad Extension", sip.NewHeader("Unsupported", unsupported))
		return
	}
	if req.Contact() == nil {
		s.respond(tx, req, 400, "Bad Request", sip.NewHeader("Warning", warning(s.cfg.UserAgent, "missing Contact")))
		return
	}
	if !isSDP(req) {
		s.respond(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
		return
	}
	s.mu.Lock()
	h, closed := s.handler, s.closed
	s.mu.Unlock()
	if h == nil || closed {
		s.respond(tx, req, 503, "Service Unavailable")
		return
	}
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	// A provider's call is known by where it comes from (or by the contact
	// Ringdesk registered with it); a phone's by its digest credentials.
	// Anything else is refused without a challenge: no password could help.
	trunk, fromTrunk := s.trunks.match(src.Addr(), req.Recipient.User)
	user := ""
	if !fromTrunk {
		if !s.auth.known(req.From().Address.User) && req.GetHeader("Proxy-Authorization") == nil {
			if s.forbidden.allow(src.Addr(), s.now()) {
				if s.badLog.allow() {
					s.log.Info("sip call refused: not from a trunk or a phone", "source", src.String(),
						"from", req.From().Address.User, "to", req.Recipient.User)
				}
				s.respond(tx, req, 403, "Forbidden")
			}
			return
		}
		var ok bool
		if user, ok = s.authorize(req, tx, "Proxy-Authorization", 407, req.From().Address.User); !ok {
			return
		}
	}

	// 100 Trying at once, without a tag (RFC 3261 §8.2.6.2). Then our To
	// tag goes into the request itself, so every response built from it,
	// including the 487 the transaction layer sends on CANCEL, carries it.
	s.respond(tx, req, 100, "Trying")
	tag := newTag()
	req.To().Params.Add("tag", tag)

	fromTag, _ := req.From().Params.Get("tag")
	callID := req.CallID().Value()
	transport := strings.ToUpper(req.Transport())
	d := s.newDialog(dialogID{callID: callID, local: tag, remote: fromTag},
		s.log.With("sip_call_id", callID))
	to := req.To()
	d.localHdr = sip.FromHeader{DisplayName: to.DisplayName, Address: *to.Address.Clone(), Params: to.Params.Clone()}
	from := req.From()
	d.remoteHdr = sip.ToHeader{DisplayName: from.DisplayName, Address: *from.Address.Clone(), Params: from.Params.Clone()}
	d.remoteTarget = *req.Contact().Address.Clone()
	for _, rr := range req.GetHeaders("Record-Route") {
		d.routeSet = append(d.routeSet, rr.Value())
	}
	d.remoteCSeq = req.CSeq().SeqNo
	d.localCSeq = randomCSeq()
	d.dest = src.String()
	d.transport = transport
	d.contact = s.contactFor(req.Recipient.User, transport)

	call := &InboundCall{
		CallID:    callID,
		From:      partyOf(from.DisplayName, from.Address),
		To:        partyOf(to.DisplayName, to.Address),
		Dialed:    dialedNumber(req, s.trunks, trunk),
		AuthUser:  user,
		Trunk:     trunk,
		Source:    src,
		Transport: transport,
		SDP:       req.Body(),
		d:         d,
		req:       req,
		tx:        tx,
		finalSent: make(chan struct{}),
		cancelled: make(chan struct{}),
	}
	if ua := req.GetHeader("User-Agent"); ua != nil {
		call.UserAgent = ua.Value()
	}
	d.earlyBye = call.earlyBye
	s.dialogs.add(d)
	if !tx.OnCancel(call.onCancel) {
		call.onCancel(nil) // cancelled before we could listen
	}

	h.HandleInvite(call)

	// sipgo terminates the transaction when this handler returns, so wait
	// for the final response (or CANCEL) first.
	failsafe := time.NewTimer(inviteFailsafe)
	defer failsafe.Stop()
	select {
	case <-call.finalSent:
	case <-call.cancelled:
	case <-tx.Done():
	case <-s.done:
		_ = call.Reject(503, "")
	case <-failsafe.C:
		d.log.Error("invite never answered by the call handler")
		_ = call.Reject(500, "")
	}
	select {
	case <-call.cancelled:
		// The CANCEL won over any final response we attempted: the
		// transaction layer sent 487.
		call.cancelledNow()
	default:
	}
}

func partyOf(display string, u sip.Uri) Party {
	return Party{User: u.User, DisplayName: display, URI: (&sip.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}).String()}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// newTag returns a random tag (RFC 3261 §19.3: at least 32 bits of randomness).
func newTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newCallID returns a random Call-ID for a leg Ringdesk originates.
func newCallID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// randomCSeq picks the first CSeq of a dialog (RFC 3261 §8.1.1.5: below 2**31).
func randomCSeq() uint32 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return uint32(b[0])<<8 | uint32(b[1]) | 1
}

// dialedNumber is the number a call is for: the Request-URI user, or the
// To user when a provider sends its calls to the contact Ringdesk
// registered (whose user is the account, not the number dialed).
func dialedNumber(req *sip.Request, ts *trunkSet, trunk string) string {
	if trunk != "" {
		if t, ok := ts.get(trunk); ok && t.Register && req.Recipient.User == t.RegisterUser && req.To().Address.User != "" {
			return req.To().Address.User
		}
	}
	return req.Recipient.User
}
