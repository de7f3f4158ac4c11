package media

import (
	"strings"

	"github.com/zaf/g711"
)

// G711 identifies a G.711 law (ITU-T G.711). The zero value is G711Unknown.
type G711 uint8

// The G.711 laws, with their RTP static payload types (RFC 3551 §6).
const (
	G711Unknown G711 = iota
	PCMU             // μ-law, RTP static payload type 0
	PCMA             // A-law, RTP static payload type 8
)

// Static RTP payload types of the G.711 laws (RFC 3551 §6, Table 4).
const (
	g711PayloadPCMU    = 0
	g711PayloadPCMA    = 8
	g711PayloadUnknown = 255
)

// String returns "PCMU", "PCMA" or "unknown", the encoding names used in SDP
// rtpmap attributes (RFC 3551 §4.5.14).
func (g G711) String() string {
	switch g {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	default:
		return "unknown"
	}
}

// PayloadType returns the law's static RTP payload type: 0 for PCMU, 8 for
// PCMA and 255 (not a valid payload type) for anything else.
func (g G711) PayloadType() uint8 {
	switch g {
	case PCMU:
		return g711PayloadPCMU
	case PCMA:
		return g711PayloadPCMA
	default:
		return g711PayloadUnknown
	}
}

// G711FromName returns the law named "PCMU" or "PCMA" (case-insensitive), and
// G711Unknown for any other name.
func G711FromName(name string) G711 {
	switch {
	case strings.EqualFold(name, "PCMU"):
		return PCMU
	case strings.EqualFold(name, "PCMA"):
		return PCMA
	default:
		return G711Unknown
	}
}

// Lookup tables. They are computed once, at package initialisation, by the
// function calls in their declarations (there is no init()), and they are
// READ-ONLY: nothing may ever write to them.
//
// Linear samples are 16-bit two's complement. zaf/g711, which computes every
// entry, scales μ-law's 14-bit range by 4 and A-law's 13-bit range by 8, like
// the ITU-T G.191 reference code.
//
// Encoding uses full 64 Ki-entry tables indexed by the sample's bit pattern,
// the fastest option measured (AMD EPYC, one 160-sample frame, loop unrolled
// by 8): 49 ns, against 62 ns for tables indexed by the 14-bit (μ-law, 16 KiB)
// or 13-bit (A-law, 8 KiB) sample, and 290-450 ns for zaf/g711's
// EncodeUlawFrame/EncodeAlawFrame per sample. The cost is 128 KiB of memory
// and about half a millisecond at start-up.
//
// Decoding calls zaf/g711's DecodeUlawFrame/DecodeAlawFrame per sample: they
// are inlined lookups in zaf's own 256-entry tables, 47 ns per frame in the
// same unrolled loop against 50 ns for a copy of those tables here.
//
// UlawToAlaw and AlawToUlaw use 256-entry tables built by decoding and then
// encoding, so transcoding directly gives exactly the same result as going
// through linear PCM.
//
//nolint:gochecknoglobals // immutable lookup tables, see above
var (
	ulawEncode = g711EncodeTable(g711.EncodeUlawFrame)
	alawEncode = g711EncodeTable(g711.EncodeAlawFrame)
	ulawToAlaw = g711TranscodeTable(g711.DecodeUlawFrame, g711.EncodeAlawFrame)
	alawToUlaw = g711TranscodeTable(g711.DecodeAlawFrame, g711.EncodeUlawFrame)
)

// g711EncodeTable tabulates enc for every 16-bit sample, indexed by uint16(sample).
func g711EncodeTable(enc func(int16) uint8) *[1 << 16]uint8 {
	t := new([1 << 16]uint8)
	for i := range t {
		t[i] = enc(int16(uint16(i)))
	}
	return t
}

// g711TranscodeTable tabulates enc(dec(code)) for every code.
func g711TranscodeTable(dec func(uint8) int16, enc func(int16) uint8) *[256]uint8 {
	t := new([256]uint8)
	for i := range t {
		t[i] = enc(dec(uint8(i)))
	}
	return t
}

// EncodeUlaw encodes src as μ-law into dst and returns the number of samples
// encoded, min(len(dst), len(src)). It does not allocate.
func EncodeUlaw(dst []byte, src []int16) int {
	return g711Encode(dst, src, ulawEncode)
}

// DecodeUlaw decodes μ-law src into dst and returns the number of samples
// decoded, min(len(dst), len(src)). It does not allocate.
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for len(src) >= 8 && len(dst) >= 8 {
		s, d := src[:8], dst[:8]
		d[0], d[1], d[2], d[3] = g711.DecodeUlawFrame(s[0]), g711.DecodeUlawFrame(s[1]), g711.DecodeUlawFrame(s[2]), g711.DecodeUlawFrame(s[3])
		d[4], d[5], d[6], d[7] = g711.DecodeUlawFrame(s[4]), g711.DecodeUlawFrame(s[5]), g711.DecodeUlawFrame(s[6]), g711.DecodeUlawFrame(s[7])
		src, dst = src[8:], dst[8:]
	}
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = g711.DecodeUlawFrame(c)
	}
	return n
}

