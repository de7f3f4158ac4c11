package siptest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ErrNoFinal is reported by WaitAnswer when the INVITE transaction ended
// without a final response (timeout or transport error).
var ErrNoFinal = errors.New("siptest: no final response")

// DialOption modifies one Dial.
type DialOption func(*dialConfig)

type dialConfig struct {
	manualAck bool
	noAuth    bool
	headers   []Header
	user      string
	password  string
	digestURI string
}

// WithManualAck makes the call withhold the ACK for the 2xx until Call.Ack.
func WithManualAck() DialOption { return func(c *dialConfig) { c.manualAck = true } }

// WithoutAuth makes the call give up on a 401/407 instead of answering it.
func WithoutAuth() DialOption { return func(c *dialConfig) { c.noAuth = true } }

// WithHeader adds a header to the INVITE.
func WithHeader(name, value string) DialOption {
	return func(c *dialConfig) { c.headers = append(c.headers, Header{name, value}) }
}

// WithDigestURI computes the credentials for uri instead of the
// Request-URI, as a man in the middle replaying them elsewhere would.
func WithDigestURI(uri string) DialOption { return func(c *dialConfig) { c.digestURI = uri } }

// WithCredentials answers challenges with these credentials instead of the phone's.
func WithCredentials(user, password string) DialOption {
	return func(c *dialConfig) { c.user, c.password = user, password }
}

// Call is an INVITE the phone sent: the UAC side of a dialog.
type Call struct {
	*Dialog
	cfg dialConfig

	done    chan struct{} // closed when final or err is set
	mu      sync.Mutex
	inv     *sip.Request // the INVITE as last sent (after authentication)
	prov    []int
	early   *sip.Response // the last provisional with a To tag
	final   *Response
	chal    *Response
	err     error
	changed chan struct{}
}

// Dial sends INVITE sip:target@server with sdp as the offer (none: a late
// offer) and returns at once; the call answers 401/407 with digest
// credentials once, in the background. Use WaitAnswer for the outcome.
func (p *Phone) Dial(ctx context.Context, target string, sdp []byte, opts ...DialOption) (*Call, error) {
	var cfg dialConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.user == "" {
		cfg.user, cfg.password = p.opts.User, p.opts.Password
	}
	callID := newID()
	tag := newTag()
	req := sip.NewRequest(sip.INVITE, p.uri(target))
	from := &sip.FromHeader{DisplayName: p.opts.DisplayName, Address: p.aorURI(p.opts.User), Params: sip.NewParams()}
	from.Params.Add("tag", tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: p.aorURI(target), Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(p.contactHeader())
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"))
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	for _, h := range cfg.headers {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	if len(sdp) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	req.SetBody(sdp)
	p.route(req)

	d := newDialog(p, callID, tag)
	d.localURI = from.Address
	d.localName = p.opts.DisplayName
	d.remoteURI = p.aorURI(target)
	d.localCSeq = 1
	d.localSDP = sdp
	d.manualAck = cfg.manualAck
	c := &Call{Dialog: d, cfg: cfg, done: make(chan struct{}), inv: req, changed: make(chan struct{})}
	// The dialog is known under our tag from the start, so 2xx
	// retransmissions and in-dialog requests find it.
	p.addDialog(d)

	tx, err := p.cli.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	p.learnLocal()
	if err != nil {
		p.removeDialog(d)
		return nil, fmt.Errorf("invite %s: %w", target, err)
	}
	c.watchRetransmissions(tx)
	if err := p.goOwned(func() { c.run(tx) }); err != nil {
		tx.Terminate()
		p.removeDialog(d)
		return nil, err
	}
	return c, nil
}

// watchRetransmissions counts 2xx retransmissions and, unless the ACK is
// manual, acknowledges each again (RFC 3261 §13.2.2.4).
func (c *Call) watchRetransmissions(tx sip.ClientTransaction) {
	tx.OnRetransmission(func(res *sip.Response) {
		if !res.IsSuccess() {
			return
		}
		c.countRetransmission()
		if !c.cfg.manualAck {
			_ = c.sendAck(res.CSeq().SeqNo)
		}
	})
}

// run reads the INVITE's responses until a final one.
func (c *Call) run(tx sip.ClientTransaction) {
	p := c.p
	auths := 0
	for {
		select {
		case res := <-tx.Responses():
			switch {
			case res.IsProvisional():
				c.provisional(res)
			case (res.StatusCode == 401 || res.StatusCode == 407) && !c.cfg.noAuth && auths < 2:
				auths++
				next, err := c.authenticate(res)
				if err != nil {
					c.finish(responseOf(res), err)
					return
				}
				tx.Terminate()
				tx = next
			case res.IsSuccess():
				c.establish(res)
				r := c.finalResponse(res)
				if !c.cfg.manualAck {
					if err := c.sendAck(res.CSeq().SeqNo); err != nil {
						c.finish(r, fmt.Errorf("ack: %w", err))
						return
					}
				}
				c.finish(r, nil)
				return
			default:
				c.end(nil)
				c.finish(c.finalResponse(res), nil)
				return
			}
		case <-tx.Done():
			err := tx.Err()
			if err == nil {
				err = ErrNoFinal
			}
			c.end(nil)
			c.finish(nil, fmt.Errorf("%w: %w", ErrNoFinal, err))
			return
		case <-p.ctx.Done():
			tx.Terminate()
			c.finish(nil, ErrClosed)
			return
		}
	}
}

func (c *Call) finalResponse(res *sip.Response) *Response {
	r := responseOf(res)
	c.mu.Lock()
	r.Challenge = c.chal
	if h := c.inv.GetHeader("Proxy-Authorization"); h != nil {
		r.Authorization = h.Value()
	} else if h := c.inv.GetHeader("Authorization"); h != nil {
		r.Authorization = h.Value()
	}
	c.mu.Unlock()
	return r
}

// authenticate resends the INVITE with credentials for the challenge in res.
func (c *Call) authenticate(res *sip.Response) (sip.ClientTransaction, error) {
	p := c.p
	chalHdr, authHdr := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chalHdr, authHdr = "Proxy-Authenticate", "Proxy-Authorization"
	}
	c.mu.Lock()
	prev := c.inv
	c.chal = responseOf(res)
	c.mu.Unlock()
	var chals []string
	for _, h := range res.GetHeaders(chalHdr) {
		chals = append(chals, h.Value())
	}
	// A new request, not the old one edited: the old transaction may still
	// read its request while it acknowledges the challenge.
	req := prev.Clone()
	uri := req.Recipient.String()
	if c.cfg.digestURI != "" {
		uri = c.cfg.digestURI
	}
	auth, err := p.digest(chals, string(sip.INVITE), uri, c.cfg.user, c.cfg.password, 1)
	if err != nil {
		return nil, err
	}
	req.RemoveHeader(authHdr)
	req.AppendHeader(sip.NewHeader(authHdr, auth))
	req.CSeq().SeqNo++
	req.RemoveHeader("Via")
	c.Dialog.mu.Lock()
	c.localCSeq = req.CSeq().SeqNo
	c.Dialog.mu.Unlock()
	tx, err := p.cli.TransactionRequest(p.ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return nil, err
	}
	// Published only now: sipgo adds the Via while it sends, and Cancel
	// reads the INVITE to build its CANCEL.
	c.mu.Lock()
	c.inv = req
	c.mu.Unlock()
	c.watchRetransmissions(tx)
	return tx, nil
}

func (c *Call) provisional(res *sip.Response) {
	c.mu.Lock()
	c.prov = append(c.prov, res.StatusCode)
	// A 100 creates no early dialog (RFC 3261 §12.1), even with a tag.
	if tag, _ := res.To().Params.Get("tag"); tag != "" && res.StatusCode > 100 {
		c.early = res
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// establish takes the peer's tag, Contact and Record-Route from the 2xx
// (RFC 3261 §12.1.2).
func (c *Call) establish(res *sip.Response) {
	d := c.Dialog
	d.mu.Lock()
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
	d.signalLocked()
	d.mu.Unlock()
}

func (c *Call) finish(r *Response, err error) {
	c.mu.Lock()
	c.final, c.err = r, err
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	close(c.done)
}

// WaitAnswer waits for the final response and returns its status and body
// (the answer SDP of a 2xx). err is set when no final response came.
func (c *Call) WaitAnswer(ctx context.Context) (int, []byte, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.final == nil {
		return 0, nil, c.err
	}
	return c.final.Code, c.final.Body, c.err
}

// Final returns the final response, nil before it arrived.
func (c *Call) Final() *Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.final
}

// Provisionals returns the provisional status codes received, in the order
// the phone processed them (sipgo handles responses concurrently, so 100 and
// 180 may swap, and a provisional overtaken by the final one is dropped).
func (c *Call) Provisionals() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.prov...)
}

