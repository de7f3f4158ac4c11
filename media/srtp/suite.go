package srtp

import (
	pionsrtp "github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto suite as RFC 4568 §6.2 names them. The zero value
// is SuiteUnknown.
type Suite uint8

// The crypto suites Ringdesk speaks, in its order of preference.
const (
	SuiteUnknown        Suite = iota // not stated, or not one Ringdesk speaks
	AESCM128HMACSHA1_80              // AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1)
	AESCM128HMACSHA1_32              // AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2.2)
)

// Lengths of the AES-128 suites' keying material (RFC 3711 §8.2).
const (
	masterKeyLen  = 16
	masterSaltLen = 14
)

// MaxOverhead is the most bytes Sender.Protect adds to a packet: the
// authentication tag of AES_CM_128_HMAC_SHA1_80. Ringdesk sends no MKI.
const MaxOverhead = 10

// Suites returns the suites Ringdesk speaks, in its order of preference.
func Suites() []Suite { return []Suite{AESCM128HMACSHA1_80, AESCM128HMACSHA1_32} }

// String returns the suite's RFC 4568 name, e.g. "AES_CM_128_HMAC_SHA1_80",
// or "unknown".
func (s Suite) String() string {
	switch s {
	case AESCM128HMACSHA1_80:
		return "AES_CM_128_HMAC_SHA1_80"
	case AESCM128HMACSHA1_32:
		return "AES_CM_128_HMAC_SHA1_32"
	default:
		return "unknown"
	}
}

// MarshalText returns the suite's name (encoding.TextMarshaler).
func (s Suite) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSuite returns the suite named name (RFC 4568 §6.2 names, which are
// case-sensitive; §9.2), or SuiteUnknown for any other, including the suites
// Ringdesk does not speak such as AES_256_CM_HMAC_SHA1_80 or F8_128_HMAC_SHA1_80.
func ParseSuite(name string) Suite {
	for _, s := range Suites() {
		if name == s.String() {
			return s
		}
	}
	return SuiteUnknown
}

// Valid reports whether s is a suite Ringdesk speaks.
func (s Suite) Valid() bool { return s == AESCM128HMACSHA1_80 || s == AESCM128HMACSHA1_32 }

// KeyLen is the length of the suite's master key followed by its master
// salt, the bytes of an "inline:" key (RFC 4568 §6.1): 30 for both suites,
// 0 for SuiteUnknown.
func (s Suite) KeyLen() int {
	if !s.Valid() {
		return 0
	}
	return masterKeyLen + masterSaltLen
}

// TagLen is the length of the authentication tag the suite appends to an
// RTP packet: 10 or 4 bytes, 0 for SuiteUnknown.
func (s Suite) TagLen() int {
	switch s {
	case AESCM128HMACSHA1_80:
		return 10
	case AESCM128HMACSHA1_32:
		return 4
	default:
		return 0
	}
}

// profile returns pion's protection profile for s.
func (s Suite) profile() (pionsrtp.ProtectionProfile, bool) {
	switch s {
	case AESCM128HMACSHA1_80:
		return pionsrtp.ProtectionProfileAes128CmHmacSha1_80, true
	case AESCM128HMACSHA1_32:
		return pionsrtp.ProtectionProfileAes128CmHmacSha1_32, true
	default:
		return 0, false
	}
}
