package sip

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// notifyTimeout bounds one NOTIFY of a transfer's progress.
const notifyTimeout = 8 * time.Second

// ErrBadRefer: a REFER whose Refer-To cannot be used.
var ErrBadRefer = errors.New("bad refer")

// DialogRef names a dialog by Call-ID and its two tags, as a Replaces header
// does (RFC 3891). Which tag is whose depends on the side; Matches accepts
// either order.
type DialogRef struct {
	CallID  string
	ToTag   string
	FromTag string
}

// Matches reports whether ref names the dialog with callID and the tags a
// and b, in either order.
func (r DialogRef) Matches(callID, a, b string) bool {
	if r.CallID != callID {
		return false
	}
	return (r.ToTag == a && r.FromTag == b) || (r.ToTag == b && r.FromTag == a)
}

// ReferReceived: the peer sent REFER inside the dialog (RFC 3515), asking
// Ringdesk to transfer the call's other party to Target. The server has
// answered 202 Accepted and sent the first NOTIFY (100 Trying); the consumer
// reports the outcome with Refer.Notify.
type ReferReceived struct {
	// Target is the Refer-To URI without its headers.
	Target string
	// User is the Refer-To URI's user part (an extension or a number).
	User string
	// Replaces is set for an attended transfer (REFER with Replaces,
	// RFC 3891): the dialog the target should take over.
	Replaces *DialogRef
	// ReferredBy is the Referred-By header, "" when absent.
	ReferredBy string
	// Refer reports the transfer's progress to the referrer.
	Refer *Refer
}

func (ReferReceived) sipEvent() {}

// Refer is the implicit subscription a REFER creates: NOTIFYs with a
// message/sipfrag body tell the referrer how the transfer goes.
type Refer struct {
	d     *dialog
	cseq  uint32
	quiet bool // Refer-Sub: false (RFC 4488): no NOTIFY wanted

	mu   sync.Mutex
	done bool
}

