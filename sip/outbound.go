package sip

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

// cancelTimeout bounds waiting for the answer to a CANCEL.
const cancelTimeout = 8 * time.Second

// InviteRequest describes an outgoing INVITE to one registered contact, or
// through a trunk to a number.
type InviteRequest struct {
	// Target is the registration to ring (unless Trunk is set).
	Target Binding
	// Trunk names the provider (Trunk.Name) to send the INVITE to, with To
	// as the Request-URI user (the number as the provider wants it); its
	// digest challenges are answered with the trunk's credentials.
	Trunk string
	// From is who is calling, shown to the callee: User and DisplayName.
	From Party
	// To is the user part of the To header, normally the dialed extension.
	To string
	// SDP is Ringdesk's offer.
	SDP []byte
	// Headers are extra headers, name -> value.
	Headers map[string]string
	// AssertedIdentity, when set, is the user of a P-Asserted-Identity
	// header (RFC 3325) at the INVITE's domain, for providers that take
	// the caller ID from it.
	AssertedIdentity string
}

// OutboundCall is an INVITE Ringdesk sent: the UAC side of a dialog.
type OutboundCall struct {
	// CallID is the SIP Call-ID of this leg.
	CallID string
	// Target is the registration being rung.
	Target Binding

	s   *Server
	d   *dialog
	req *sip.Request
	tx  sip.ClientTransaction

	auth *clientAuth // answers the trunk's challenges; nil for phones

	mu           sync.Mutex
	provisional  bool // a provisional response arrived: CANCEL may be sent
	cancelWant   bool
	cancelSent   bool
	cancelReason string
	final        bool
	answered     bool
}

// Invite sends an INVITE to r.Target and reports the leg's events to h, which
// is set before anything can happen. The returned call is ringing.
func (s *Server) Invite(ctx context.Context, r InviteRequest, h EventHandler) (*OutboundCall, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var target sip.Uri
	var auth *clientAuth
	domain, dest := "", ""
	if r.Trunk != "" {
		t, ok := s.trunks.get(r.Trunk)
		if !ok {
			return nil, fmt.Errorf("invite %s: %w: %q", r.To, ErrNoTrunk, r.Trunk)
		}
		b, err := s.trunkBinding(ctx, t, r.To)
		if err != nil {
			return nil, fmt.Errorf("invite %s via %s: %w", r.To, t.Name, err)
		}
		r.Target = b
		auth = newClientAuth(t)
		domain = t.Host // From and To name the provider's domain
		if _, err := netip.ParseAddr(t.Host); err != nil && t.Transport == "tls" {
			dest = t.HostPort() // by name, for the certificate check
		}
	}
	if dest == "" {
		dest = r.Target.Source.String()
	}
	if err := sip.ParseUri(r.Target.Contact, &target); err != nil {
		return nil, fmt.Errorf("invite %s: contact: %w", r.Target.Contact, err)
	}
	transport := r.Target.Transport
	if transport == "" {
		transport = "UDP"
	}
	l := s.listenerFor(transport)
	if l == nil {
		return nil, fmt.Errorf("invite %s: no %s listener", r.Target.Contact, transport)
	}
	if domain == "" {
		domain = l.advHost
	}
	callID := newCallID()
	tag := newTag()
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(s.via(transport))
	from := &sip.FromHeader{
		DisplayName: r.From.DisplayName,
		Address:     sip.Uri{Scheme: "sip", User: r.From.User, Host: domain}, Params: sip.NewParams(),
	}
	from.Params.Add("tag", tag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: r.To, Host: domain}, Params: sip.NewParams()}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	cseq := randomCSeq()
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.INVITE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	contact := s.contactFor(r.From.User, transport)
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	for k, v := range r.Headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	if r.AssertedIdentity != "" {
		pai := sip.Uri{Scheme: "sip", User: r.AssertedIdentity, Host: domain}
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<"+pai.String()+">"))
	}
	if len(r.SDP) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	req.SetBody(r.SDP)
	s.route(req, transport, dest)

	d := s.newDialog(dialogID{callID: callID, local: tag}, s.log.With("sip_call_id", callID))
	d.localHdr = *from
	d.remoteHdr = *to
	d.remoteTarget = target
	d.localCSeq = cseq
	d.dest = dest
	d.transport = transport
	d.contact = contact
	d.events.set(h)

	c := &OutboundCall{CallID: callID, Target: r.Target, s: s, d: d, req: req, auth: auth}
	tx, err := s.client.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		return nil, fmt.Errorf("invite %s: %w", r.Target.Contact, err)
	}
	c.tx = tx
	if !s.goBackground(c.run) {
		tx.Terminate()
		return nil, ErrClosed
	}
	return c, nil
}

