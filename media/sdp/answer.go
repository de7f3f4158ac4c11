package sdp

import (
	"bytes"
	"fmt"
	"net/netip"

	pionsdp "github.com/pion/sdp/v3"

	"github.com/ringdesk/ringdesk/media/srtp"
)

// Answer is an SDP answer (RFC 3264 §6): one a peer sent, from ParseAnswer,
// or Ringdesk's own, from Offer.Answer. It is a distinct type from Offer so
// that an answer cannot be applied as an offer. An Answer is immutable and
// safe for concurrent use.
type Answer struct {
	d description
}

// ParseAnswer parses the body of a SIP message that carries an answer, with
// the same tolerance and errors as ParseOffer.
func ParseAnswer(body []byte) (*Answer, error) {
	d, err := parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse answer: %w", err)
	}
	return &Answer{d: d}, nil
}

// Media returns the audio stream of the answer as the answerer describes it,
// chosen as Offer.Media chooses. For Ringdesk's own answers, that is the
// stream that answers the offer's audio.
func (a *Answer) Media() Media {
	if a == nil {
		return Media{}
	}
	return a.d.media.clone()
}

// Marshal returns the answer's text with CRLF line endings and a final CRLF.
func (a *Answer) Marshal() []byte {
	if a == nil {
		return nil
	}
	return a.d.marshal()
}

// Negotiated is the audio stream agreed by an offer and its answer, from
// Ringdesk's point of view.
type Negotiated struct {
	// Remote is where to send RTP. When its port is 0 or its address is
	// unspecified, do not send.
	Remote netip.AddrPort
	// Codec is the first codec in common: what we send, with the payload type
	// and fmtp the peer expects.
	Codec Codec
	// DTMF is telephone-event/8000 as the peer expects it, nil if not agreed.
	DTMF *Codec
	// RecvPayloadTypes is every payload type we may receive on this stream
	// and what it is: all common codecs and telephone-event, keyed by the
	// payload type numbers in use.
	RecvPayloadTypes map[uint8]Codec
	// Direction is our direction on this stream, what we may do: when the
	// peer offered sendonly, RecvOnly.
	Direction Direction
	// Ptime is the packet time the peer asked for with a=ptime, in
	// milliseconds, 0 if it did not (use the codec's default, 20 ms for
	// G.711).
	Ptime int
	// SRTP are the SDES keys of an RTP/SAVP stream (RFC 4568): the suite,
	// Ringdesk's key for what it sends and the peer's for what it receives.
	// nil for plain RTP. media.Params takes it as it is. It prints as
	// "[redacted]".
	SRTP *srtp.Keys
}