// Notify sends the transfer's progress: a provisional code (100, 180) keeps
// the subscription active, a final one (200 when the target answered, the
// failure otherwise) terminates it. Calls after the final one do nothing.
// It blocks until the referrer answers the NOTIFY or ctx ends.
func (r *Refer) Notify(ctx context.Context, code int, reason string) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil
	}
	final := code >= 200
	if final {
		r.done = true
	}
	if r.quiet {
		return nil
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	body := []byte("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
	req, err := r.d.newRequest(sip.NOTIFY, body, "message/sipfrag;version=2.0")
	if err != nil {
		return err
	}
	ev := "refer"
	if r.cseq != 0 {
		ev += ";id=" + strconv.FormatUint(uint64(r.cseq), 10)
	}
	req.AppendHeader(sip.NewHeader("Event", ev))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	d := r.d
	d.mu.Lock()
	contact := d.contact
	d.mu.Unlock()
	req.AppendHeader(&contact)
	res, err := d.s.do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("notify answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// handleRefer answers a REFER: 400 when Refer-To is missing or unusable,
// otherwise 202, the first NOTIFY and a ReferReceived event.
func (d *dialog) handleRefer(req *sip.Request, tx sip.ServerTransaction) {
	s := d.s
	hs := req.GetHeaders("Refer-To")
	if len(hs) == 0 {
		hs = req.GetHeaders("r") // compact form (RFC 3515 §2.1)
	}
	if len(hs) != 1 {
		s.respond(tx, req, 400, "Bad Request", sip.NewHeader("Warning", warning(s.cfg.UserAgent, "exactly one Refer-To required")))
		return
	}
	ev, err := parseReferTo(hs[0].Value())
	if err != nil {
		s.respond(tx, req, 400, "Bad Request", sip.NewHeader("Warning", warning(s.cfg.UserAgent, err.Error())))
		return
	}
	if h := req.GetHeader("Referred-By"); h != nil {
		ev.ReferredBy = h.Value()
	}
	r := &Refer{d: d}
	if h := req.GetHeader("Refer-Sub"); h != nil && strings.EqualFold(strings.TrimSpace(h.Value()), "false") {
		r.quiet = true
		s.respond(tx, req, 202, "Accepted", sip.NewHeader("Refer-Sub", "false"))
	} else {
		s.respond(tx, req, 202, "Accepted")
	}
	ev.Refer = r
	r.mu.Lock() // the first NOTIFY goes before any the consumer sends
	started := s.goBackground(func() {
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		defer cancel()
		if err := r.Notify(ctx, 100, "Trying"); err != nil {
			d.log.Debug("first notify failed", "error", err)
		}
	})
	if !started {
		r.mu.Unlock()
		return
	}
	d.events.emit(ev)
}

// parseReferTo reads a Refer-To value: a SIP URI, maybe with an escaped
// Replaces header (sip:1002@pbx?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2).
func parseReferTo(v string) (ReferReceived, error) {
	var ev ReferReceived
	var u sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(strings.TrimSpace(v), &u, &params); err != nil {
		return ev, fmt.Errorf("%w: refer-to: %w", ErrBadRefer, err)
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return ev, fmt.Errorf("%w: refer-to scheme %q", ErrBadRefer, u.Scheme)
	}
	if u.User == "" {
		return ev, fmt.Errorf("%w: refer-to has no user", ErrBadRefer)
	}
	if u.Host == "" || strings.ContainsAny(u.Host, "<>\"\\ ") || u.Port < 0 || u.Port > 65535 {
		return ev, fmt.Errorf("%w: refer-to host %q", ErrBadRefer, u.Host)
	}
	for _, kv := range u.Headers {
		if !strings.EqualFold(kv.K, "Replaces") {
			continue
		}
		if ev.Replaces != nil {
			return ev, fmt.Errorf("%w: two Replaces", ErrBadRefer)
		}
		raw, err := url.QueryUnescape(kv.V)
		if err != nil {
			return ev, fmt.Errorf("%w: replaces: %w", ErrBadRefer, err)
		}
		ref, err := parseReplaces(raw)
		if err != nil {
			return ev, err
		}
		ev.Replaces = &ref
	}
	user, err := url.PathUnescape(u.User)
	if err != nil {
		return ev, fmt.Errorf("%w: refer-to user: %w", ErrBadRefer, err)
	}
	if !dialable(user) {
		return ev, fmt.Errorf("%w: refer-to user %q is not a number or name", ErrBadRefer, user)
	}
	ev.User = user
	u.Headers = nil
	ev.Target = u.String()
	return ev, nil
}

// dialable: a user part that can name an extension or a number: printable
// ASCII without separators, at most 64 characters.
func dialable(user string) bool {
	if user == "" || len(user) > 64 {
		return false
	}
	for _, r := range user {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`/\<>"@;?&=`, r) {
			return false
		}
	}
	return true
}

// parseReplaces reads "call-id;to-tag=a;from-tag=b[;early-only]" (RFC 3891 §6.1).
func parseReplaces(v string) (DialogRef, error) {
	parts := strings.Split(v, ";")
	ref := DialogRef{CallID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			ref.ToTag = val
		case "from-tag":
			ref.FromTag = val
		}
	}
	if ref.CallID == "" || ref.ToTag == "" || ref.FromTag == "" {
		return DialogRef{}, fmt.Errorf("%w: replaces %q needs a call-id, to-tag and from-tag", ErrBadRefer, v)
	}
	return ref, nil
}

// tags returns the dialog's Call-ID and its local and remote tags.
func (d *dialog) tags() (callID, local, remote string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.id.callID, d.id.local, d.id.remote
}

// MatchesDialog reports whether ref names this call's dialog.
func (c *InboundCall) MatchesDialog(ref DialogRef) bool {
	id, l, r := c.d.tags()
	return ref.Matches(id, l, r)
}

// MatchesDialog reports whether ref names this call's dialog.
func (c *OutboundCall) MatchesDialog(ref DialogRef) bool {
	id, l, r := c.d.tags()
	return ref.Matches(id, l, r)
}
