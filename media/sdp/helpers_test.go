package sdp

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/answers")

// goldenLocal is Ringdesk's side in the golden answers. Its SRTP keys come
// from a seeded generator, so that golden answers are reproducible.
func goldenLocal() Local {
	return Local{
		Addr:      netip.MustParseAddr("192.0.2.10"),
		Port:      40000,
		DTMF:      true,
		SessionID: 1234,
		Version:   1,
		Rand:      testRand(),
	}
}

// testRand is a reproducible source of SRTP keys.
func testRand() *rand.ChaCha8 {
	return rand.NewChaCha8([32]byte{'r', 'i', 'n', 'g', 'd', 'e', 's', 'k'})
}

// capturedLocal is the Local whose offer the peers in testdata/peer-answers
// answered (sent to baresip 1.0 and linphonec 5.1 on loopback).
func capturedLocal() Local {
	return Local{
		Addr:      netip.MustParseAddr("127.0.0.8"),
		Port:      30000,
		DTMF:      true,
		SessionID: 77,
		Version:   1,
		Ptime:     20,
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testdataNames returns the base names of the .sdp files in testdata/dir.
func testdataNames(t testing.TB, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no .sdp files in testdata/%s", dir)
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".sdp"))
	}
	return names
}

func mustParseOffer(t testing.TB, body string) *Offer {
	t.Helper()
	o, err := ParseOffer([]byte(body))
	if err != nil {
		t.Fatalf("ParseOffer: %v\n%s", err, body)
	}
	return o
}

func mustParseAnswer(t testing.TB, body string) *Answer {
	t.Helper()
	a, err := ParseAnswer([]byte(body))
	if err != nil {
		t.Fatalf("ParseAnswer: %v\n%s", err, body)
	}
	return a
}

// sdpText builds a session description from LF-separated lines, with CRLF.
func sdpText(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n"
}

// offerWith returns an offer from 192.0.2.1 whose m=audio line and
// attributes are given.
func offerWith(mline string, attrs ...string) string {
	return sdpText(append([]string{
		"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", mline,
	}, attrs...)...)
}

func mediaEqual(a, b Media) bool {
	dtmfEqual := (a.DTMF == nil) == (b.DTMF == nil) && (a.DTMF == nil || *a.DTMF == *b.DTMF)
	return a.Addr == b.Addr && a.Port == b.Port && a.Proto == b.Proto && slices.Equal(a.Codecs, b.Codecs) &&
		dtmfEqual && a.Direction == b.Direction && a.Ptime == b.Ptime && a.Maxptime == b.Maxptime &&
		slices.EqualFunc(a.Crypto, b.Crypto, Crypto.equal)
}

func assertMedia(t testing.TB, got, want Media) {
	t.Helper()
	if !mediaEqual(got, want) {
		t.Errorf("Media:\n got %s\nwant %s", describeMedia(got), describeMedia(want))
	}
}

func describeCodec(c Codec) string {
	s := rtpmapValue(c)
	if c.Fmtp != "" {
		s += " fmtp=" + c.Fmtp
	}
	return s
}

func describeCodecs(cs []Codec) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, describeCodec(c))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func describeMedia(m Media) string {
	dtmf := "none"
	if m.DTMF != nil {
		dtmf = describeCodec(*m.DTMF)
	}
	s := fmt.Sprintf("addr=%v port=%d proto=%s codecs=%s dtmf=%s direction=%v ptime=%d maxptime=%d hold=%t",
		m.Addr, m.Port, m.Proto, describeCodecs(m.Codecs), dtmf, m.Direction, m.Ptime, m.Maxptime, m.OnHold())
	if m.Secure() {
		s += " crypto=" + describeCryptos(m.Crypto)
	}
	return s
}

// describeCrypto describes an a=crypto without its key, which the golden
// .sdp files show.
func describeCrypto(c Crypto) string {
	s := fmt.Sprintf("%d %v key=%dB", c.Tag, c.Suite, len(c.Key))
	if c.Lifetime > 0 {
		s += fmt.Sprintf(" lifetime=%d", c.Lifetime)
	}
	if c.MKI != nil {
		s += fmt.Sprintf(" mki=%x", c.MKI)
	}
	return s
}

func describeCryptos(cs []Crypto) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, describeCrypto(c))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func describeNegotiated(n Negotiated) string {
	dtmf := "none"
	if n.DTMF != nil {
		dtmf = describeCodec(*n.DTMF)
	}
	pts := make([]int, 0, len(n.RecvPayloadTypes))
	for pt := range n.RecvPayloadTypes {
		pts = append(pts, int(pt))
	}
	slices.Sort(pts)
	recv := make([]Codec, 0, len(pts))
	for _, pt := range pts {
		recv = append(recv, n.RecvPayloadTypes[uint8(pt)])
	}
	s := fmt.Sprintf("remote=%v codec=%s dtmf=%s direction=%v ptime=%d recv=%s",
		n.Remote, describeCodec(n.Codec), dtmf, n.Direction, n.Ptime, describeCodecs(recv))
	if k := n.SRTP; k != nil {
		s += fmt.Sprintf(" srtp=%v local=%dB remote=%dB remote-mki=%x", k.Suite, len(k.Local), len(k.Remote), k.RemoteMKI)
	}
	return s
}

// golden compares got with testdata/path, or rewrites the file with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// noGolden checks that testdata/path does not exist, or removes it with -update.
func noGolden(t *testing.T, path string) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s exists but the offer is not answered", path)
	}
}
