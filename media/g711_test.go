package media

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// g711Update (-update) regenerates golden files: go test ./media -run Golden -update.
// It is the package's only -update flag; other golden tests in package media
// should use it rather than define their own (flag names must be unique).
//
//nolint:gochecknoglobals // test flag
var g711Update = flag.Bool("update", false, "rewrite golden files in testdata")

// The expected values below are computed from the segment and quantisation
// definitions of ITU-T G.711 (Tables 1a/1b for A-law, 2a/2b for μ-law), not from
// zaf/g711 nor from this package.
//
// Scaling: G.711 defines μ-law on a 14-bit scale (magnitudes 0..8159, decoder
// outputs 0..8031) and A-law on a 13-bit scale (magnitudes 0..4096, decoder
// outputs 1..4032). 16-bit linear PCM is that ×4 for μ-law and ×8 for A-law,
// as in ITU-T G.191 (STL g711.c) and zaf/g711.
//
// Going from 16 bits to 14 or 13 bits truncates (arithmetic shift right), and a
// negative value's magnitude is taken in one's complement (~x >> shift), again
// as G.191 does; so -1..-4 encode as μ-law negative zero, 0x7F.

// ituUlaw returns the 16-bit decoder output for μ-law code c. Bit 1 of the
// character is the polarity (1 = positive) and bits 2..8, the segment s and the
// interval i within it, are transmitted inverted. Segment s spans the 14-bit
// decision values [2^(s+5)-33, 2^(s+6)-33) in 16 intervals of 2^(s+1) (the first
// interval of segment 0 is [0, 1)); the output is the interval's midpoint.
func ituUlaw(c byte) int {
	m := ^c & 0x7f
	s, i := int(m>>4), int(m&0x0f)
	step := 1 << (s + 1)
	y := (1<<(s+5) - 33) + i*step + step/2 // 14-bit
	y *= 4
	if c&0x80 == 0 {
		y = -y
	}
	return y
}

// ituUlawBiased is the same table by the biased formula of G.191's
// ulaw_expand: ((mantissa<<3) + 0x84) << exponent - 0x84, on the 16-bit scale.
func ituUlawBiased(c byte) int {
	c = ^c
	exp, mant := int(c>>4&7), int(c&0x0f)
	y := ((mant<<3)+0x84)<<exp - 0x84
	if c&0x80 != 0 {
		y = -y
	}
	return y
}

// ituAlaw returns the 16-bit decoder output for A-law code c. Bit 1 is the
// polarity (1 = positive); the even bits are transmitted inverted (XOR 0x55).
// Segment 0 spans [0, 32) and segment s ≥ 1 spans [2^(s+4), 2^(s+5)), 16
// intervals each, of 2 in segments 0 and 1 and of 2^s above; the output is the
// interval's midpoint.
func ituAlaw(c byte) int {
	c ^= 0x55
	s, i := int(c>>4&7), int(c&0x0f)
	lower, step := 0, 2
	if s > 0 {
		lower, step = 1<<(s+4), 1<<s
	}
	y := lower + i*step + step/2 // 13-bit magnitude
	y *= 8
	if c&0x80 == 0 {
		y = -y
	}
	return y
}

// ituUlawEncode quantises x with the μ-law decision values of Table 2a.
func ituUlawEncode(x int16) byte {
	m, p := int(x>>2), byte(0x80)
	if m < 0 {
		m, p = -m-1, 0
	}
	s, i := 7, 15
	if m < 8159 {
		for s = 0; m >= 1<<(s+6)-33; s++ {
		}
		i = (m - (1<<(s+5) - 33)) / (1 << (s + 1))
	}
	return p | ^byte(s<<4|i)&0x7f
}

// ituAlawEncode quantises x with the A-law decision values of Table 1a.
func ituAlawEncode(x int16) byte {
	m, p := int(x>>3), byte(0x80)
	if m < 0 {
		m, p = -m-1, 0
	}
	var s, i int
	if m < 32 {
		i = m / 2
	} else {
		s = bits.Len(uint(m)) - 5
		i = (m - 1<<(s+4)) >> s
	}
	return (p | byte(s<<4|i)) ^ 0x55
}

