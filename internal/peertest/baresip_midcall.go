package peertest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
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
// (Extra "-s"); baresip does not print its dialog tags otherwise.
func (p *BaresipPhone) Transfer(ctx context.Context, uri string) error {
	if uri == "" || strings.ContainsAny(uri, "\r\n") {
		return fmt.Errorf("baresip %s transfer: bad target %q", p.Config.User, uri)
	}
	return p.callCommand(ctx, "/transfer "+uri, `transferring call to `+regexp.QuoteMeta(uri))
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
