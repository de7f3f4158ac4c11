package sdp

import (
	"bytes"
	"fmt"
	"strings"

	pionsdp "github.com/pion/sdp/v3"

	"github.com/ringdesk/ringdesk/media/srtp"
)

// Offer is an SDP offer (RFC 3264 §5): one a peer sent, from ParseOffer, or
// Ringdesk's own, from NewOffer. It is a distinct type from Answer so that an
// offer cannot be applied as an answer. An Offer is immutable and safe for
// concurrent use.
type Offer struct {
	d description
}

// ParseOffer parses the body of a SIP message that carries an offer. It
// accepts LF line endings and a missing final line ending (see the package
// documentation for everything it tolerates). It fails with ErrTooLarge,
// ErrTooManyMedia or ErrMalformed; an offer without usable audio parses, and
// Answer then reports ErrNoAudio.
func ParseOffer(body []byte) (*Offer, error) {
	d, err := parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse offer: %w", err)
	}
	return &Offer{d: d}, nil
}

// Media returns the audio stream of the offer as the offerer describes it:
// the first audio m= line with a non-zero port and an RTP/AVP or RTP/AVPF
// profile, or an RTP/SAVP or RTP/SAVPF one with a usable a=crypto; else the
// first audio m= line; else the zero Media.
func (o *Offer) Media() Media {
	if o == nil {
		return Media{}
	}
	return o.d.media.clone()
}

// Marshal returns the offer's text with CRLF line endings and a final CRLF.
// A parsed offer comes out normalised, in RFC 4566 order.
func (o *Offer) Marshal() []byte {
	if o == nil {
		return nil
	}
	return o.d.marshal()
}

// NewOffer builds Ringdesk's offer (RFC 3264 §5): the session level from
// local, and one m=audio RTP/AVP line on local.Port with local's codecs in
// their order, telephone-event/8000 with fmtp 0-16 when local.DTMF, an
// a=rtpmap for every payload type, a=ptime when local.Ptime is set and the
// direction attribute.
//
// With local.SRTP the line is RTP/SAVP and carries an a=crypto per suite
// Ringdesk speaks (RFC 4568 §5.1), tag 1 AES_CM_128_HMAC_SHA1_80 and tag 2
// AES_CM_128_HMAC_SHA1_32, each with a fresh key from local.Rand. The offer
// keeps the keys, for Answer.Negotiate. Should local.Rand fail (crypto/rand
// does not), the line has no a=crypto: no answer to it negotiates, and
// nothing is sent unprotected.
func NewOffer(local Local) *Offer {
	codecs := local.offerCodecs()
	s := stream{
		port:   local.Port,
		proto:  "RTP/AVP",
		codecs: codecs,
		ptime:  local.Ptime,
		dir:    local.direction(),
	}
	if local.SRTP {
		s.proto = "RTP/SAVP"
		s.crypto = local.offerCrypto()
	}
	if local.DTMF {
		s.dtmf = &Codec{
			PayloadType: local.dtmfPayloadType(codecs),
			Name:        telephoneEvent,
			ClockRate:   dtmfClockRate,
			Fmtp:        dtmfEvents,
		}
	}
	sd := local.session()
	sd.MediaDescriptions = append(sd.MediaDescriptions, s.description())
	addr, _ := local.addr()
	return &Offer{d: description{sd: sd, audio: 0, media: mediaOf(sd, 0, addr)}}
}

