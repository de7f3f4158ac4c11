package siptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ErrNoDialog is returned by in-dialog requests before the dialog exists.
var ErrNoDialog = errors.New("siptest: no dialog")

// Dialog is the state a call shares once it is established (RFC 3261 §12):
// both Call (placed by the phone) and IncomingCall (answered by it) embed
// one. Its methods send requests inside the dialog and wait for the peer's.
type Dialog struct {
	p         *Phone
	callID    string
	localTag  string
	localURI  sip.Uri
	localName string
	remoteURI sip.Uri
	manualAck bool

	ackOnce sync.Once
	acked   chan struct{} // closed when the ACK for our 2xx arrives

	mu           sync.Mutex
	remoteTag    string
	remoteTarget sip.Uri
	routeSet     []string
	localCSeq    uint32
	localSDP     []byte
	established  bool
	ended        bool
	bye          *Message
	received     []*Message
	retrans      int
	changed      chan struct{} // closed and replaced on every change above
}

func newDialog(p *Phone, callID, localTag string) *Dialog {
	return &Dialog{
		p:        p,
		callID:   callID,
		localTag: localTag,
		acked:    make(chan struct{}),
		changed:  make(chan struct{}),
	}
}

func (d *Dialog) key() string { return d.callID + "\x00" + d.localTag }

// signalLocked wakes every waiter; d.mu must be held.
func (d *Dialog) signalLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// wait blocks until ready (evaluated under d.mu) returns true or ctx ends.
func (d *Dialog) wait(ctx context.Context, ready func() bool) error {
	for {
		d.mu.Lock()
		ok := ready()
		ch := d.changed
		d.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-d.p.ctx.Done():
			return ErrClosed
		}
	}
}

// CallID is the dialog's Call-ID.
func (d *Dialog) CallID() string { return d.callID }

// LocalTag is the phone's tag.
func (d *Dialog) LocalTag() string { return d.localTag }

// RemoteTag is the peer's tag, "" before the dialog exists.
func (d *Dialog) RemoteTag() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.remoteTag
}

// Ended reports whether a BYE was sent or received.
func (d *Dialog) Ended() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ended
}

func (d *Dialog) record(req *sip.Request) {
	m := messageOfRequest(req)
	d.mu.Lock()
	d.received = append(d.received, m)
	d.signalLocked()
	d.mu.Unlock()
}

func (d *Dialog) end(bye *Message) {
	d.mu.Lock()
	d.ended = true
	if bye != nil && d.bye == nil {
		d.bye = bye
	}
	d.signalLocked()
	d.mu.Unlock()
	// The dialog stays in the phone's table: an ACK processed after the BYE
	// (sipgo handles messages concurrently) must still find it.
}

// Received returns the requests the peer sent inside the dialog (ACK, BYE,
// INFO, re-INVITE, ...), oldest first.
func (d *Dialog) Received() []*Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*Message(nil), d.received...)
}

// WaitRequest waits for the first request with the given method the peer
// sent inside the dialog, and returns it.
func (d *Dialog) WaitRequest(ctx context.Context, method string) (*Message, error) {
	var m *Message
	err := d.wait(ctx, func() bool {
		for _, r := range d.received {
			if strings.EqualFold(r.Method, method) {
				m = r
				return true
			}
		}
		return false
	})
	return m, err
}

// WaitBye waits until the peer hangs up and returns its BYE (which the
// phone has answered 200).
func (d *Dialog) WaitBye(ctx context.Context) (*Message, error) {
	var m *Message
	err := d.wait(ctx, func() bool { m = d.bye; return m != nil })
	return m, err
}

// Retransmissions is how many retransmissions of the peer's 2xx to the
// phone's INVITE arrived (RFC 3261 §13.3.1.4).
func (d *Dialog) Retransmissions() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.retrans
}

// WaitRetransmissions waits until at least n 2xx retransmissions arrived.
func (d *Dialog) WaitRetransmissions(ctx context.Context, n int) error {
	return d.wait(ctx, func() bool { return d.retrans >= n })
}

