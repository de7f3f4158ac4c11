package sdp

import (
	"strconv"
	"strings"
)

// Codec is one RTP payload format: an m= line format with its a=rtpmap and
// a=fmtp (RFC 4566 §6).
type Codec struct {
	PayloadType uint8  // RTP payload type, 0-127
	Name        string // encoding name as in a=rtpmap, e.g. "PCMU", "PCMA", "telephone-event", "opus"
	ClockRate   uint32 // RTP clock rate in Hz
	Channels    uint16 // encoding parameters of a=rtpmap (audio channels), 0 when absent
	Fmtp        string // the a=fmtp value without the "PT " prefix, "" when absent
}

// The G.711 codecs with their static payload types (RFC 3551 §6).
// The two codecs Ringdesk speaks. Codec is a value type, so these cannot be
// changed through a copy; treat them as constants.
var (
	// PCMU is G.711 µ-law, static payload type 0.
	PCMU = Codec{PayloadType: 0, Name: "PCMU", ClockRate: 8000} //nolint:gochecknoglobals // constant value
	// PCMA is G.711 A-law, static payload type 8.
	PCMA = Codec{PayloadType: 8, Name: "PCMA", ClockRate: 8000} //nolint:gochecknoglobals // constant value
)

const (
	telephoneEvent = "telephone-event" // RFC 4733 §7.1.1
	dtmfClockRate  = 8000
	dtmfEvents     = "0-16" // DTMF digits 0-9, *, #, A-D and flash (RFC 4733 §3.2)
	defaultDTMFPT  = 101
	maxPayloadType = 127 // RTP payload types are 7 bits (RFC 3550 §5.1)
	minDynamicPT   = 96  // RFC 3551 §3
)

// ptable maps payload types to the a=rtpmap and a=fmtp of one m= line. It has
// a fixed size so that nothing allocates in proportion to the input.
type ptable [maxPayloadType + 1]struct {
	codec   Codec
	mapped  bool // a=rtpmap seen
	hasFmtp bool // a=fmtp seen
}

// staticCodec returns the RFC 3551 §6 (Table 4) audio payload format that a
// static payload type means when the m= line has no a=rtpmap for it.
func staticCodec(pt uint8) (Codec, bool) {
	var name string
	var rate uint32 = 8000
	var channels uint16
	switch pt {
	case 0:
		name = "PCMU"
	case 3:
		name = "GSM"
	case 4:
		name = "G723"
	case 5:
		name = "DVI4"
	case 6:
		name, rate = "DVI4", 16000
	case 7:
		name = "LPC"
	case 8:
		name = "PCMA"
	case 9:
		name = "G722" // 8000 although it samples at 16 kHz (RFC 3551 §4.5.2)
	case 10:
		name, rate, channels = "L16", 44100, 2
	case 11:
		name, rate = "L16", 44100
	case 12:
		name = "QCELP"
	case 13:
		name = "CN"
	case 14:
		name, rate = "MPA", 90000
	case 15:
		name = "G728"
	case 16:
		name, rate = "DVI4", 11025
	case 17:
		name, rate = "DVI4", 22050
	case 18:
		name = "G729"
	default:
		return Codec{}, false
	}
	return Codec{PayloadType: pt, Name: name, ClockRate: rate, Channels: channels}, true
}

// parsePayloadType parses an m= line format or the payload type of an
// a=rtpmap or a=fmtp.
func parsePayloadType(s string) (uint8, bool) {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n > maxPayloadType {
		return 0, false
	}
	return uint8(n), true
}

// cutField splits s at its first run of spaces or tabs.
func cutField(s string) (field, rest string) {
	s = strings.Trim(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.Trim(s[i:], " \t")
}

// parseRtpmap parses the value of "a=rtpmap:<payload type> <encoding
// name>/<clock rate>[/<encoding parameters>]" (RFC 4566 §6). It rejects what
// does not fit that grammar.
func parseRtpmap(v string) (Codec, bool) {
	ptField, enc := cutField(v)
	pt, ok := parsePayloadType(ptField)
	if !ok || enc == "" || strings.ContainsAny(enc, " \t") {
		return Codec{}, false
	}
	name, rest, ok := strings.Cut(enc, "/")
	if !ok || name == "" {
		return Codec{}, false
	}
	rateField, chField, hasCh := strings.Cut(rest, "/")
	rate, err := strconv.ParseUint(rateField, 10, 32)
	if err != nil || rate == 0 {
		return Codec{}, false
	}
	c := Codec{PayloadType: pt, Name: name, ClockRate: uint32(rate)}
	if hasCh {
		ch, err := strconv.ParseUint(chField, 10, 16)
		if err != nil {
			return Codec{}, false
		}
		c.Channels = uint16(ch)
	}
	return c, true
}

// parseFmtp parses the value of "a=fmtp:<payload type> <parameters>".
func parseFmtp(v string) (uint8, string, bool) {
	ptField, params := cutField(v)
	pt, ok := parsePayloadType(ptField)
	if !ok || params == "" {
		return 0, "", false
	}
	return pt, params, true
}

// isTelephoneEvent reports whether c is RFC 4733 telephone-event.
func isTelephoneEvent(c Codec) bool { return strings.EqualFold(c.Name, telephoneEvent) }

// isCodec reports whether c encodes audio, rather than being comfort noise
// (RFC 3389), telephone events (RFC 4733), redundancy (RFC 2198),
// retransmission (RFC 4588) or forward error correction.
func isCodec(c Codec) bool {
	for _, name := range [...]string{telephoneEvent, "CN", "red", "rtx", "ulpfec", "flexfec", "flexfec-03"} {
		if strings.EqualFold(c.Name, name) {
			return false
		}
	}
	return true
}

// sameCodec reports whether a and b are the same payload format whatever
// their payload type numbers (RFC 3264 §6.1): same encoding name ignoring case,
// clock rate and channel count (absent means one).
func sameCodec(a, b Codec) bool {
	return strings.EqualFold(a.Name, b.Name) && a.ClockRate == b.ClockRate && channels(a) == channels(b)
}

func channels(c Codec) uint16 {
	if c.Channels == 0 {
		return 1
	}
	return c.Channels
}

// findCodec returns the codec of list that is the same payload format as c.
func findCodec(list []Codec, c Codec) (Codec, bool) {
	for _, l := range list {
		if sameCodec(l, c) {
			return l, true
		}
	}
	return Codec{}, false
}

// isToken reports whether s is non-empty and free of spaces and control
// characters, so that it can be written into an SDP field.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validCodec reports whether c can be written into an m= line and a=rtpmap.
func validCodec(c Codec) bool {
	return c.PayloadType <= maxPayloadType && isToken(c.Name) && !strings.Contains(c.Name, "/") &&
		c.ClockRate > 0 && !strings.ContainsAny(c.Fmtp, "\r\n")
}

// rtpmapValue formats the value of c's a=rtpmap.
func rtpmapValue(c Codec) string {
	b := make([]byte, 0, 4+len(c.Name)+16)
	b = strconv.AppendUint(b, uint64(c.PayloadType), 10)
	b = append(b, ' ')
	b = append(b, c.Name...)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(c.ClockRate), 10)
	if c.Channels > 0 {
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(c.Channels), 10)
	}
	return string(b)
}
