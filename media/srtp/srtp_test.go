package srtp

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"
)

// testKey is a key whose bytes are easy to spot in output: 30 bytes 0xA0...
func testKey(seed byte) Key {
	k := make(Key, masterKeyLen+masterSaltLen)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func testKeys(s Suite) *Keys {
	return &Keys{Suite: s, Local: testKey(0xa0), Remote: testKey(0x10)}
}

// mirror returns the keys of the other end of the stream.
func mirror(k *Keys) *Keys {
	return &Keys{Suite: k.Suite, Local: k.Remote, Remote: k.Local}
}

// rtpPacket is a 172-byte PCMU packet; the payload differs per seq.
func rtpPacket(tb testing.TB, seq uint16, ssrc uint32) []byte {
	tb.Helper()
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(int(seq)*31 + i)
	}
	b, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc},
		Payload: payload,
	}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// withRoom copies b into a buffer with room for the tag.
func withRoom(b []byte) []byte {
	out := make([]byte, len(b), len(b)+MaxOverhead)
	copy(out, b)
	return out
}

func TestSuites(t *testing.T) {
	tests := []struct {
		name   string
		suite  Suite
		keyLen int
		tagLen int
	}{
		{"AES_CM_128_HMAC_SHA1_80", AESCM128HMACSHA1_80, 30, 10},
		{"AES_CM_128_HMAC_SHA1_32", AESCM128HMACSHA1_32, 30, 4},
		{"AES_256_CM_HMAC_SHA1_80", SuiteUnknown, 0, 0},
		{"F8_128_HMAC_SHA1_80", SuiteUnknown, 0, 0},
		{"aes_cm_128_hmac_sha1_80", SuiteUnknown, 0, 0}, // names are case-sensitive (RFC 4568 §9.2)
		{"", SuiteUnknown, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ParseSuite(tt.name)
			if s != tt.suite || s.KeyLen() != tt.keyLen || s.TagLen() != tt.tagLen || s.Valid() != (tt.suite != SuiteUnknown) {
				t.Errorf("ParseSuite(%q) = %v (key %d, tag %d, valid %t), want %v (key %d, tag %d)",
					tt.name, s, s.KeyLen(), s.TagLen(), s.Valid(), tt.suite, tt.keyLen, tt.tagLen)
			}
			if s.Valid() && s.String() != tt.name {
				t.Errorf("String() = %q, want %q", s.String(), tt.name)
			}
		})
	}
	if got := Suite(200).String(); got != "unknown" {
		t.Errorf("Suite(200) = %q", got)
	}
	if got := Suites(); len(got) != 2 || got[0] != AESCM128HMACSHA1_80 {
		t.Errorf("Suites() = %v, want the _80 suite first", got)
	}
}

// TestKeysNeverPrinted: no fmt verb or slog handler shows key bytes, in any
// of the encodings a log line or error message could carry them.
func TestKeysNeverPrinted(t *testing.T) {
	k := testKeys(AESCM128HMACSHA1_80)
	k.RemoteMKI = []byte{0, 0, 0, 1}
	secrets := [][]byte{k.Local, k.Remote}
	forbidden := func(out string) error {
		for _, s := range secrets {
			for _, enc := range []string{
				hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)), base64.StdEncoding.EncodeToString(s),
				fmt.Sprintf("%d", []byte(s)), fmt.Sprintf("%q", []byte(s)), fmt.Sprintf("%#v", []byte(s)),
				hex.EncodeToString(s[:8]), fmt.Sprintf("%d", []byte(s[:4])),
			} {
				if strings.Contains(out, enc) || strings.Contains(out, strings.Trim(enc, "[]")) {
					return fmt.Errorf("output shows key bytes as %q:\n%s", enc, out)
				}
			}
		}
		return nil
	}
	negotiated := struct {
		Name string
		SRTP *Keys
		Val  Keys
		Key  Key
	}{"leg", k, *k, k.Local}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		outs = append(outs,
			fmt.Sprintf(verb, k.Local), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, k),
			fmt.Sprintf(verb, negotiated), fmt.Sprintf(verb, []any{k.Remote}))
	}
	outs = append(outs, k.Local.String(), fmt.Errorf("wrapped %v", k).Error())
	for _, h := range []func(*strings.Builder) slog.Handler{
		func(b *strings.Builder) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *strings.Builder) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b strings.Builder
		slog.New(h(&b)).Info("negotiated", "srtp", k, "keys", *k, "key", k.Local, "any", negotiated)
		outs = append(outs, b.String())
	}
	for _, out := range outs {
		if err := forbidden(out); err != nil {
			t.Error(err)
		}
	}
	if got := fmt.Sprint(*k); !strings.Contains(got, "AES_CM_128_HMAC_SHA1_80") || !strings.Contains(got, "[redacted]") {
		t.Errorf("Keys print as %q, want the suite and [redacted]", got)
	}
}

