package peertest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Mid-call commands of baresip 1.0's menu module, as verified against SIPp
// (test/peers/sipp/uas_refer.xml): "/hold" (key x), "/resume" (X) and
// "/transfer URI" (t). The console answers "command not found (hold)" when
// there is no call, because the menu registers these commands only while a
// call exists. baresip 1.0 has no attended-transfer command (no
// "/atransfer"); see Transfer.

// Hold puts the current call on hold ("/hold"). baresip logs "call: hold
// PEER_URI" and sends a re-INVITE whose SDP offers a=sendonly (RFC 3264
// §8.4) with the o= version raised by one. Although it offers sendonly, it
// sends no RTP while on hold, whether the answer says a=recvonly or
// a=sendrecv, until Resume. It returns once the command was accepted, not
// when the re-INVITE is answered (see SIPpRun.WaitReceived).
func (p *BaresipPhone) Hold(ctx context.Context) error {
	return p.callCommand(ctx, "/hold", `call: hold `)
}

// Resume takes the current call off hold ("/resume"). baresip logs "call:
// resume PEER_URI", sends a re-INVITE offering a=sendrecv and sends RTP
// again. It returns once the command was accepted, not when the re-INVITE
// is answered.
func (p *BaresipPhone) Resume(ctx context.Context) error {
	return p.callCommand(ctx, "/resume", `call: resume `)
}

// Transfer makes a blind transfer of the current call to uri ("/transfer
// URI"), logged as "transferring call to URI". baresip sends an in-dialog
// REFER (RFC 3515) whose only extra header is "Refer-To: URI", the argument
// copied verbatim, so without angle brackets unless uri has them (no
// Referred-By, no Refer-Sub). It then waits for the NOTIFYs of the implicit
// subscription (message/sipfrag bodies) and answers each with 200; neither
// the 202 nor a "SIP/2.0 100 Trying" NOTIFY makes it hang up. On the NOTIFY
// that carries a final status it sends BYE a few milliseconds after its 200:
// for "SIP/2.0 200 OK", and also for a failure such as "SIP/2.0 486 Busy
// Here", which it first logs as "call: transfer failed: 486 Busy Here". Wait
// for the end with WaitTerminated.
//
// Attended transfer has no command in baresip 1.0. A REFER with Replaces
// (RFC 3891) can still be sent by hand, since uri goes into Refer-To as
// given: Transfer(ctx, "<sip:TARGET?Replaces=CALLID%3Bto-tag%3DT%3Bfrom-tag%3DF>"),
// with the consultation call's Call-ID and tags taken from a SIP trace
// (Extra "-s"; see Dialogs and BaresipDialog.Replaces); baresip does not
// print its dialog tags otherwise. Line picks the call that sends the REFER.
func (p *BaresipPhone) Transfer(ctx context.Context, uri string) error {
	if uri == "" || strings.ContainsAny(uri, "\r\n") {
		return fmt.Errorf("baresip %s transfer: bad target %q", p.Config.User, uri)
	}
	return p.callCommand(ctx, "/transfer "+uri, `transferring call to `+regexp.QuoteMeta(uri))
}

// Line makes call line n the current call ("/line N"), the one the
// mid-call commands act on. baresip numbers its calls from 1 in the order
// they began ("/listcalls"), and a call it dials becomes the current one.
// It confirms on the console only: "setting current call: line N".
func (p *BaresipPhone) Line(ctx context.Context, n int) error {
	cmd := "/line " + strconv.Itoa(n)
	out, err := p.Ctl(ctx, cmd)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "setting current call: line "+strconv.Itoa(n)) {
		return fmt.Errorf("baresip %s: %q not confirmed; console said %q", p.Config.User, cmd, out)
	}
	return nil
}

// callCommand sends a console command that needs a call and waits for the
// log line (a regular expression) by which baresip confirms it.
func (p *BaresipPhone) callCommand(ctx context.Context, cmd, confirm string) error {
	off := p.LogOffset()
	out, err := p.Ctl(ctx, cmd)
	if err != nil {
		return err
	}
	if strings.Contains(out, "command not found") {
		return fmt.Errorf("baresip %s: %q: command not found (no call?)", p.Config.User, cmd)
	}
	if _, err := p.WaitLogSince(ctx, off, confirm); err != nil {
		return fmt.Errorf("baresip %s: %q not confirmed: %w", p.Config.User, cmd, err)
	}
	return nil
}

// baresipTrace matches one message of baresip's SIP trace (Extra "-s"),
// which it prints as it sends or receives it:
//
//	ESC[36;1m#
//	UDP 127.0.0.1:5090 -> 127.0.0.1:5060
//	INVITE sip:1003@127.0.0.1:5060 SIP/2.0     (the message, CRLF line ends)
//	...
//	ESC[;m
//
// A block may start right after a status line ("[0:00:03] audio=...\r").
var baresipTrace = regexp.MustCompile(`(?s)\x1b\[36;1m#\n(\w+) (\S+) -> (\S+)\n(.*?)\x1b\[;m`)

