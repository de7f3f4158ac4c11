package calls

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/sdp"
	"github.com/ringdesk/ringdesk/media/srtp"
	"github.com/ringdesk/ringdesk/sip"
)

// Leg is one SIP dialog of a call plus its RTP session. Only the call's
// supervisor goroutine touches a Leg.
type Leg struct {
	id    LegID
	dir   Direction
	party Party
	in    *sip.InboundCall  // inbound legs
	out   *sip.OutboundCall // outbound legs
	rtp   *media.Session
	trunk string // the trunk an outbound leg goes through

	local     sdp.Local // our SDP identity on this leg
	lastBody  []byte    // the last SDP body we sent (to bump the version only on change)
	offer     *sdp.Offer
	neg       sdp.Negotiated
	hasNeg    bool
	state     LegState
	heldSince time.Time
	// peerEnded: the peer ended the dialog (BYE, CANCEL, final failure), so
	// Ringdesk must not send BYE or CANCEL to it.
	peerEnded bool
	rec       LegRecord

	// conversation state, owned by the supervisor
	dial     *dial              // the attempt this outbound leg belongs to, nil for the first ring
	apiHeld  bool               // Ringdesk holds it: music, not heard
	heldAt   time.Time          // when apiHeld began
	parked   bool               // a transferor on its way out: neither hears nor is heard
	ringback bool               // waiting for a transfer target: hears ringback
	stream   *media.MusicStream // the shared stream it hears, nil for none
	part     *media.Participant // its place in the call's mixer, nil in relay mode
	inband   bool               // its mixer participant detects in-band DTMF
	lastKey  lastDigit

	// the dialplan
	quiet     bool // a caller in the flow between prompts: hears nothing
	rangOut   bool // an agent's phone that rang until the flow gave up
	busyAgent bool // presence counts the leg's agent on this call
}

// lastDigit remembers a leg's last keypress, to report a key a phone sends
// two ways (RFC 4733 and INFO) once.
type lastDigit struct {
	digit  byte
	source string
	at     time.Time
}

// codecs Ringdesk offers and accepts, in its own order of preference.
func supportedCodecs(first string) []sdp.Codec {
	if first == "PCMA" {
		return []sdp.Codec{sdp.PCMA, sdp.PCMU}
	}
	return []sdp.Codec{sdp.PCMU, sdp.PCMA}
}

func newLocal(s *media.Session, first string) sdp.Local {
	ap := s.LocalAddr()
	return sdp.Local{
		Addr:      ap.Addr(),
		Port:      ap.Port(),
		Codecs:    supportedCodecs(first),
		DTMF:      true,
		SessionID: uint64(randUint32()),
		Version:   1,
		Direction: sdp.SendRecv,
		Ptime:     20,
	}
}

// stamp makes body the leg's current local SDP: the version goes up only when
// the session changed since the last body sent (RFC 3264 §8).
func (l *Leg) stamp(build func(sdp.Local) []byte) []byte {
	body := build(l.local)
	if l.lastBody != nil && !sameSession(l.lastBody, body) {
		l.local.Version++
		body = build(l.local)
	}
	l.lastBody = body
	return body
}

// sameSession compares two of our SDP bodies ignoring the o= line.
func sameSession(a, b []byte) bool {
	strip := func(x []byte) []byte {
		var out [][]byte
		for _, ln := range bytes.Split(x, []byte("\n")) {
			if !bytes.HasPrefix(ln, []byte("o=")) {
				out = append(out, ln)
			}
		}
		return bytes.Join(out, []byte("\n"))
	}
	return bytes.Equal(strip(a), strip(b))
}

// answerOffer answers an SDP offer received on this leg and applies the
// result to its RTP session.
func (l *Leg) answerOffer(body []byte) ([]byte, error) {
	offer, err := sdp.ParseOffer(body)
	if err != nil {
		return nil, err
	}
	var neg sdp.Negotiated
	answer := l.stamp(func(loc sdp.Local) []byte {
		var a *sdp.Answer
		a, neg, err = offer.Answer(loc)
		if err != nil {
			return nil
		}
		return a.Marshal()
	})
	if err != nil {
		l.lastBody = nil
		return nil, err
	}
	l.apply(neg)
	l.offer = nil
	return answer, nil
}

