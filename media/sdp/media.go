package sdp

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	pionsdp "github.com/pion/sdp/v3"
)

// maxPtime bounds a=ptime and a=maxptime, in milliseconds. Larger values are
// treated as absent, so that nobody sizes a buffer from them.
const maxPtime = 1000

// Media is the audio stream Ringdesk uses out of a session description, as
// the side that wrote the SDP describes it.
type Media struct {
	// Addr is the connection address: the media-level c= line, else the
	// session-level one (RFC 4566 §5.7). It may be the unspecified address
	// 0.0.0.0 (RFC 2543 hold). It is the zero Addr only when the stream is
	// disabled and has no c= line.
	Addr netip.Addr
	// Port is the RTP port; 0 means the stream is rejected or disabled
	// (RFC 3264 §5.1, §8.2).
	Port uint16
	// Proto is the transport protocol, e.g. "RTP/AVP".
	Proto string
	// Codecs are the audio codecs in the order of the m= line. Static payload
	// types without a=rtpmap get their RFC 3551 names; dynamic ones without
	// a=rtpmap are left out, and so are telephone-event, comfort noise (CN)
	// and the formats that are not codecs (red, rtx, ulpfec, flexfec).
	Codecs []Codec
	// DTMF is the first telephone-event at 8000 Hz of the m= line (RFC 4733),
	// nil if there is none.
	DTMF *Codec
	// Direction is the stream's direction from a=sendrecv, a=sendonly,
	// a=recvonly or a=inactive (media level over session level), SendRecv by
	// default (RFC 3264 §5.1). An RFC 2543 hold, a c= line with the
	// unspecified address, turns sendrecv into SendOnly and recvonly into
	// Inactive (RFC 3264 §8.4).
	Direction Direction
	// Ptime is a=ptime in milliseconds, 0 if absent or not in 1-1000.
	Ptime int
	// Maxptime is a=maxptime in milliseconds, 0 if absent or not in 1-1000.
	Maxptime int
	// Crypto are the usable a=crypto attributes of an RTP/SAVP or RTP/SAVPF
	// stream (RFC 4568), in their order, each tag once; nil for other
	// profiles. See Crypto for the attributes Ringdesk ignores. Their keys
	// print as "[redacted]".
	Crypto []Crypto
}

// Secure reports whether the stream uses SRTP keyed by SDES: its profile is
// RTP/SAVP or RTP/SAVPF.
func (m Media) Secure() bool { return isSRTP(m.Proto) }

// RemoteAddr returns where the stream's RTP goes: Addr (IPv4-mapped IPv6
// addresses unmapped) and Port.
func (m Media) RemoteAddr() netip.AddrPort {
	return netip.AddrPortFrom(m.Addr.Unmap(), m.Port)
}

// OnHold reports whether the stream is on hold (RFC 3264 §8.4): the side that
// wrote the SDP does not want to receive media, because Direction is SendOnly
// or Inactive or because Addr is unspecified.
func (m Media) OnHold() bool {
	return m.Direction == SendOnly || m.Direction == Inactive || !m.Addr.IsValid() || m.Addr.IsUnspecified()
}

// clone returns a copy of m that shares no memory with m.
func (m Media) clone() Media {
	m.Codecs = slices.Clone(m.Codecs)
	if m.Crypto != nil {
		cs := make([]Crypto, len(m.Crypto))
		for i, c := range m.Crypto {
			cs[i] = c.clone()
		}
		m.Crypto = cs
	}
	if m.DTMF != nil {
		d := *m.DTMF
		m.DTMF = &d
	}
	return m
}

// isAudio reports whether md is an m=audio line.
func isAudio(md *pionsdp.MediaDescription) bool {
	return strings.EqualFold(md.MediaName.Media, "audio")
}

// isRTP reports whether md uses a plain RTP profile Ringdesk can anchor:
// RTP/AVP (RFC 3551) or RTP/AVPF (RFC 4585).
func isRTP(md *pionsdp.MediaDescription) bool {
	p := md.MediaName.Protos
	return len(p) == 2 && strings.EqualFold(p[0], "RTP") &&
		(strings.EqualFold(p[1], "AVP") || strings.EqualFold(p[1], "AVPF"))
}

// isSecure reports whether md uses an SRTP profile Ringdesk keys with SDES:
// RTP/SAVP (RFC 3711) or RTP/SAVPF (RFC 5124).
func isSecure(md *pionsdp.MediaDescription) bool {
	return isSRTP(strings.Join(md.MediaName.Protos, "/"))
}

