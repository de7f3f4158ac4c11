package sdp

import (
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	pionsdp "github.com/pion/sdp/v3"

	"github.com/ringdesk/ringdesk/media/srtp"
)

// DefaultUserName is the o= username of Ringdesk's session descriptions when
// Local.UserName is empty.
const DefaultUserName = "ringdesk"

// Local is Ringdesk's side of one RTP session: what it puts in its offers and
// answers. Zero fields mean the documented defaults.
type Local struct {
	// Addr is the advertised address put in c= and o= (IPv4 or IPv6). The
	// zero Addr is written as 0.0.0.0.
	Addr netip.Addr
	// Port is our RTP port. 0 disables the stream (RFC 3264 §5.1).
	Port uint16
	// Codecs are the codecs we accept, in our preference order; empty means
	// PCMU, PCMA. Codecs that cannot be written into SDP (empty name,
	// payload type over 127, zero clock rate) and repeated payload types are
	// left out of our offers.
	Codecs []Codec
	// DTMF says we accept RFC 4733 telephone-event at 8000 Hz.
	DTMF bool
	// DTMFPayloadType is the payload type of telephone-event in our own
	// offers; 0 means 101. If a codec already uses it, the first free
	// dynamic payload type is used instead.
	DTMFPayloadType uint8
	// SessionID is the o= sess-id. The caller keeps it for the life of the
	// leg.
	SessionID uint64
	// Version is the o= sess-version. The caller increments it for each new
	// offer or answer that changes the session (RFC 3264 §8).
	Version uint64
	// Direction is what we want to do; DirectionUnknown means SendRecv.
	// Answers combine it with the offer's direction (RFC 3264 §6.1).
	Direction Direction
	// Ptime is the a=ptime of our offers in milliseconds when in 1-1000.
	// Answers repeat the offerer's a=ptime instead.
	Ptime int
	// UserName is the o= username; empty (or containing spaces or control
	// characters) means DefaultUserName.
	UserName string
	// SRTP makes our offers RTP/SAVP with SDES keys (RFC 4568), for a trunk
	// that requires SRTP: one a=crypto per suite Ringdesk speaks, tag 1
	// AES_CM_128_HMAC_SHA1_80 and tag 2 AES_CM_128_HMAC_SHA1_32, each with a
	// fresh key. Answer.Negotiate then refuses a plain RTP answer
	// (ErrSRTPRequired). Answers ignore it: they follow the offer's profile,
	// and answer an RTP/SAVP offer with a fresh key of their own.
	SRTP bool
	// Rand is where SRTP master keys come from; nil means crypto/rand. Tests
	// set it to make keys reproducible.
	Rand io.Reader
}

// codecs returns the codecs l accepts.
func (l Local) codecs() []Codec {
	if len(l.Codecs) == 0 {
		return []Codec{PCMU, PCMA}
	}
	return l.Codecs
}

// direction returns the direction l wants.
func (l Local) direction() Direction {
	if l.Direction < SendRecv || l.Direction > Inactive {
		return SendRecv
	}
	return l.Direction
}

// offerCodecs returns the codecs of l that can be written into an offer,
// each payload type once.
func (l Local) offerCodecs() []Codec {
	all := l.codecs()
	out := make([]Codec, 0, len(all))
	var used [maxPayloadType + 1]bool
	for _, c := range all {
		if validCodec(c) && !used[c.PayloadType] {
			used[c.PayloadType] = true
			out = append(out, c)
		}
	}
	return out
}

// dtmfPayloadType returns the payload type for telephone-event in an offer
// that lists codecs.
func (l Local) dtmfPayloadType(codecs []Codec) uint8 {
	taken := func(pt uint8) bool {
		return slices.ContainsFunc(codecs, func(c Codec) bool { return c.PayloadType == pt })
	}
	pt := l.DTMFPayloadType
	if pt == 0 || pt > maxPayloadType {
		pt = defaultDTMFPT
	}
	if !taken(pt) {
		return pt
	}
	for p := uint8(minDynamicPT); p <= maxPayloadType; p++ {
		if !taken(p) {
			return p
		}
	}
	return pt // every dynamic payload type is taken: nothing better to do
}