// makeOffer builds Ringdesk's offer for this leg.
//
// Before anything is negotiated on the leg, the session already accepts
// what the offer lists: the offerer must be ready to receive as soon as it
// has sent the offer (RFC 3264 §5.1), and a late-offer caller may send RTP
// before its ACK carries the answer.
func (l *Leg) makeOffer() []byte {
	body := l.stamp(func(loc sdp.Local) []byte {
		l.offer = sdp.NewOffer(loc)
		return l.offer.Marshal()
	})
	if !l.hasNeg {
		var p media.Params
		for _, c := range l.offer.Media().Codecs {
			if g := media.G711FromName(c.Name); g != media.G711Unknown {
				p.Recv = append(p.Recv, media.Payload{PayloadType: c.PayloadType, Codec: g})
			}
		}
		if d := l.offer.Media().DTMF; d != nil {
			p.Recv = append(p.Recv, media.Payload{PayloadType: d.PayloadType, DTMF: true})
		}
		if l.local.SRTP {
			p.SRTP = &srtp.Keys{} // no keys until the answer: nothing passes
		}
		l.rtp.SetParams(p) // nothing to send yet: no remote address
	}
	return body
}

// takeAnswer applies the peer's answer to the offer Ringdesk made.
func (l *Leg) takeAnswer(body []byte) error {
	if l.offer == nil {
		return fmt.Errorf("answer without an offer")
	}
	ans, err := sdp.ParseAnswer(body)
	if err != nil {
		return err
	}
	neg, err := ans.Negotiate(l.offer)
	if err != nil {
		return err
	}
	l.apply(neg)
	return nil
}

// apply sets the negotiated stream on the RTP session.
func (l *Leg) apply(n sdp.Negotiated) {
	l.neg = n
	l.hasNeg = true
	l.rec.Codec = n.Codec.Name
	p := media.Params{
		Remote:      n.Remote,
		Send:        n.Direction.Sends(),
		Codec:       media.G711FromName(n.Codec.Name),
		PayloadType: n.Codec.PayloadType,
		SRTP:        n.SRTP,
	}
	l.local.SRTP = n.SRTP != nil // our later offers (re-INVITEs) stay encrypted
	if n.SRTP != nil {
		l.rec.SRTP = n.SRTP.Suite.String()
	}
	if n.DTMF != nil {
		p.DTMFPayloadType = n.DTMF.PayloadType
	}
	for pt, c := range n.RecvPayloadTypes {
		if c.Name == "telephone-event" || c.Name == "TELEPHONE-EVENT" {
			p.Recv = append(p.Recv, media.Payload{PayloadType: pt, DTMF: true})
			continue
		}
		if g := media.G711FromName(c.Name); g != media.G711Unknown {
			p.Recv = append(p.Recv, media.Payload{PayloadType: pt, Codec: g})
		}
	}
	l.rtp.SetParams(p)
}

// holding reports whether the peer of this leg has put the call on hold: it
// offered sendonly or inactive, so we may not send to it (RFC 3264 §8.4).
func (l *Leg) holding() bool {
	return l.hasNeg && !l.neg.Direction.Sends()
}

// hangup ends the leg's dialog from Ringdesk's side: BYE when answered (it
// blocks until the peer answers the BYE), CANCEL or a final response while
// ringing. answered is the leg's state before it ended.
func (l *Leg) hangup(ctx context.Context, answered bool, cause Cause) error {
	switch {
	case l.in != nil && answered:
		return l.in.Hangup(ctx, cause.byeReason())
	case l.in != nil:
		return l.in.Reject(cause.Status(), cause.Reason())
	case l.out != nil && answered:
		return l.out.Hangup(ctx, cause.byeReason())
	case l.out != nil:
		l.out.Cancel(cause.cancelReason()) //nolint:contextcheck // CANCEL/BYE outlive the call on purpose, with their own timeout
	}
	return nil
}

// snapshot returns the leg's record with current counters.
func (l *Leg) snapshot() LegRecord {
	r := l.rec
	if l.rtp != nil {
		st := l.rtp.Stats()
		r.RxPackets, r.TxPackets = st.RxPackets, st.TxPackets
	}
	return r
}

// byeReason is the Reason header of a BYE: none for a normal hang-up (some
// phones, linphone among them, show any Reason as an error), the cause
// otherwise (media timeout, shutdown).
func (c Cause) byeReason() string {
	if c == CauseNormal || c == CauseTransferred {
		return ""
	}
	return c.Reason()
}

// cancelReason is the Reason header of a CANCEL for a ringing phone: "call
// completed elsewhere" (RFC 3326) keeps phones from showing a missed call
// when a colleague's phone answered.
func (c Cause) cancelReason() string {
	if c == CauseNormal {
		return `SIP;cause=200;text="Call completed elsewhere"`
	}
	return c.Reason()
}

func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%x", prefix, b)
}