func g711Decode1(g G711, c byte) int {
	var out [1]int16
	g.Decode(out[:], []byte{c})
	return int(out[0])
}

func g711Encode1(g G711, x int16) byte {
	var out [1]byte
	g.Encode(out[:], []int16{x})
	return out[0]
}

func TestG711Names(t *testing.T) {
	tests := []struct {
		g      G711
		name   string
		pt     uint8
		parsed []string
	}{
		{PCMU, "PCMU", 0, []string{"PCMU", "pcmu", "Pcmu"}},
		{PCMA, "PCMA", 8, []string{"PCMA", "pcma", "pCmA"}},
		{G711Unknown, "unknown", 255, []string{"", "G722", "PCM", "PCMU ", "unknown", "L16"}},
		{G711(9), "unknown", 255, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			if got := tt.g.PayloadType(); got != tt.pt {
				t.Errorf("PayloadType() = %d, want %d", got, tt.pt)
			}
			for _, s := range tt.parsed {
				if got := G711FromName(s); got != tt.g {
					t.Errorf("G711FromName(%q) = %v, want %v", s, got, tt.g)
				}
			}
		})
	}
}

// TestG711DecodeStandard checks all 256 codes of each law against the tables
// derived from G.711 above, and a few anchors by literal.
func TestG711DecodeStandard(t *testing.T) {
	for c := range 256 {
		if a, b := ituUlaw(byte(c)), ituUlawBiased(byte(c)); a != b {
			t.Fatalf("test tables disagree for μ-law 0x%02x: %d vs %d", c, a, b)
		}
	}
	tests := []struct {
		g       G711
		want    func(byte) int
		anchors map[byte]int
	}{
		{PCMU, ituUlaw, map[byte]int{0xff: 0, 0x7f: 0, 0x00: -32124, 0x80: 32124, 0xfe: 8, 0x7e: -8, 0xef: 132}},
		{PCMA, ituAlaw, map[byte]int{0xd5: 8, 0x55: -8, 0xaa: 32256, 0x2a: -32256, 0xd4: 24, 0x80: 5504}},
	}
	for _, tt := range tests {
		t.Run(tt.g.String(), func(t *testing.T) {
			for c := range 256 {
				if got, want := g711Decode1(tt.g, byte(c)), tt.want(byte(c)); got != want {
					t.Errorf("decode 0x%02x = %d, want %d", c, got, want)
				}
			}
			for c, want := range tt.anchors {
				if got := g711Decode1(tt.g, c); got != want {
					t.Errorf("decode 0x%02x = %d, want %d", c, got, want)
				}
			}
		})
	}
}

// TestG711EncodeStandard checks the encoder on every 16-bit input against the
// G.711 decision values, and that every decoder output encodes back to its
// code. The only exception is μ-law negative zero, 0x7F: it decodes to 0,
// and 0 encodes as positive zero, 0xFF.
func TestG711EncodeStandard(t *testing.T) {
	tests := []struct {
		g    G711
		want func(int16) byte
	}{
		{PCMU, ituUlawEncode},
		{PCMA, ituAlawEncode},
	}
	for _, tt := range tests {
		t.Run(tt.g.String(), func(t *testing.T) {
			for x := -32768; x <= 32767; x++ {
				if got, want := g711Encode1(tt.g, int16(x)), tt.want(int16(x)); got != want {
					t.Fatalf("encode %d = 0x%02x, want 0x%02x", x, got, want)
				}
			}
			for c := range 256 {
				want := byte(c)
				if tt.g == PCMU && want == 0x7f {
					want = 0xff
				}
				if got := g711Encode1(tt.g, int16(g711Decode1(tt.g, byte(c)))); got != want {
					t.Errorf("encode(decode(0x%02x)) = 0x%02x, want 0x%02x", c, got, want)
				}
			}
		})
	}
}

// g711MagnitudeIndex orders the codes of one polarity by increasing magnitude.
func g711MagnitudeIndex(g G711, c byte) int {
	if g == PCMA {
		return int((c ^ 0x55) & 0x7f)
	}
	return int(^c & 0x7f)
}