// WaitProvisional waits until a provisional response with code arrived.
func (c *Call) WaitProvisional(ctx context.Context, code int) error {
	for {
		c.mu.Lock()
		ok := slices.Contains(c.prov, code)
		ch, done := c.changed, c.final != nil || c.err != nil
		c.mu.Unlock()
		if ok {
			return nil
		}
		if done {
			return fmt.Errorf("siptest: call ended without %d (got %v)", code, c.Provisionals())
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Ack sends the ACK withheld by WithManualAck.
func (c *Call) Ack(context.Context) error {
	c.mu.Lock()
	final := c.final
	c.mu.Unlock()
	if final == nil || final.Code < 200 || final.Code >= 300 {
		return ErrNoDialog
	}
	return c.sendAck(final.CSeq)
}

// Cancel sends CANCEL for the INVITE (RFC 3261 §9.1) and returns the status
// of the answer to the CANCEL; the INVITE's own outcome (normally 487)
// comes through WaitAnswer.
func (c *Call) Cancel(ctx context.Context) (int, error) {
	c.mu.Lock()
	inv := c.inv
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
	req.SetBody(nil)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	res, err := c.p.cli.Do(ctx, req, func(*sipgo.Client, *sip.Request) error { return nil })
	if err != nil {
		return 0, fmt.Errorf("cancel: %w", err)
	}
	return res.StatusCode, nil
}

// Bye hangs up. Before the 2xx it sends BYE in the early dialog of the last
// provisional response that had a To tag, which RFC 3261 §15 discourages but
// a server must handle (§15.1.2).
func (c *Call) Bye(ctx context.Context, hdrs ...Header) (int, error) {
	c.mu.Lock()
	early, answered := c.early, c.final != nil
	c.mu.Unlock()
	if !answered && early != nil {
		c.Dialog.mu.Lock()
		if c.remoteTarget.Host == "" {
			c.remoteTag, _ = early.To().Params.Get("tag")
			if ct := early.Contact(); ct != nil {
				c.remoteTarget = *ct.Address.Clone()
			}
		}
		c.Dialog.mu.Unlock()
	}
	return c.Dialog.Bye(ctx, hdrs...)
}