// SIPMessages returns the SIP messages of baresip's SIP trace so far (needs
// Extra "-s"), in order. Sent is set for those that left from its own SIP
// address (so this tells sent from received over UDP only); Time is empty.
func (p *BaresipPhone) SIPMessages() []SIPMessage {
	own := net.JoinHostPort(p.Config.IP, strconv.Itoa(p.Config.Port))
	var msgs []SIPMessage
	for _, m := range baresipTrace.FindAllStringSubmatch(p.Log(), -1) {
		msgs = append(msgs, SIPMessage{Sent: m[2] == own, Transport: m[1], Text: m[4]})
	}
	return msgs
}

// BaresipDialog is one of baresip's INVITE dialogs (RFC 3261 §12) as its SIP
// trace shows it.
type BaresipDialog struct {
	CallID string
	// LocalTag is baresip's tag in the dialog, RemoteTag its peer's.
	LocalTag, RemoteTag string
	// Outgoing is set when baresip sent the INVITE (it dialled); otherwise
	// it answered.
	Outgoing bool
	// Peer is the peer's URI: the To of an outgoing INVITE, the From of an
	// incoming one, without tag.
	Peer string
}

// Replaces returns the dialog as a Replaces header (RFC 3891 §6.1) escaped
// for the headers of a URI (RFC 3261 §19.1.1), for an attended transfer
// by Transfer: "CALLID%3Bto-tag%3DT%3Bfrom-tag%3DF". The tags are as the
// peer, which receives the Replaces, sees them (RFC 3891 §3: to-tag is its
// local tag): to-tag is the peer's tag, from-tag baresip's.
func (d BaresipDialog) Replaces() string {
	return url.QueryEscape(d.CallID) + "%3Bto-tag%3D" + url.QueryEscape(d.RemoteTag) +
		"%3Bfrom-tag%3D" + url.QueryEscape(d.LocalTag)
}

// Dialogs returns baresip's INVITE dialogs that a 2xx response to an INVITE
// in its SIP trace (Extra "-s") has confirmed, oldest first, one per
// Call-ID (re-INVITEs add none).
func (p *BaresipPhone) Dialogs() []BaresipDialog {
	var out []BaresipDialog
	seen := map[string]bool{}
	for _, m := range p.SIPMessages() {
		callID := SIPHeader(m.Text, "Call-ID")
		if !strings.HasPrefix(SIPStartLine(m.Text), "SIP/2.0 2") || !strings.HasSuffix(SIPHeader(m.Text, "CSeq"), " INVITE") || seen[callID] {
			continue
		}
		seen[callID] = true
		from, fromTag := uriAndTag(SIPHeader(m.Text, "From"))
		to, toTag := uriAndTag(SIPHeader(m.Text, "To"))
		d := BaresipDialog{CallID: callID, Outgoing: !m.Sent}
		if d.Outgoing { // baresip is the From side
			d.LocalTag, d.RemoteTag, d.Peer = fromTag, toTag, to
		} else {
			d.LocalTag, d.RemoteTag, d.Peer = toTag, fromTag, from
		}
		out = append(out, d)
	}
	return out
}

// uriAndTag splits a From or To value into its address and its tag.
func uriAndTag(v string) (uri, tag string) {
	uri, params := v, ""
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		uri, params = v[:i+1], v[i+1:]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		uri, params = v[:i], v[i:]
	}
	for _, p := range strings.Split(params, ";") {
		if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "tag") {
			tag = val
		}
	}
	return strings.TrimSpace(uri), tag
}

// WaitDialogs waits until Dialogs has at least n dialogs and returns them.
func (p *BaresipPhone) WaitDialogs(ctx context.Context, n int) ([]BaresipDialog, error) {
	var ds []BaresipDialog
	err := p.pollTrace(ctx, fmt.Sprintf("%d dialogs", n), func() bool {
		ds = p.Dialogs()
		return len(ds) >= n
	})
	return ds, err
}

// WaitDialogEnded waits until baresip's SIP trace shows the dialog d ended:
// an answer (2xx, or 481 when the two sides' BYEs crossed) to a BYE in it,
// whichever side sent the BYE.
func (p *BaresipPhone) WaitDialogEnded(ctx context.Context, d BaresipDialog) error {
	return p.pollTrace(ctx, "the end of dialog "+d.CallID, func() bool {
		for _, m := range p.SIPMessages() {
			if SIPHeader(m.Text, "Call-ID") != d.CallID || !strings.HasSuffix(SIPHeader(m.Text, "CSeq"), " BYE") {
				continue
			}
			if st := SIPStartLine(m.Text); strings.HasPrefix(st, "SIP/2.0 2") || strings.HasPrefix(st, "SIP/2.0 481") {
				return true
			}
		}
		return false
	})
}

// pollTrace polls done until it holds, ctx ends or baresip ends.
func (p *BaresipPhone) pollTrace(ctx context.Context, what string, done func() bool) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		exited := p.Exited() // before reading, so the last read sees all output
		if done() {
			return nil
		}
		if exited {
			return fmt.Errorf("baresip %s ended before its SIP trace showed %s; last lines:\n%s", p.Config.User, what, p.tail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("baresip %s: SIP trace (Extra \"-s\"?) did not show %s: %w; last lines:\n%s", p.Config.User, what, ctx.Err(), p.tail())
		case <-tick.C:
		}
	}
}