// chooseAudio returns the index of the audio m= line Ringdesk uses: the first
// enabled one with an RTP/AVP or RTP/AVPF profile, or with an RTP/SAVP or
// RTP/SAVPF profile and a usable a=crypto; else the first audio one; else -1.
func chooseAudio(sd *pionsdp.SessionDescription) int {
	first := -1
	for i, md := range sd.MediaDescriptions {
		if !isAudio(md) {
			continue
		}
		if md.MediaName.Port.Value != 0 && (isRTP(md) || (isSecure(md) && len(parseCryptos(md)) > 0)) {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// usable returns an error matching ErrNoAudio and ErrNoCommonCodec unless m=
// line idx of sd is an enabled audio stream with a profile Ringdesk speaks:
// RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF. Whether an SRTP stream has a
// usable a=crypto is checked apart.
func usable(sd *pionsdp.SessionDescription, idx int) error {
	if idx < 0 || idx >= len(sd.MediaDescriptions) {
		return fmt.Errorf("no m=audio line: %w: %w", ErrNoAudio, ErrNoCommonCodec)
	}
	md := sd.MediaDescriptions[idx]
	switch {
	case !isAudio(md):
		return fmt.Errorf("m= line %d is %q: %w: %w", idx+1, md.MediaName.Media, ErrNoAudio, ErrNoCommonCodec)
	case md.MediaName.Port.Value == 0:
		return fmt.Errorf("m=audio line %d is disabled (port 0): %w: %w", idx+1, ErrNoAudio, ErrNoCommonCodec)
	case !isRTP(md) && !isSecure(md):
		return fmt.Errorf("m=audio line %d uses %s: %w: %w",
			idx+1, strings.Join(md.MediaName.Protos, "/"), ErrNoAudio, ErrNoCommonCodec)
	}
	return nil
}

// connAddr returns the connection address in effect for m= line idx: its own
// c= line, else the session's (RFC 4566 §5.7). An enabled stream without one
// is malformed.
func connAddr(sd *pionsdp.SessionDescription, idx int) (netip.Addr, error) {
	md := sd.MediaDescriptions[idx]
	ci := md.ConnectionInformation
	if ci == nil || ci.Address == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		if md.MediaName.Port.Value == 0 {
			return netip.Addr{}, nil
		}
		return netip.Addr{}, fmt.Errorf("%w: m= line %d has no connection address", ErrMalformed, idx+1)
	}
	// A multicast address may carry /<ttl>/<number of addresses>
	// (RFC 4566 §5.7), which pion/sdp leaves in the address.
	s, _, _ := strings.Cut(ci.Address.Address, "/")
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: m= line %d connection address %s: %w", ErrMalformed, idx+1, quote(s), err)
	}
	addr = addr.WithZone("")
	if strings.EqualFold(ci.AddressType, "IP4") && !addr.Unmap().Is4() {
		return netip.Addr{}, fmt.Errorf("%w: m= line %d connection address %s is not IPv4", ErrMalformed, idx+1, quote(s))
	}
	return addr, nil
}

// mediaOf describes m= line idx of sd, whose connection address is addr.
// idx -1 gives the zero Media.
func mediaOf(sd *pionsdp.SessionDescription, idx int, addr netip.Addr) Media {
	if idx < 0 || idx >= len(sd.MediaDescriptions) {
		return Media{}
	}
	md := sd.MediaDescriptions[idx]
	m := Media{
		Addr:      addr,
		Port:      uint16(min(max(md.MediaName.Port.Value, 0), 65535)), //nolint:gosec // clamped
		Proto:     strings.Join(md.MediaName.Protos, "/"),
		Direction: DirectionUnknown,
	}

	var table ptable
	for _, a := range md.Attributes {
		key := strings.Trim(a.Key, " \t")
		switch {
		case strings.EqualFold(key, "rtpmap"):
			if c, ok := parseRtpmap(a.Value); ok && !table[c.PayloadType].mapped {
				table[c.PayloadType].codec = c
				table[c.PayloadType].mapped = true
			}
		case strings.EqualFold(key, "fmtp"):
			if pt, params, ok := parseFmtp(a.Value); ok && !table[pt].hasFmtp {
				table[pt].codec.Fmtp = params
				table[pt].hasFmtp = true
			}
		case strings.EqualFold(key, "ptime"):
			if m.Ptime == 0 {
				m.Ptime = parsePtime(a.Value)
			}
		case strings.EqualFold(key, "maxptime"):
			if m.Maxptime == 0 {
				m.Maxptime = parsePtime(a.Value)
			}
		default:
			if d, ok := parseDirection(key); ok && m.Direction == DirectionUnknown {
				m.Direction = d
			}
		}
	}
	if m.Direction == DirectionUnknown {
		m.Direction = sessionDirection(sd)
	}
	if isSecure(md) {
		m.Crypto = parseCryptos(md)
	}
	if addr.IsValid() && addr.IsUnspecified() { // RFC 2543 hold, RFC 3264 §8.4
		switch m.Direction {
		case SendRecv:
			m.Direction = SendOnly
		case RecvOnly:
			m.Direction = Inactive
		default:
		}
	}

	var seen [maxPayloadType + 1]bool
	for _, f := range md.MediaName.Formats {
		pt, ok := parsePayloadType(f)
		if !ok || seen[pt] {
			continue
		}
		seen[pt] = true
		c := table[pt].codec
		if !table[pt].mapped {
			static, ok := staticCodec(pt)
			if !ok {
				continue // dynamic payload type without a=rtpmap
			}
			static.Fmtp = c.Fmtp
			c = static
		}
		switch {
		case isTelephoneEvent(c):
			if c.ClockRate == dtmfClockRate && m.DTMF == nil {
				m.DTMF = &c
			}
		case isCodec(c):
			m.Codecs = append(m.Codecs, c)
		}
	}
	return m
}

// sessionDirection returns the session-level direction attribute, SendRecv
// when there is none (RFC 3264 §5.1).
func sessionDirection(sd *pionsdp.SessionDescription) Direction {
	for _, a := range sd.Attributes {
		if d, ok := parseDirection(strings.Trim(a.Key, " \t")); ok {
			return d
		}
	}
	return SendRecv
}

// parsePtime parses the value of a=ptime or a=maxptime. Some phones send a
// fraction ("20.0"), whose integer part is used.
func parsePtime(v string) int {
	v, _, _ = strings.Cut(strings.Trim(v, " \t"), ".")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPtime {
		return 0
	}
	return n
}