// run reads the INVITE's responses until the final one.
func (c *OutboundCall) run() {
	for {
		c.mu.Lock()
		tx := c.tx
		c.mu.Unlock()
		select {
		case res := <-tx.Responses():
			if done := c.handleResponse(res); done {
				return
			}
		case <-tx.Done():
			c.mu.Lock()
			final := c.final
			c.final = true
			c.mu.Unlock()
			if !final {
				code, reason := 408, "Request Timeout"
				if errors.Is(tx.Err(), sip.ErrTransactionTransport) {
					code, reason = 503, "Service Unavailable"
				}
				c.d.end()
				c.d.events.emit(Rejected{Code: code, Reason: reason, Err: tx.Err()})
			}
			return
		case <-c.s.done:
			return
		}
	}
}

func (c *OutboundCall) handleResponse(res *sip.Response) bool {
	d := c.d
	switch {
	case res.IsProvisional():
		c.mu.Lock()
		c.provisional = true
		sendCancel := c.cancelWant && !c.cancelSent
		if sendCancel {
			c.cancelSent = true
		}
		c.mu.Unlock()
		if sendCancel {
			c.s.goBackground(c.sendCancel)
			return false
		}
		if res.StatusCode == 100 {
			return false
		}
		ev := ProgressReceived{Code: res.StatusCode, Reason: res.Reason}
		if isSDPResponse(res) {
			ev.SDP = res.Body()
		}
		d.events.emit(ev)
		return false
	case res.IsSuccess():
		c.mu.Lock()
		c.final = true
		c.mu.Unlock()
		err := c.establish(res)
		// A Cancel that came while the 2xx was being taken is honoured
		// now, with BYE; one that comes later finds the leg answered.
		c.mu.Lock()
		cancelled := c.cancelWant
		c.answered = err == nil && !cancelled
		c.mu.Unlock()
		if err != nil {
			d.log.Warn("bad 2xx to invite", "error", err)
			c.byeInBackground()
			d.events.emit(Rejected{Code: 502, Reason: "Bad Gateway", Err: err})
			return true
		}
		if cancelled {
			// The 2xx crossed our CANCEL (RFC 3261 §9.1): take it and hang up.
			c.byeInBackground()
			d.events.emit(Rejected{Code: 487, Reason: "Request Terminated"})
			return true
		}
		ua := ""
		if h := res.GetHeader("Server"); h != nil {
			ua = h.Value()
		} else if h := res.GetHeader("User-Agent"); h != nil {
			ua = h.Value()
		}
		ev := Answered{UserAgent: ua}
		if isSDPResponse(res) {
			ev.SDP = res.Body()
		}
		d.events.emit(ev)
		return true
	default:
		var authErr error
		if (res.StatusCode == 401 || res.StatusCode == 407) && c.auth != nil {
			if authErr = c.reauth(res); authErr == nil {
				return false // the authenticated INVITE's responses come next
			}
			d.log.Warn("trunk challenge not answered", "code", res.StatusCode, "error", authErr)
		}
		c.mu.Lock()
		c.final = true
		c.mu.Unlock()
		d.end()
		d.events.emit(Rejected{Code: res.StatusCode, Reason: res.Reason, Err: authErr})
		return true
	}
}

// reauth sends the INVITE again with credentials answering res, a 401 or
// 407 (RFC 3261 §22.2): a new transaction (new branch, next CSeq) of the
// same dialog attempt. A CANCEL wanted meanwhile stops there.
func (c *OutboundCall) reauth(res *sip.Response) error {
	c.mu.Lock()
	prev := c.req
	stop := c.cancelWant
	c.mu.Unlock()
	if stop {
		return errors.New("cancelled")
	}
	hdr, err := c.auth.authorize(prev, res)
	if err != nil {
		return err
	}
	req := prev.Clone()
	req.RemoveHeader("Via")
	req.PrependHeader(c.s.via(prev.Transport()))
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	req.AppendHeader(hdr)
	d := c.d
	d.mu.Lock()
	d.localCSeq++
	req.CSeq().SeqNo = d.localCSeq
	d.mu.Unlock()
	c.s.route(req, prev.Transport(), prev.Destination())
	tx, err := c.s.client.TransactionRequest(context.Background(), req, prebuilt)
	if err != nil {
		return fmt.Errorf("send authenticated invite: %w", err)
	}
	c.mu.Lock()
	c.req, c.tx, c.provisional = req, tx, false
	c.mu.Unlock()
	return nil
}

// byeInBackground hangs up a 2xx Ringdesk does not want.
func (c *OutboundCall) byeInBackground() {
	c.s.goBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		if err := c.d.bye(ctx, ""); err != nil {
			c.d.log.Debug("bye of an unwanted 2xx failed", "error", err)
		}
	})
}