func TestG711Monotonic(t *testing.T) {
	for _, g := range []G711{PCMU, PCMA} {
		t.Run(g.String(), func(t *testing.T) {
			byIndex := make([]int, 128) // positive value by magnitude index
			for c := 128; c < 256; c++ {
				byIndex[g711MagnitudeIndex(g, byte(c))] = g711Decode1(g, byte(c))
			}
			for i := 1; i < 128; i++ {
				if byIndex[i] <= byIndex[i-1] {
					t.Errorf("magnitude %d decodes to %d, not above %d", i, byIndex[i], byIndex[i-1])
				}
			}
			for c := range 128 { // negative codes mirror the positive ones
				if got, want := g711Decode1(g, byte(c)), -byIndex[g711MagnitudeIndex(g, byte(c))]; got != want {
					t.Errorf("decode 0x%02x = %d, want %d", c, got, want)
				}
			}

			// Full sweep: the reconstruction never decreases as x grows, and
			// the magnitude index never decreases as |x| grows.
			prevValue, prevIndex := g711Decode1(g, g711Encode1(g, -32768)), 127
			for x := -32767; x <= 32767; x++ {
				c := g711Encode1(g, int16(x))
				v, i := g711Decode1(g, c), g711MagnitudeIndex(g, c)
				if v < prevValue {
					t.Fatalf("encode(%d) decodes to %d, below %d for %d", x, v, prevValue, x-1)
				}
				positive := c&0x80 != 0
				if positive != (x >= 0) {
					t.Fatalf("encode(%d) = 0x%02x has the wrong polarity", x, c)
				}
				if x < 0 && i > prevIndex || x > 0 && i < prevIndex {
					t.Fatalf("encode(%d): magnitude index %d after %d", x, i, prevIndex)
				}
				prevValue, prevIndex = v, i
			}
		})
	}
}

// TestG711Transcode checks direct transcoding against decode+encode, and what
// survives a round trip through the other law.
//
// A-law → μ-law → A-law returns the same code for 240 of the 256 codes. The 16
// others (listed below) come back one interval off, at most 384 in 16-bit
// linear terms (A-law 0x0A/0x8A, ∓8064, whose nearest μ-law decision interval
// lies across a segment boundary, come back as ∓8448).
//
// μ-law → A-law → μ-law returns the same code for every |value| ≥ 128 and for
// 8, 24, ..., 120; the other 16 codes (0, 16, ..., 112 of either sign, μ-law
// being twice as fine there) come back one interval off, 8 in linear terms.
func TestG711Transcode(t *testing.T) {
	pcm := make([]int16, 1)
	one := make([]byte, 1)
	for c := range 256 {
		in := []byte{byte(c)}

		DecodeUlaw(pcm, in)
		EncodeAlaw(one, pcm)
		got := make([]byte, 1)
		if n := UlawToAlaw(got, in); n != 1 {
			t.Fatalf("UlawToAlaw wrote %d bytes, want 1", n)
		}
		if got[0] != one[0] {
			t.Errorf("UlawToAlaw(0x%02x) = 0x%02x, decode+encode gives 0x%02x", c, got[0], one[0])
		}
		Transcode(got, in, PCMU, PCMA)
		if got[0] != one[0] {
			t.Errorf("Transcode(0x%02x, PCMU, PCMA) = 0x%02x, want 0x%02x", c, got[0], one[0])
		}

		DecodeAlaw(pcm, in)
		EncodeUlaw(one, pcm)
		AlawToUlaw(got, in)
		if got[0] != one[0] {
			t.Errorf("AlawToUlaw(0x%02x) = 0x%02x, decode+encode gives 0x%02x", c, got[0], one[0])
		}
		Transcode(got, in, PCMA, PCMU)
		if got[0] != one[0] {
			t.Errorf("Transcode(0x%02x, PCMA, PCMU) = 0x%02x, want 0x%02x", c, got[0], one[0])
		}
	}

	alawChanged := []byte{0x0a, 0x48, 0x4a, 0x4c, 0x4e, 0x6a, 0x78, 0x7a, 0x8a, 0xc8, 0xca, 0xcc, 0xce, 0xea, 0xf8, 0xfa}
	t.Run("PCMA-PCMU-PCMA", func(t *testing.T) {
		var changed []byte
		maxErr := 0
		for c := range 256 {
			u, a := make([]byte, 1), make([]byte, 1)
			AlawToUlaw(u, []byte{byte(c)})
			UlawToAlaw(a, u)
			if a[0] != byte(c) {
				changed = append(changed, byte(c))
				maxErr = max(maxErr, g711Abs(g711Decode1(PCMA, a[0])-g711Decode1(PCMA, byte(c))))
			}
		}
		if !bytes.Equal(changed, alawChanged) {
			t.Errorf("codes changed by the round trip: % x, want % x", changed, alawChanged)
		}
		if maxErr != 384 {
			t.Errorf("max round-trip error %d, want 384", maxErr)
		}
	})
	t.Run("PCMU-PCMA-PCMU", func(t *testing.T) {
		changed := 0
		maxErr := 0
		for c := range 256 {
			a, u := make([]byte, 1), make([]byte, 1)
			UlawToAlaw(a, []byte{byte(c)})
			AlawToUlaw(u, a)
			v := g711Decode1(PCMU, byte(c))
			if u[0] == byte(c) || c == 0x7f && u[0] == 0xff {
				continue
			}
			changed++
			err := g711Abs(g711Decode1(PCMU, u[0]) - v)
			maxErr = max(maxErr, err)
			if g711Abs(v) >= 128 || g711Abs(v)%16 != 0 {
				t.Errorf("μ-law 0x%02x (%d) came back as 0x%02x", c, v, u[0])
			}
		}
		if changed != 16 || maxErr != 8 {
			t.Errorf("%d codes changed, max error %d; want 16 and 8", changed, maxErr)
		}
	})
}