// Answer answers the offer for Ringdesk as RFC 3264 §6 says:
//   - the answer has as many m= lines as the offer, in the same order; all
//     but the offer's audio stream (see Media) are rejected with port 0,
//     keeping their media type, protocol and formats;
//   - the audio stream lists every offered codec that local accepts (same
//     encoding name ignoring case, clock rate and channels; payload type
//     numbers do not matter), in the offerer's order and with the offerer's
//     payload types, then the offerer's telephone-event/8000 with its fmtp if
//     both sides have it (RFC 4733 §7.1.1);
//   - a=ptime repeats the offer's;
//   - the direction is the offer's reversed and limited to local.Direction
//     (RFC 3264 §6.1): an offered sendonly stream is answered recvonly, an
//     inactive one inactive;
//   - an RTP/SAVP (or RTP/SAVPF) stream is answered in the same profile with
//     one a=crypto (RFC 4568 §7.1.2): the tag and suite of the offer's first
//     usable a=crypto (the offerer's preference), and a fresh key of
//     Ringdesk's own from local.Rand, without lifetime or MKI. Negotiated.SRTP
//     then holds both keys.
//
// It fails with an error matching ErrNoCommonCodec when no codec is in common
// (telephone-event alone does not count), and also ErrNoAudio when the offer
// has no usable audio stream, ErrNoCrypto when its SRTP stream has no usable
// a=crypto. Callers answer 488 Not Acceptable Here.
func (o *Offer) Answer(local Local) (*Answer, Negotiated, error) {
	if o == nil || o.d.sd == nil {
		return nil, Negotiated{}, fmt.Errorf("answer offer: no offer: %w: %w", ErrNoAudio, ErrNoCommonCodec)
	}
	if err := usable(o.d.sd, o.d.audio); err != nil {
		return nil, Negotiated{}, fmt.Errorf("answer offer: %w", err)
	}
	offered := o.d.media
	accepted := local.codecs()
	var common []Codec // as the offerer describes them
	var ours []Codec   // the same in our answer: the offerer's payload type, our fmtp
	for _, c := range offered.Codecs {
		if l, ok := findCodec(accepted, c); ok {
			common = append(common, c)
			a := c
			a.Fmtp = ""
			if !strings.ContainsAny(l.Fmtp, "\r\n") {
				a.Fmtp = l.Fmtp
			}
			ours = append(ours, a)
		}
	}
	if len(common) == 0 {
		return nil, Negotiated{}, fmt.Errorf("answer offer of %s: %w", codecNames(offered.Codecs), ErrNoCommonCodec)
	}
	var crypto []Crypto
	var keys *srtp.Keys
	if isSecure(o.d.sd.MediaDescriptions[o.d.audio]) {
		if len(offered.Crypto) == 0 {
			return nil, Negotiated{}, fmt.Errorf("answer offer: m=audio line %d (%s): %s: %w: %w", o.d.audio+1, offered.Proto,
				cryptoReasons(o.d.sd.MediaDescriptions[o.d.audio]), ErrNoCrypto, ErrNoCommonCodec)
		}
		theirs := offered.Crypto[0] // every one listed is usable: take the offerer's first
		key, err := srtp.NewKey(theirs.Suite, local.Rand)
		if err != nil {
			return nil, Negotiated{}, fmt.Errorf("answer offer: %w", err)
		}
		crypto = []Crypto{{Tag: theirs.Tag, Suite: theirs.Suite, Key: key}}
		keys = &srtp.Keys{Suite: theirs.Suite, Local: bytes.Clone(key), Remote: bytes.Clone(theirs.Key), RemoteMKI: bytes.Clone(theirs.MKI)}
	}
	var dtmf *Codec
	if local.DTMF && offered.DTMF != nil {
		d := *offered.DTMF
		dtmf = &d
	}
	s := stream{
		port:   local.Port,
		proto:  offered.Proto,
		codecs: ours,
		dtmf:   dtmf,
		ptime:  offered.Ptime,
		dir:    intersect(offered.Direction.Reverse(), local.direction()),
		crypto: crypto,
	}

	sd := local.session()
	sd.MediaDescriptions = make([]*pionsdp.MediaDescription, len(o.d.sd.MediaDescriptions))
	for i, md := range o.d.sd.MediaDescriptions {
		if i == o.d.audio {
			sd.MediaDescriptions[i] = s.description()
		} else {
			sd.MediaDescriptions[i] = rejected(md)
		}
	}
	addr, _ := local.addr()
	a := &Answer{d: description{sd: sd, audio: o.d.audio, media: mediaOf(sd, o.d.audio, addr)}}

	n := Negotiated{
		Remote:           offered.RemoteAddr(),
		Codec:            common[0],
		RecvPayloadTypes: make(map[uint8]Codec, len(ours)+1),
		Direction:        s.dir,
		Ptime:            offered.Ptime,
		SRTP:             keys,
	}
	for _, c := range ours {
		n.RecvPayloadTypes[c.PayloadType] = c
	}
	if dtmf != nil {
		d := *dtmf
		n.DTMF = &d
		n.RecvPayloadTypes[d.PayloadType] = d
	}
	return a, n, nil
}

// codecNames lists codecs for an error message, e.g. "opus/48000/2, G729/8000".
func codecNames(codecs []Codec) string {
	if len(codecs) == 0 {
		return "no codec"
	}
	var b strings.Builder
	for i, c := range codecs {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 8 {
			fmt.Fprintf(&b, "and %d more", len(codecs)-i)
			break
		}
		_, enc, _ := strings.Cut(rtpmapValue(c), " ")
		b.WriteString(enc)
	}
	return b.String()
}