// EncodeAlaw encodes src as A-law into dst and returns the number of samples
// encoded, min(len(dst), len(src)). It does not allocate.
func EncodeAlaw(dst []byte, src []int16) int {
	return g711Encode(dst, src, alawEncode)
}

// DecodeAlaw decodes A-law src into dst and returns the number of samples
// decoded, min(len(dst), len(src)). It does not allocate.
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for len(src) >= 8 && len(dst) >= 8 {
		s, d := src[:8], dst[:8]
		d[0], d[1], d[2], d[3] = g711.DecodeAlawFrame(s[0]), g711.DecodeAlawFrame(s[1]), g711.DecodeAlawFrame(s[2]), g711.DecodeAlawFrame(s[3])
		d[4], d[5], d[6], d[7] = g711.DecodeAlawFrame(s[4]), g711.DecodeAlawFrame(s[5]), g711.DecodeAlawFrame(s[6]), g711.DecodeAlawFrame(s[7])
		src, dst = src[8:], dst[8:]
	}
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = g711.DecodeAlawFrame(c)
	}
	return n
}

// UlawToAlaw transcodes μ-law src to A-law in dst and returns the number of
// bytes written, min(len(dst), len(src)). Each result equals EncodeAlaw of
// DecodeUlaw of the input. dst and src may be the same slice.
func UlawToAlaw(dst, src []byte) int {
	return g711Transcode(dst, src, ulawToAlaw)
}

// AlawToUlaw transcodes A-law src to μ-law in dst and returns the number of
// bytes written, min(len(dst), len(src)). Each result equals EncodeUlaw of
// DecodeAlaw of the input. dst and src may be the same slice.
func AlawToUlaw(dst, src []byte) int {
	return g711Transcode(dst, src, alawToUlaw)
}

// g711Encode and g711Transcode map src through t into dst, eight at a time, like
// DecodeUlaw and DecodeAlaw. Unrolling makes these loops up to 1.8 times as fast
// as plain ones, and much less sensitive to code alignment.
func g711Encode(dst []byte, src []int16, t *[1 << 16]uint8) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for len(src) >= 8 && len(dst) >= 8 {
		s, d := src[:8], dst[:8]
		d[0], d[1], d[2], d[3] = t[uint16(s[0])], t[uint16(s[1])], t[uint16(s[2])], t[uint16(s[3])]
		d[4], d[5], d[6], d[7] = t[uint16(s[4])], t[uint16(s[5])], t[uint16(s[6])], t[uint16(s[7])]
		src, dst = src[8:], dst[8:]
	}
	dst = dst[:len(src)]
	for i, s := range src {
		dst[i] = t[uint16(s)]
	}
	return n
}

func g711Transcode(dst, src []byte, t *[256]uint8) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for len(src) >= 8 && len(dst) >= 8 {
		s, d := src[:8], dst[:8]
		d[0], d[1], d[2], d[3] = t[s[0]], t[s[1]], t[s[2]], t[s[3]]
		d[4], d[5], d[6], d[7] = t[s[4]], t[s[5]], t[s[6]], t[s[7]]
		src, dst = src[8:], dst[8:]
	}
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = t[c]
	}
	return n
}

// Encode encodes src with law g into dst and returns the number of samples
// encoded, min(len(dst), len(src)), or 0 if g is not PCMU or PCMA.
func (g G711) Encode(dst []byte, src []int16) int {
	switch g {
	case PCMU:
		return EncodeUlaw(dst, src)
	case PCMA:
		return EncodeAlaw(dst, src)
	default:
		return 0
	}
}

// Decode decodes src, encoded with law g, into dst and returns the number of
// samples decoded, min(len(dst), len(src)), or 0 if g is not PCMU or PCMA.
func (g G711) Decode(dst []int16, src []byte) int {
	switch g {
	case PCMU:
		return DecodeUlaw(dst, src)
	case PCMA:
		return DecodeAlaw(dst, src)
	default:
		return 0
	}
}

// Transcode converts the payload src from law from to law to into dst and
// returns the number of bytes written, min(len(dst), len(src)). If from == to
// (whatever the law, even G711Unknown) it copies. Otherwise, if either law is
// not PCMU or PCMA, it writes nothing and returns 0. dst and src may be the
// same slice.
func Transcode(dst, src []byte, from, to G711) int {
	switch {
	case from == to:
		return copy(dst, src)
	case from == PCMU && to == PCMA:
		return UlawToAlaw(dst, src)
	case from == PCMA && to == PCMU:
		return AlawToUlaw(dst, src)
	default:
		return 0
	}
}