func g711Abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestG711Lengths(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768}
	for _, g := range []G711{PCMU, PCMA} {
		t.Run(g.String(), func(t *testing.T) {
			for _, n := range []int{0, 1, 3, 5, 8} {
				dst := bytes.Repeat([]byte{0x5a}, 8)
				want := min(n, len(pcm))
				if got := g.Encode(dst[:n], pcm); got != want {
					t.Errorf("Encode into %d bytes = %d, want %d", n, got, want)
				}
				if want < len(dst) && dst[want] != 0x5a {
					t.Errorf("Encode wrote past %d", want)
				}
				out := make([]int16, 8)
				if got := g.Decode(out[:n], dst[:len(pcm)]); got != want {
					t.Errorf("Decode into %d samples = %d, want %d", n, got, want)
				}
			}
		})
	}
	if n := G711Unknown.Encode(make([]byte, 4), pcm); n != 0 {
		t.Errorf("unknown Encode = %d, want 0", n)
	}
	if n := G711(7).Decode(make([]int16, 4), []byte{1, 2}); n != 0 {
		t.Errorf("unknown Decode = %d, want 0", n)
	}

	tests := []struct {
		name     string
		from, to G711
		dst, src int
		want     int
	}{
		{"copy", PCMU, PCMU, 4, 6, 4},
		{"copy unknown", G711Unknown, G711Unknown, 6, 4, 4},
		{"u to a short dst", PCMU, PCMA, 2, 6, 2},
		{"a to u short src", PCMA, PCMU, 6, 3, 3},
		{"unknown to u", G711Unknown, PCMU, 4, 4, 0},
		{"a to unknown", PCMA, G711(3), 4, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte{1, 2, 3, 4, 5, 6}[:tt.src]
			if got := Transcode(make([]byte, tt.dst), src, tt.from, tt.to); got != tt.want {
				t.Errorf("Transcode = %d, want %d", got, tt.want)
			}
		})
	}

	// In place.
	buf := []byte{0x00, 0x7f, 0xff, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x55, 0xd5, 0xaa, 0x2a, 0x99, 0x42, 0x13, 0x31}
	want := make([]byte, len(buf))
	UlawToAlaw(want, buf)
	UlawToAlaw(buf, buf)
	if !bytes.Equal(buf, want) {
		t.Errorf("in-place UlawToAlaw = % x, want % x", buf, want)
	}
}

