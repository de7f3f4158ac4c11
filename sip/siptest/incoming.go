package siptest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// AnswerFunc decides what a phone does with an incoming INVITE:
//
//   - code >= 200: send 180 Ringing, wait ringFor (0: not at all), then send
//     code, with sdp when it is a 2xx;
//   - ringFor < 0: send 180 Ringing and ring until the caller cancels
//     (code is ignored);
//   - code <= 0 and ringFor == 0: send nothing at all, not even 100 Trying;
//     the test answers through IncomingCall.Respond, or never does
//     (the caller then times out, RFC 3261 Timer B).
//
// It runs on the goroutine that received the INVITE and must not block.
type AnswerFunc func(inv *IncomingCall) (ringFor time.Duration, code int, sdp []byte)

// RingForever is the ringFor that makes a phone ring until cancelled.
const RingForever time.Duration = -1

// AnswerWith answers every call at once (after 180) with 200 and sdp.
func AnswerWith(sdp []byte) AnswerFunc {
	return func(*IncomingCall) (time.Duration, int, []byte) { return 0, 200, sdp }
}

// AnswerAfter rings for d, then answers with 200 and sdp.
func AnswerAfter(d time.Duration, sdp []byte) AnswerFunc {
	return func(*IncomingCall) (time.Duration, int, []byte) { return d, 200, sdp }
}

// Busy answers 486 Busy Here after 180.
func Busy(*IncomingCall) (time.Duration, int, []byte) { return 0, 486, nil }

// RejectWith answers code after 180.
func RejectWith(code int) AnswerFunc {
	return func(*IncomingCall) (time.Duration, int, []byte) { return 0, code, nil }
}

// NoAnswer rings until the caller cancels.
func NoAnswer(*IncomingCall) (time.Duration, int, []byte) { return RingForever, 0, nil }

// Manual sends nothing; the test drives the call with IncomingCall.Respond.
// A phone that is never told to respond models a dead phone (Timer B).
func Manual(*IncomingCall) (time.Duration, int, []byte) { return 0, 0, nil }

// IncomingCall is an INVITE the phone received: the UAS side of a dialog.
type IncomingCall struct {
	*Dialog

	// Request is the INVITE as received.
	Request *Message
	// From, To and RequestURI are the INVITE's header values and Request-URI.
	From, To, RequestURI string
	// SDP is the offer, empty for a late offer.
	SDP []byte
	// LocalAddr is the local end of the socket or connection the INVITE
	// arrived on; over TCP it shows which connection the server reused.
	LocalAddr netip.AddrPort

	req *sip.Request
	tx  sip.ServerTransaction

	finalOnce  sync.Once
	finalSent  chan struct{}
	cancelOnce sync.Once
	cancelled  chan struct{}
	cancelReq  *Message // set before cancelled is closed
}

// Header returns the INVITE's first header named name.
func (c *IncomingCall) Header(name string) string { return c.Request.Header(name) }

// answerInvite runs the phone's Answer policy on a new INVITE.
func (p *Phone) answerInvite(req *sip.Request, tx sip.ServerTransaction) {
	// Stop sipgo's automatic 100 Trying (RFC 3261 §17.2.1, sent after 200 ms
	// without a response): feeding the INVITE to its own transaction resets
	// that timer and sends nothing, since no response exists yet. The policy
	// decides what goes out. It also stops the timer from reading the To
	// header while the tag is added below.
	if stx, ok := tx.(*sip.ServerTx); ok {
		_ = stx.Receive(req)
	}
	ic := p.newIncoming(req, tx)
	ringFor, code, sdp := p.opts.Answer(ic)

	select {
	case p.incoming <- ic:
	default:
		p.t.Errorf("siptest: phone %s: %d incoming calls not read, dropping %s", p.opts.User, incomingBuffer, ic.CallID())
	}

	if ringFor == 0 && code <= 0 { // manual
		select {
		case <-ic.finalSent:
		case <-ic.cancelled:
		case <-tx.Done():
		case <-p.ctx.Done():
		}
		return
	}
	if err := ic.Respond(180, nil); err != nil {
		return
	}
	var ring <-chan time.Time
	switch {
	case ringFor < 0:
		ring = nil // until cancelled
	case ringFor > 0:
		t := time.NewTimer(ringFor)
		defer t.Stop()
		ring = t.C
	default:
		ch := make(chan time.Time)
		close(ch)
		ring = ch
	}
	select {
	case <-ring:
	case <-ic.cancelled:
		return
	case <-ic.finalSent:
		return
	case <-tx.Done():
		return
	case <-p.ctx.Done():
		return
	}
	_ = ic.Respond(code, sdp)
}