func (d *Dialog) countRetransmission() {
	d.mu.Lock()
	d.retrans++
	d.signalLocked()
	d.mu.Unlock()
}

// newRequest builds a request inside the dialog (RFC 3261 §12.2.1.1). cseq
// is used for ACK; other methods take the next local CSeq.
func (d *Dialog) newRequest(method sip.RequestMethod, contentType string, body []byte, cseq uint32, hdrs []Header) (*sip.Request, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.remoteTarget.Host == "" {
		return nil, ErrNoDialog
	}
	req := sip.NewRequest(method, *d.remoteTarget.Clone())
	from := &sip.FromHeader{DisplayName: d.localName, Address: *d.localURI.Clone(), Params: sip.NewParams()}
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
		d.localCSeq++
		cseq = d.localCSeq
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range d.routeSet {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	if method == sip.INVITE || method == sip.UPDATE {
		req.AppendHeader(d.p.contactHeader())
	}
	req.AppendHeader(sip.NewHeader("User-Agent", d.p.opts.UserAgent))
	for _, h := range hdrs {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	d.p.route(req)
	return req, nil
}

// sendAck acknowledges the 2xx to the INVITE with CSeq cseq (RFC 3261 §13.2.2.4).
func (d *Dialog) sendAck(cseq uint32) error {
	ack, err := d.newRequest(sip.ACK, "", nil, cseq, nil)
	if err != nil {
		return err
	}
	return d.p.cli.WriteRequest(ack, sipgo.ClientRequestBuild)
}

// Request sends method inside the dialog and returns the final response.
func (d *Dialog) Request(ctx context.Context, method, contentType string, body []byte, hdrs ...Header) (*Response, error) {
	req, err := d.newRequest(sip.RequestMethod(strings.ToUpper(method)), contentType, body, 0, hdrs)
	if err != nil {
		return nil, err
	}
	return d.p.do(ctx, req)
}

// Bye hangs up and returns the status of the peer's answer to the BYE.
func (d *Dialog) Bye(ctx context.Context, hdrs ...Header) (int, error) {
	req, err := d.newRequest(sip.BYE, "", nil, 0, hdrs)
	if err != nil {
		return 0, err
	}
	d.end(nil)
	res, err := d.p.do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.Code, nil
}

// Info sends INFO (e.g. application/dtmf-relay) and returns the status.
func (d *Dialog) Info(ctx context.Context, contentType string, body []byte) (int, error) {
	res, err := d.Request(ctx, "INFO", contentType, body)
	if err != nil {
		return 0, err
	}
	return res.Code, nil
}

// ReInvite sends a re-INVITE with sdp (hold: an offer with a=sendonly),
// acknowledges a 2xx, and returns the final status and the answer SDP.
func (d *Dialog) ReInvite(ctx context.Context, sdp []byte) (int, []byte, error) {
	ct := ""
	if len(sdp) > 0 {
		ct = "application/sdp"
	}
	req, err := d.newRequest(sip.INVITE, ct, sdp, 0, nil)
	if err != nil {
		return 0, nil, err
	}
	d.mu.Lock()
	d.localSDP = sdp
	d.mu.Unlock()
	tx, err := d.p.cli.TransactionRequest(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if res.IsSuccess() {
				if err := d.sendAck(res.CSeq().SeqNo); err != nil {
					return res.StatusCode, res.Body(), fmt.Errorf("ack: %w", err)
				}
			}
			return res.StatusCode, res.Body(), nil
		case <-tx.Done():
			return 0, nil, fmt.Errorf("re-INVITE: %w", tx.Err())
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-d.p.ctx.Done():
			return 0, nil, ErrClosed
		}
	}
}

// do sends req in a client transaction and returns its final response.
func (p *Phone) do(ctx context.Context, req *sip.Request) (*Response, error) {
	res, err := p.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	p.learnLocal()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.Method, err)
	}
	r := responseOf(res)
	if h := req.GetHeader("Authorization"); h != nil {
		r.Authorization = h.Value()
	} else if h := req.GetHeader("Proxy-Authorization"); h != nil {
		r.Authorization = h.Value()
	}
	return r, nil
}

func newTag() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