// addr returns the address to advertise and its SDP address type.
func (l Local) addr() (netip.Addr, string) {
	a := l.Addr.Unmap().WithZone("")
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	if a.Is4() {
		return a, "IP4"
	}
	return a, "IP6"
}

// session returns the session level of Ringdesk's session descriptions
// (RFC 4566 §5): o= with our user name, session id and version, s=-, c= with
// our address, t=0 0.
func (l Local) session() *pionsdp.SessionDescription {
	addr, typ := l.addr()
	user := l.UserName
	if !isToken(user) {
		user = DefaultUserName
	}
	return &pionsdp.SessionDescription{
		Origin: pionsdp.Origin{
			Username:       user,
			SessionID:      l.SessionID,
			SessionVersion: l.Version,
			NetworkType:    "IN",
			AddressType:    typ,
			UnicastAddress: addr.String(),
		},
		SessionName: "-",
		ConnectionInformation: &pionsdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: typ,
			Address:     &pionsdp.Address{Address: addr.String()},
		},
		TimeDescriptions: []pionsdp.TimeDescription{{}},
	}
}

// stream is the m=audio line Ringdesk writes.
type stream struct {
	port   uint16
	proto  string
	codecs []Codec
	dtmf   *Codec
	ptime  int
	dir    Direction
	crypto []Crypto
}

// offerCrypto returns the a=crypto attributes of an SRTP offer: one per suite
// Ringdesk speaks, tags from 1, each with a fresh key from l.Rand. It
// returns none if l.Rand fails.
func (l Local) offerCrypto() []Crypto {
	suites := srtp.Suites()
	out := make([]Crypto, 0, len(suites))
	for i, s := range suites {
		k, err := srtp.NewKey(s, l.Rand)
		if err != nil {
			return nil
		}
		out = append(out, Crypto{Tag: uint32(i + 1), Suite: s, Key: k}) //nolint:gosec // a few suites
	}
	return out
}

// description returns the m=audio line of s: its formats, an a=rtpmap for
// every payload type and an a=fmtp where there are parameters, then a=ptime,
// the direction attribute and the a=crypto attributes.
func (s stream) description() *pionsdp.MediaDescription {
	n := len(s.codecs)
	if s.dtmf != nil {
		n++
	}
	formats := make([]string, 0, n)
	attrs := make([]pionsdp.Attribute, 0, 2*n+2+len(s.crypto))
	add := func(c Codec) {
		formats = append(formats, strconv.Itoa(int(c.PayloadType)))
		attrs = append(attrs, pionsdp.NewAttribute("rtpmap", rtpmapValue(c)))
		if c.Fmtp != "" {
			attrs = append(attrs, pionsdp.NewAttribute("fmtp", strconv.Itoa(int(c.PayloadType))+" "+c.Fmtp))
		}
	}
	for _, c := range s.codecs {
		add(c)
	}
	if s.dtmf != nil {
		add(*s.dtmf)
	}
	if s.ptime >= 1 && s.ptime <= maxPtime {
		attrs = append(attrs, pionsdp.NewAttribute("ptime", strconv.Itoa(s.ptime)))
	}
	attrs = append(attrs, pionsdp.NewPropertyAttribute(s.dir.String()))
	for _, c := range s.crypto {
		attrs = append(attrs, pionsdp.NewAttribute("crypto", c.value()))
	}
	return &pionsdp.MediaDescription{
		MediaName: pionsdp.MediaName{
			Media:   "audio",
			Port:    pionsdp.RangedPort{Value: int(s.port)},
			Protos:  strings.Split(s.proto, "/"),
			Formats: formats,
		},
		Attributes: attrs,
	}
}

// rejected returns the answer to an m= line Ringdesk does not use: the same
// media type, protocol and formats with port 0 (RFC 3264 §6).
func rejected(md *pionsdp.MediaDescription) *pionsdp.MediaDescription {
	return &pionsdp.MediaDescription{
		MediaName: pionsdp.MediaName{
			Media:   md.MediaName.Media,
			Protos:  slices.Clone(md.MediaName.Protos),
			Formats: slices.Clone(md.MediaName.Formats),
		},
	}
}