func (p *Phone) newIncoming(req *sip.Request, tx sip.ServerTransaction) *IncomingCall {
	tag := newTag()
	req.To().Params.Add("tag", tag)
	d := newDialog(p, req.CallID().Value(), tag)
	d.localURI = *req.To().Address.Clone()
	d.remoteURI = *req.From().Address.Clone()
	d.remoteTag, _ = req.From().Params.Get("tag")
	if c := req.Contact(); c != nil {
		d.remoteTarget = *c.Address.Clone()
	}
	for _, rr := range req.GetHeaders("Record-Route") {
		d.routeSet = append(d.routeSet, rr.Value())
	}
	d.localCSeq = 1
	ic := &IncomingCall{
		Dialog:     d,
		Request:    messageOfRequest(req),
		From:       req.From().Value(),
		To:         req.To().Value(),
		RequestURI: req.Recipient.String(),
		SDP:        append([]byte(nil), req.Body()...),
		req:        req,
		tx:         tx,
		finalSent:  make(chan struct{}),
		cancelled:  make(chan struct{}),
	}
	if stx, ok := tx.(*sip.ServerTx); ok && stx.Connection() != nil {
		ic.LocalAddr, _ = netip.ParseAddrPort(stx.Connection().LocalAddr().String())
	}
	if !tx.OnCancel(func(r *sip.Request) { ic.markCancelled(r) }) {
		ic.markCancelled(nil)
	}
	p.addDialog(d)
	return ic
}

func (c *IncomingCall) markCancelled(r *sip.Request) {
	c.cancelOnce.Do(func() {
		if r != nil {
			c.cancelReq = messageOfRequest(r)
		}
		close(c.cancelled)
	})
	c.end(nil)
}

// CancelRequest is the CANCEL that ended the INVITE, nil before.
func (c *IncomingCall) CancelRequest() *Message {
	select {
	case <-c.cancelled:
		return c.cancelReq
	default:
		return nil
	}
}

// Respond sends a response to the INVITE: a provisional (180, 183 with sdp)
// or a final one (2xx with sdp, or an error code).
func (c *IncomingCall) Respond(code int, sdp []byte) error {
	if code < 100 || code > 699 {
		return fmt.Errorf("siptest: status %d", code)
	}
	select {
	case <-c.finalSent:
		return errors.New("siptest: final response already sent")
	case <-c.cancelled:
		return errors.New("siptest: cancelled")
	default:
	}
	res := sip.NewResponseFromRequest(c.req, code, reasonPhrase(code), sdp)
	res.AppendHeader(sip.NewHeader("User-Agent", c.p.opts.UserAgent))
	if code > 100 && code < 300 {
		res.AppendHeader(c.p.contactHeader())
	}
	if len(sdp) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if code >= 200 && code < 300 {
		c.mu.Lock()
		c.localSDP = sdp
		c.established = true
		c.mu.Unlock()
	}
	if err := c.tx.Respond(res); err != nil {
		return err
	}
	if code >= 200 {
		c.finalOnce.Do(func() { close(c.finalSent) })
		if code >= 300 {
			c.end(nil)
		}
	}
	return nil
}

// WaitCancel waits until the caller cancels the INVITE (the phone's
// transaction layer has then answered 200 to the CANCEL and 487 to the INVITE).
func (c *IncomingCall) WaitCancel(ctx context.Context) error {
	select {
	case <-c.cancelled:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.p.ctx.Done():
		return ErrClosed
	}
}

// Cancelled reports whether the caller cancelled.
func (c *IncomingCall) Cancelled() bool {
	select {
	case <-c.cancelled:
		return true
	default:
		return false
	}
}

// WaitAck waits for the ACK to the phone's 2xx.
func (c *IncomingCall) WaitAck(ctx context.Context) error {
	select {
	case <-c.acked:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.p.ctx.Done():
		return ErrClosed
	}
}

// String is for test logs.
func (c *IncomingCall) String() string {
	return fmt.Sprintf("INVITE %s from %s (Call-ID %s)", c.RequestURI, strings.TrimSpace(c.From), c.CallID())
}