func TestNewKey(t *testing.T) {
	a, err := NewKey(AESCM128HMACSHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKey(AESCM128HMACSHA1_32, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 30 || len(b) != 30 || bytes.Equal(a, b) {
		t.Errorf("keys of %d and %d bytes, equal %t: want two different 30-byte keys", len(a), len(b), bytes.Equal(a, b))
	}
	det := rand.NewChaCha8([32]byte{1})
	c, err := NewKey(AESCM128HMACSHA1_80, det)
	if err != nil || len(c) != 30 {
		t.Fatalf("NewKey from a reader: %d bytes, %v", len(c), err)
	}
	if _, err := NewKey(SuiteUnknown, nil); !errors.Is(err, ErrSuite) {
		t.Errorf("unknown suite: %v, want ErrSuite", err)
	}
	if _, err := NewKey(AESCM128HMACSHA1_80, strings.NewReader("short")); err == nil {
		t.Error("a reader that runs dry gave a key")
	}
}

func TestKeysValidate(t *testing.T) {
	tests := []struct {
		name string
		keys *Keys
		want error
	}{
		{"ok", testKeys(AESCM128HMACSHA1_80), nil},
		{"ok 32", testKeys(AESCM128HMACSHA1_32), nil},
		{"nil", nil, ErrKey},
		{"zero: not keyed yet", &Keys{}, ErrSuite},
		{"short local", &Keys{Suite: AESCM128HMACSHA1_80, Local: testKey(1)[:29], Remote: testKey(2)}, ErrKey},
		{"long remote", &Keys{Suite: AESCM128HMACSHA1_80, Local: testKey(1), Remote: append(testKey(2), 0)}, ErrKey},
		{"no remote", &Keys{Suite: AESCM128HMACSHA1_80, Local: testKey(1)}, ErrKey},
		{"MKI too long", &Keys{Suite: AESCM128HMACSHA1_80, Local: testKey(1), Remote: testKey(2), RemoteMKI: make([]byte, 129)}, ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.keys.Validate()
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
			_, serr := NewSender(tt.keys)
			_, rerr := NewReceiver(tt.keys)
			if tt.want == nil && (serr != nil || rerr != nil) {
				t.Errorf("NewSender: %v, NewReceiver: %v", serr, rerr)
			}
		})
	}
}

func TestKeysEqualClone(t *testing.T) {
	k := testKeys(AESCM128HMACSHA1_80)
	c := k.Clone()
	if !k.Equal(c) || !c.Equal(k) {
		t.Fatal("a clone is not equal")
	}
	c.Local[0] ^= 1
	if k.Equal(c) || k.Local[0] == c.Local[0] {
		t.Error("the clone shares the key or Equal ignores it")
	}
	c = k.Clone()
	c.RemoteMKI = []byte{1}
	if k.Equal(c) {
		t.Error("Equal ignores the MKI")
	}
	c = k.Clone()
	c.Suite = AESCM128HMACSHA1_32
	if k.Equal(c) {
		t.Error("Equal ignores the suite")
	}
	var none *Keys
	if !none.Equal(nil) || none.Equal(k) || k.Equal(nil) || none.Clone() != nil {
		t.Error("nil Keys")
	}
}

// TestProtectUnprotect: a packet protected by one end comes out of the other
// end's Receiver intact, in place, with the suite's overhead; anything
// tampered with, replayed or keyed differently is refused.
func TestProtectUnprotect(t *testing.T) {
	for _, suite := range Suites() {
		t.Run(suite.String(), func(t *testing.T) {
			ours := testKeys(suite)
			snd, err := NewSender(ours)
			if err != nil {
				t.Fatal(err)
			}
			rcv, err := NewReceiver(mirror(ours))
			if err != nil {
				t.Fatal(err)
			}
			plain := rtpPacket(t, 1000, 0xcafe)
			buf := withRoom(plain)
			sec, err := snd.Protect(buf[:0], buf)
			if err != nil {
				t.Fatal(err)
			}
			if len(sec) != len(plain)+suite.TagLen() || snd.Overhead() != suite.TagLen() || rcv.Overhead() != suite.TagLen() {
				t.Fatalf("protected %d bytes into %d, overheads %d/%d, want +%d", len(plain), len(sec), snd.Overhead(), rcv.Overhead(), suite.TagLen())
			}
			if &sec[0] != &buf[0] {
				t.Error("Protect did not work in place")
			}
			if bytes.Equal(sec[12:len(plain)], plain[12:]) {
				t.Error("payload not encrypted")
			}
			if !bytes.Equal(sec[:12], plain[:12]) {
				t.Error("header changed")
			}
			wire := bytes.Clone(sec)

			for _, tamper := range []struct {
				name string
				at   int
			}{{"header", 3}, {"payload", 40}, {"tag", len(wire) - 1}} {
				bad := bytes.Clone(wire)
				bad[tamper.at] ^= 0x01
				if _, err := rcv.Unprotect(bad[:0], bad); !errors.Is(err, ErrAuth) {
					t.Errorf("tampered %s: %v, want ErrAuth", tamper.name, err)
				}
			}
			if _, err := rcv.Unprotect(nil, wire[:len(wire)-suite.TagLen()]); !errors.Is(err, ErrAuth) {
				t.Errorf("tag cut off: %v, want ErrAuth", err)
			}
			if _, err := rcv.Unprotect(nil, wire[:12]); !errors.Is(err, ErrAuth) {
				t.Errorf("header only: %v, want ErrAuth", err)
			}
			other, err := NewReceiver(&Keys{Suite: suite, Local: testKey(0), Remote: testKey(0x55)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.Unprotect(nil, bytes.Clone(wire)); !errors.Is(err, ErrAuth) {
				t.Errorf("wrong key: %v, want ErrAuth", err)
			}

			in := bytes.Clone(wire)
			got, err := rcv.Unprotect(in[:0], in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) || &got[0] != &in[0] {
				t.Errorf("Unprotect gave %d bytes (in place %t), want the original %d", len(got), &got[0] == &in[0], len(plain))
			}
			if _, err := rcv.Unprotect(nil, bytes.Clone(wire)); !errors.Is(err, ErrAuth) {
				t.Errorf("replay: %v, want ErrAuth", err)
			}
		})
	}
}

// TestRolloverAndReplayWindow: the sequence number wraps (the rollover
// counter follows, RFC 3711 §3.3.1); packets reordered within the window are
// accepted once, older ones refused.
func TestRolloverAndReplayWindow(t *testing.T) {
	k := testKeys(AESCM128HMACSHA1_80)
	snd, _ := NewSender(k)
	rcv, _ := NewReceiver(mirror(k))
	wire := map[uint16][]byte{}
	seq := uint16(65000)
	for range 1000 { // 65000 ... 65535, 0 ... 463
		b := withRoom(rtpPacket(t, seq, 7))
		sec, err := snd.Protect(b[:0], b)
		if err != nil {
			t.Fatal(err)
		}
		wire[seq] = sec
		seq++
	}
	unprotect := func(s uint16) error {
		b := bytes.Clone(wire[s])
		_, err := rcv.Unprotect(b[:0], b)
		return err
	}
	for s := uint16(65000); s != 400; s++ {
		if s == 300 || s == 65530 {
			continue // held back: arrive late
		}
		if err := unprotect(s); err != nil {
			t.Fatalf("seq %d: %v", s, err)
		}
	}
	if err := unprotect(300); err != nil {
		t.Errorf("seq 300, 100 packets late: %v, want accepted", err)
	}
	if err := unprotect(300); !errors.Is(err, ErrAuth) {
		t.Errorf("seq 300 again: %v, want ErrAuth", err)
	}
	if err := unprotect(65530); !errors.Is(err, ErrAuth) {
		t.Errorf("seq 65530, %d packets late: %v, want refused (outside the window)", 400+6, err)
	}
	for s := uint16(400); s != 464; s++ {
		if err := unprotect(s); err != nil {
			t.Fatalf("seq %d after the wrap: %v", s, err)
		}
	}
}

// TestRemoteMKI: a peer whose packets carry an MKI (RFC 3711 §3.1) is
// understood when the MKI is the one its SDP announced.
func TestRemoteMKI(t *testing.T) {
	k := testKeys(AESCM128HMACSHA1_80)
	mki := []byte{0, 0, 0, 1}
	peer, err := pionsrtp.CreateContext(k.Remote[:16], k.Remote[16:], pionsrtp.ProtectionProfileAes128CmHmacSha1_80,
		pionsrtp.MasterKeyIndicator(mki))
	if err != nil {
		t.Fatal(err)
	}
	plain := rtpPacket(t, 9, 0x99)
	wire, err := peer.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(wire) != len(plain)+4+10 {
		t.Fatalf("peer packet is %d bytes", len(wire))
	}
	withMKI := &Keys{Suite: k.Suite, Local: k.Local, Remote: k.Remote, RemoteMKI: mki}
	rcv, err := NewReceiver(withMKI)
	if err != nil {
		t.Fatal(err)
	}
	if rcv.Overhead() != 14 {
		t.Errorf("Overhead() = %d, want 14", rcv.Overhead())
	}
	got, err := rcv.Unprotect(nil, bytes.Clone(wire))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Unprotect: %v, intact %t", err, bytes.Equal(got, plain))
	}
	other, _ := NewReceiver(&Keys{Suite: k.Suite, Local: k.Local, Remote: k.Remote, RemoteMKI: []byte{0, 0, 0, 2}})
	if _, err := other.Unprotect(nil, bytes.Clone(wire)); !errors.Is(err, ErrAuth) {
		t.Errorf("unexpected MKI: %v, want ErrAuth", err)
	}
	none, _ := NewReceiver(mirror(k))
	if _, err := none.Unprotect(nil, bytes.Clone(wire)); !errors.Is(err, ErrAuth) {
		t.Errorf("MKI where none was announced: %v, want ErrAuth", err)
	}
}

// TestZeroAlloc pins Protect and Unprotect, in place, at zero allocations,
// failures included (media.Session's packet path). Not under -race (see
// raceEnabled).
func TestZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	k := testKeys(AESCM128HMACSHA1_80)
	snd, _ := NewSender(k)
	rcv, _ := NewReceiver(mirror(k))
	const runs = 1000
	wire := make([][]byte, 0, runs+2)
	seq := uint16(1)
	protect := func() {
		b := withRoom(rtpPacket(t, seq, 5))
		seq++
		sec, err := snd.Protect(b[:0], b)
		if err != nil {
			t.Fatal(err)
		}
		wire = append(wire, sec)
	}
	for range runs + 2 {
		protect()
	}
	buf := make([]byte, 0, 1600)
	pkt := rtpPacket(t, 1, 5)
	if n := testing.AllocsPerRun(runs, func() {
		b := append(buf[:0], pkt...)
		if _, err := snd.Protect(b[:0], b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Protect: %v allocations, want 0", n)
	}
	i := 0
	if n := testing.AllocsPerRun(runs, func() {
		b := wire[i]
		i++
		if _, err := rcv.Unprotect(b[:0], b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Unprotect: %v allocations, want 0", n)
	}
	forged := withRoom(rtpPacket(t, 5000, 5))
	forged = append(forged, make([]byte, 10)...)
	if n := testing.AllocsPerRun(runs, func() {
		binary.BigEndian.PutUint16(forged[2:], uint16(5000+i))
		i++
		if _, err := rcv.Unprotect(forged[:0], forged); !errors.Is(err, ErrAuth) {
			t.Fatal("forged packet accepted")
		}
	}); n != 0 {
		t.Errorf("Unprotect of a forged packet: %v allocations, want 0", n)
	}
}

func BenchmarkProtect(b *testing.B) {
	for _, suite := range Suites() {
		b.Run(suite.String(), func(b *testing.B) {
			snd, _ := NewSender(testKeys(suite))
			pkt := rtpPacket(b, 1, 5)
			buf := make([]byte, 0, 1600)
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				p := append(buf[:0], pkt...)
				if _, err := snd.Protect(p[:0], p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnprotect(b *testing.B) {
	for _, suite := range Suites() {
		b.Run(suite.String(), func(b *testing.B) {
			k := testKeys(suite)
			snd, _ := NewSender(k)
			rcv, _ := NewReceiver(mirror(k))
			// Protect a batch at a time, outside the timer: each packet
			// can be received once only.
			const batch = 1024
			wire := make([][]byte, batch)
			for i := range wire {
				wire[i] = make([]byte, 0, 200)
			}
			var seq uint16
			b.ReportAllocs()
			b.SetBytes(172)
			for i := 0; i < b.N; i++ {
				if i%batch == 0 {
					b.StopTimer()
					for j := range wire {
						seq++
						p := append(wire[j][:0], rtpPacket(b, seq, 5)...)
						wire[j], _ = snd.Protect(p[:0], p)
					}
					b.StartTimer()
				}
				w := wire[i%batch]
				if _, err := rcv.Unprotect(w[:0], w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