const g711Golden = "testdata/g711_golden.txt"

// TestG711Golden compares the decoding of every code with
// testdata/g711_golden.txt; -update rewrites the file.
func TestG711Golden(t *testing.T) {
	var b strings.Builder
	b.WriteString("# G.711 decoding of every code to 16-bit linear PCM\n")
	b.WriteString("# (ITU-T G.711 Tables 1a/2a; μ-law ×4, A-law ×8, as in G.191).\n")
	b.WriteString("# Regenerate: go test ./media -run TestG711Golden -update\n")
	b.WriteString("# code PCMU PCMA\n")
	for c := range 256 {
		fmt.Fprintf(&b, "0x%02x %d %d\n", c, g711Decode1(PCMU, byte(c)), g711Decode1(PCMA, byte(c)))
	}
	got := b.String()

	if *g711Update {
		if err := os.MkdirAll(filepath.Dir(g711Golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(g711Golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(g711Golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gotLines := strings.Split(got, "\n")
	sc := bufio.NewScanner(bytes.NewReader(want))
	for i := 0; sc.Scan(); i++ {
		if i >= len(gotLines) || sc.Text() != gotLines[i] {
			g := ""
			if i < len(gotLines) {
				g = gotLines[i]
			}
			t.Fatalf("%s:%d: got %q, want %q (run with -update if intended)", g711Golden, i+1, g, sc.Text())
		}
	}
	t.Fatalf("%s differs from the decoder output (run with -update if intended)", g711Golden)
}

func TestG711ZeroAllocs(t *testing.T) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 409)
	}
	payload := make([]byte, 160)
	other := make([]byte, 160)
	tests := []struct {
		name string
		fn   func()
	}{
		{"PCMU encode", func() { PCMU.Encode(payload, pcm) }},
		{"PCMU decode", func() { PCMU.Decode(pcm, payload) }},
		{"PCMA encode", func() { PCMA.Encode(payload, pcm) }},
		{"PCMA decode", func() { PCMA.Decode(pcm, payload) }},
		{"PCMU to PCMA", func() { Transcode(other, payload, PCMU, PCMA) }},
		{"PCMA to PCMU", func() { Transcode(other, payload, PCMA, PCMU) }},
		{"copy", func() { Transcode(other, payload, PCMA, PCMA) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
				t.Errorf("%v allocations per frame, want 0", n)
			}
		})
	}
}

// FuzzG711 checks that decode → encode → decode is stable after one pass for
// any payload, and that Transcode copes with any lengths and laws.
func FuzzG711(f *testing.F) {
	f.Add([]byte{0x00, 0x7f, 0x80, 0xff, 0xd5, 0x55, 0x2a, 0xaa}, uint16(8), uint8(1), uint8(2))
	f.Add([]byte{}, uint16(3), uint8(2), uint8(1))
	f.Add([]byte{1, 2, 3}, uint16(0), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, dstLen uint16, from, to uint8) {
		for _, g := range []G711{PCMU, PCMA} {
			pcm := make([]int16, len(data))
			g.Decode(pcm, data)
			codes := make([]byte, len(data))
			g.Encode(codes, pcm)
			pcm2 := make([]int16, len(data))
			g.Decode(pcm2, codes)
			codes2 := make([]byte, len(data))
			g.Encode(codes2, pcm2)
			if !slices.Equal(pcm, pcm2) {
				t.Fatalf("%v: decode(encode(decode(x))) != decode(x)", g)
			}
			if !bytes.Equal(codes, codes2) {
				t.Fatalf("%v: encode(decode) not idempotent", g)
			}
		}
		dst := make([]byte, int(dstLen)%(2*len(data)+2))
		n := Transcode(dst, data, G711(from%4), G711(to%4))
		if n < 0 || n > min(len(dst), len(data)) {
			t.Fatalf("Transcode returned %d for %d into %d", n, len(data), len(dst))
		}
	})
}