// Negotiate reads the peer's answer to offer, an offer Ringdesk made with
// NewOffer, on a leg where Ringdesk is the offerer (RFC 3264 §7). It takes the
// answer's stream at the position of the offer's audio stream. Codecs match
// by encoding name, clock rate and channels, so an answer may use other
// payload type numbers than the offer; codecs we did not offer are ignored.
// We send with the answer's payload types. It fails as Offer.Answer does, with
// ErrNoCommonCodec, and ErrNoAudio when the answer rejects or lacks the audio
// stream.
//
// To an RTP/SAVP offer (Local.SRTP) the answer must be SRTP too, else
// ErrSRTPRequired: Ringdesk does not fall back to plain RTP. Its first
// usable a=crypto with the tag and suite of one of ours is taken (RFC 4568
// §7.1.3), else ErrNoCrypto; Negotiated.SRTP pairs our key of that tag with
// the answerer's. An SRTP answer to a plain offer fails with ErrNoAudio.
func (a *Answer) Negotiate(offer *Offer) (Negotiated, error) {
	if offer == nil || offer.d.sd == nil {
		return Negotiated{}, fmt.Errorf("negotiate answer: no offer: %w: %w", ErrNoAudio, ErrNoCommonCodec)
	}
	if a == nil || a.d.sd == nil {
		return Negotiated{}, fmt.Errorf("negotiate answer: no answer: %w: %w", ErrNoAudio, ErrNoCommonCodec)
	}
	if err := usable(offer.d.sd, offer.d.audio); err != nil {
		return Negotiated{}, fmt.Errorf("negotiate answer: offer: %w", err)
	}
	idx, answered := a.d.audio, a.d.media
	if i := offer.d.audio; i < len(a.d.sd.MediaDescriptions) && i != idx && isAudio(a.d.sd.MediaDescriptions[i]) {
		addr, err := connAddr(a.d.sd, i)
		if err != nil {
			return Negotiated{}, fmt.Errorf("negotiate answer: %w", err)
		}
		idx, answered = i, mediaOf(a.d.sd, i, addr)
	}
	if err := usable(a.d.sd, idx); err != nil {
		return Negotiated{}, fmt.Errorf("negotiate answer: %w", err)
	}
	offered := offer.d.media
	keys, err := negotiateCrypto(offered, answered, a.d.sd.MediaDescriptions[idx], idx)
	if err != nil {
		return Negotiated{}, fmt.Errorf("negotiate answer: %w", err)
	}

	n := Negotiated{
		SRTP:             keys,
		Remote:           answered.RemoteAddr(),
		RecvPayloadTypes: make(map[uint8]Codec, 2*len(answered.Codecs)+2),
		Direction:        intersect(answered.Direction.Reverse(), offered.Direction),
		Ptime:            answered.Ptime,
	}
	// The peer sends with the payload types of our offer (RFC 3264 §5.1),
	// but some use those of their answer: accept both, ours first.
	var theirs []Codec
	for _, c := range answered.Codecs {
		if o, ok := findCodec(offered.Codecs, c); ok {
			if len(theirs) == 0 {
				n.Codec = c
			}
			theirs = append(theirs, c)
			n.RecvPayloadTypes[o.PayloadType] = o
		}
	}
	if len(theirs) == 0 {
		return Negotiated{}, fmt.Errorf("negotiate answer of %s: %w", codecNames(answered.Codecs), ErrNoCommonCodec)
	}
	if answered.DTMF != nil && offered.DTMF != nil {
		d := *answered.DTMF
		n.DTMF = &d
		n.RecvPayloadTypes[offered.DTMF.PayloadType] = *offered.DTMF
		theirs = append(theirs, d)
	}
	for _, c := range theirs {
		if _, ok := n.RecvPayloadTypes[c.PayloadType]; !ok {
			n.RecvPayloadTypes[c.PayloadType] = c
		}
	}
	return n, nil
}

// negotiateCrypto checks the profile of the answered stream against our
// offer's and, for SRTP, pairs our key with the answerer's (RFC 4568 §7.1.3).
// md is the answer's m= line idx.
func negotiateCrypto(offered, answered Media, md *pionsdp.MediaDescription, idx int) (*srtp.Keys, error) {
	switch {
	case !offered.Secure() && !answered.Secure():
		return nil, nil
	case !offered.Secure():
		return nil, fmt.Errorf("m=audio line %d answers our %s offer with %s: %w: %w",
			idx+1, offered.Proto, answered.Proto, ErrNoAudio, ErrNoCommonCodec)
	case !answered.Secure():
		return nil, fmt.Errorf("m=audio line %d answers our %s offer with %s: %w: %w",
			idx+1, offered.Proto, answered.Proto, ErrSRTPRequired, ErrNoCommonCodec)
	}
	for _, theirs := range answered.Crypto {
		for _, ours := range offered.Crypto {
			if ours.Tag == theirs.Tag && ours.Suite == theirs.Suite {
				return &srtp.Keys{
					Suite:     ours.Suite,
					Local:     bytes.Clone(ours.Key),
					Remote:    bytes.Clone(theirs.Key),
					RemoteMKI: bytes.Clone(theirs.MKI),
				}, nil
			}
		}
	}
	reasons := cryptoReasons(md)
	if len(answered.Crypto) > 0 {
		reasons = "no a=crypto with the tag and suite of one we offered"
	}
	return nil, fmt.Errorf("m=audio line %d (%s): %s: %w: %w", idx+1, answered.Proto, reasons, ErrNoCrypto, ErrNoCommonCodec)
}