// establish turns the early dialog into a confirmed one on a 2xx: it takes
// the peer's tag, Contact and Record-Route, enters the dialog into the table
// and sends the ACK (RFC 3261 §12.1.2, §13.2.2.4).
func (c *OutboundCall) establish(res *sip.Response) error {
	d := c.d
	tag, _ := res.To().Params.Get("tag")
	d.mu.Lock()
	d.id.remote = tag
	d.remoteHdr = sip.ToHeader{DisplayName: res.To().DisplayName, Address: *res.To().Address.Clone(), Params: res.To().Params.Clone()}
	if ct := res.Contact(); ct != nil {
		d.remoteTarget = *ct.Address.Clone()
	} // else keep the INVITE's target: lenient to a 2xx without Contact
	d.routeSet = nil
	rrs := res.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		d.routeSet = append(d.routeSet, rrs[i].Value())
	}
	d.mu.Unlock()
	c.s.dialogs.add(d)
	c.tx.OnRetransmission(func(r *sip.Response) {
		if !r.IsSuccess() {
			return
		}
		if t, _ := r.To().Params.Get("tag"); t != tag {
			// A second fork answered: take its 2xx and hang it up.
			c.s.goBackground(func() { c.s.ackAndBye(r) })
			return
		}
		d.retransmitAck(r)
	})
	// Every 2xx is acknowledged, even one we then refuse, or the callee
	// retransmits it for 32 s (RFC 3261 §13.2.2.4).
	ack, err := d.newAck(res.CSeq().SeqNo)
	if err != nil {
		return err
	}
	if err := c.s.client.WriteRequest(ack, prebuilt); err != nil {
		return fmt.Errorf("send ack: %w", err)
	}
	if tag == "" {
		return errors.New("2xx without To tag")
	}
	return nil
}

// Cancel stops ringing: CANCEL now if a provisional response has arrived,
// else as soon as one does (RFC 3261 §9.1: a CANCEL may not precede it). A
// callee that never responds at all ends with Timer B (Rejected 408); a 2xx
// that crosses the CANCEL is acknowledged and hung up, also when it was
// taken just before Cancel was called. The leg reports Rejected (487) once
// the callee confirms.
//
// reason, when not empty, goes into a Reason header (RFC 3326), e.g.
// `SIP;cause=200;text="Call completed elsewhere"`.
func (c *OutboundCall) Cancel(reason string) {
	c.mu.Lock()
	if c.cancelWant {
		c.mu.Unlock()
		return
	}
	c.cancelWant = true
	c.cancelReason = reason
	answered := c.answered
	send := !c.final && c.provisional
	if send {
		c.cancelSent = true
	}
	c.mu.Unlock()
	switch {
	case answered:
		// The 2xx won the race with our CANCEL: hang it up (RFC 3261 §15).
		c.byeInBackground()
	case send:
		c.s.goBackground(c.sendCancel)
	}
}

// sendCancel sends CANCEL for the INVITE (RFC 3261 §9.1): same Request-URI,
// Call-ID, From, To, CSeq number and top Via as the INVITE.
func (c *OutboundCall) sendCancel() {
	c.mu.Lock()
	inv := c.req
	c.mu.Unlock()
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	sip.CopyHeaders("Route", inv, req)
	req.AppendHeader(sip.NewHeader("User-Agent", c.s.cfg.UserAgent))
	c.mu.Lock()
	if c.cancelReason != "" {
		req.AppendHeader(sip.NewHeader("Reason", c.cancelReason))
	}
	c.mu.Unlock()
	req.SetBody(nil)
	c.s.route(req, inv.Transport(), inv.Destination())
	ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
	defer cancel()
	res, err := c.s.do(ctx, req)
	if err != nil {
		c.d.log.Debug("cancel failed", "error", err)
		return
	}
	if res.StatusCode >= 300 {
		c.d.log.Debug("cancel refused", "code", res.StatusCode)
	}
	// The INVITE's 487 (or a crossing 2xx) arrives through run.
}

// Hangup ends the leg: BYE when answered, CANCEL while ringing.
func (c *OutboundCall) Hangup(ctx context.Context, reason string) error {
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if !answered {
		c.Cancel(reason) //nolint:contextcheck // CANCEL/BYE outlive ctx on purpose, with their own timeout
		return nil
	}
	return c.d.bye(ctx, reason)
}

// SendInfo sends INFO inside the answered dialog.
func (c *OutboundCall) SendInfo(ctx context.Context, contentType string, body []byte) error {
	return c.d.sendInfo(ctx, contentType, body)
}

// Ended reports whether the dialog is over.
func (c *OutboundCall) Ended() bool { return c.d.isEnded() }

func isSDPResponse(res *sip.Response) bool {
	if len(res.Body()) == 0 {
		return false
	}
	ct := res.ContentType()
	return ct != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp")
}

// SetEventHandler sends the leg's further events to h (a leg moving to
// another call, as an attended transfer does).
func (c *OutboundCall) SetEventHandler(h EventHandler) { c.d.events.set(h) }
