package wav

// g711Table returns the 16-bit linear value of each of the 256 G.711 codes,
// A-law if alaw is set and μ-law otherwise (ITU-T G.711, Tables 1a and 2a).
// The values are those of the ITU-T G.191 reference decoder and of package
// media's DecodeAlaw and DecodeUlaw: μ-law's 14-bit range scaled by 4
// (±32124), A-law's 13-bit range scaled by 8 (±32256). Package media is not
// imported here because it imports this package.
//
// The table is built per call (256 entries, well under a microsecond) rather
// than kept in a package variable.
func g711Table(alaw bool) [256]int16 {
	var t [256]int16
	for code := range t {
		if alaw {
			t[code] = alawToLinear(uint8(code))
		} else {
			t[code] = ulawToLinear(uint8(code))
		}
	}
	return t
}

// ulawToLinear decodes one μ-law code: the code is stored inverted; its low
// four bits are the mantissa, the next three the segment (exponent), the top
// bit the sign. The magnitude is ((mantissa<<3) + 0x84) << segment, less the
// bias 0x84.
func ulawToLinear(code uint8) int16 {
	u := ^code
	t := (int(u&0x0f)<<3 + 0x84) << ((u & 0x70) >> 4)
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// alawToLinear decodes one A-law code: even bits are stored inverted (XOR
// 0x55); the low four bits are the mantissa, the next three the segment, the
// top bit set means positive. Segment 0 is linear; each later segment doubles
// the step. The result is the middle of the code's quantisation interval.
func alawToLinear(code uint8) int16 {
	a := code ^ 0x55
	t := int(a&0x0f) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
