package sdp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/ringdesk/ringdesk/media/srtp"
)

// key30 is a 30-byte key in base64 whose bytes are seed, seed+1, ...
func key30(seed byte) string {
	b := make([]byte, 30)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestParseCrypto(t *testing.T) {
	k := key30(1)
	raw, _ := base64.StdEncoding.DecodeString(k)
	tests := []struct {
		value  string
		want   Crypto
		reason string // part of the error, "" when it parses
	}{
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k, want: Crypto{Tag: 1, Suite: srtp.AESCM128HMACSHA1_80, Key: raw}},
		{value: "2 AES_CM_128_HMAC_SHA1_32 inline:" + k + "|2^31", want: Crypto{Tag: 2, Suite: srtp.AESCM128HMACSHA1_32, Key: raw, Lifetime: 1 << 31}},
		{
			value: "999999999 AES_CM_128_HMAC_SHA1_80 INLINE:" + k + "|1048576|7:2 WSH=128",
			want:  Crypto{Tag: 999999999, Suite: srtp.AESCM128HMACSHA1_80, Key: raw, Lifetime: 1 << 20, MKI: []byte{0, 7}},
		},
		{value: "0\tAES_CM_128_HMAC_SHA1_80\t inline:" + k + "|1:32", want: Crypto{Suite: srtp.AESCM128HMACSHA1_80, Key: raw, MKI: append(make([]byte, 31), 1)}},
		{
			value: "3 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^48|18446744073709551615:8",
			want:  Crypto{Tag: 3, Suite: srtp.AESCM128HMACSHA1_80, Key: raw, Lifetime: 1 << 48, MKI: bytes.Repeat([]byte{0xff}, 8)},
		},

		{value: "", reason: "not <tag>"},
		{value: "1 AES_CM_128_HMAC_SHA1_80", reason: "not <tag>"},
		{value: "x AES_CM_128_HMAC_SHA1_80 inline:" + k, reason: "tag is not"},
		{value: "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + k, reason: "tag is not"},
		{value: "1 AES_256_CM_HMAC_SHA1_80 inline:" + k, reason: `suite "AES_256_CM_HMAC_SHA1_80" is not supported`},
		{value: "1 AEAD_AES_128_GCM inline:" + k, reason: "is not supported"},
		{value: "1 aes_cm_128_hmac_sha1_80 inline:" + k, reason: "is not supported"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", reason: `key method "uri" is not supported`},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|1:4;inline:" + key30(9) + "|2^20|2:4", reason: "more than one key"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " KDR=1", reason: `session parameter "KDR"`},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " UNENCRYPTED_SRTP", reason: `session parameter "UNENCRYPTED_SRTP"`},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " FEC_KEY=inline:" + key30(3), reason: `session parameter "FEC_KEY"`},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " WSH=32", reason: "WSH below 64"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k[:len(k)-4], reason: "key is 27 bytes, AES_CM_128_HMAC_SHA1_80 needs 30"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "AAAA", reason: "key is 33 bytes"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k[:39] + "*", reason: "not base64"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:", reason: "key is 0 bytes"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^49", reason: "lifetime"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|0", reason: "lifetime"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|281474976710657", reason: "lifetime"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|2^20", reason: "two lifetimes"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:4|2^20", reason: "MKI is not last"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:0", reason: "MKI length 0"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:129", reason: "MKI length 129"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|256:1", reason: "does not fit in 1 bytes"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|18446744073709551616:9", reason: "does not fit"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|x:4", reason: "MKI value is not a number"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|1:4|5", reason: "more than a lifetime and an MKI"},
		{value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|1:2:3", reason: "MKI length is not 1 to 3 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := parseCrypto(tt.value)
			if tt.reason != "" {
				if err == nil || !strings.Contains(err.Error(), tt.reason) || !errors.Is(err, ErrNoCrypto) {
					t.Fatalf("error %v, want one saying %q and matching ErrNoCrypto", err, tt.reason)
				}
				checkNoKey(t, err.Error(), tt.value)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.equal(tt.want) {
				t.Fatalf("got %s, want %s", describeCrypto(c), describeCrypto(tt.want))
			}
			again, err := parseCrypto(c.value())
			if err != nil || !again.equal(c) {
				t.Errorf("%q does not parse back: %v", c.value(), err)
			}
		})
	}
}

// checkNoKey fails if text shows any base64 run of 12 or more characters
// of value's inline keys, or the key's bytes in another encoding.
func checkNoKey(t *testing.T, text, value string) {
	t.Helper()
	for _, part := range strings.Split(value, "inline:")[1:] {
		key, _, _ := strings.Cut(part, "|")
		key, _, _ = strings.Cut(key, " ")
		key, _, _ = strings.Cut(key, ";")
		for i := 0; i+12 <= len(key); i++ {
			if strings.Contains(text, key[i:i+12]) {
				t.Fatalf("%q shows key material %q", text, key[i:i+12])
			}
		}
		if raw, err := base64.StdEncoding.DecodeString(key); err == nil && len(raw) >= 8 {
			if strings.Contains(text, fmt.Sprintf("%x", raw[:8])) || strings.Contains(text, fmt.Sprintf("%d", raw[:8])) {
				t.Fatalf("%q shows key bytes", text)
			}
		}
	}
}

// srtpLocal is Ringdesk's side offering SRTP to a trunk, with reproducible
// keys.
func srtpLocal() Local {
	l := goldenLocal()
	l.SRTP = true
	l.Ptime = 20
	return l
}

// TestSRTPOffer: Ringdesk's SRTP offer, as text, and what Media reads back
// from it.
func TestSRTPOffer(t *testing.T) {
	o := NewOffer(srtpLocal())
	body := o.Marshal()
	assertWellFormed(t, body)
	golden(t, "srtp/offer.sdp", body)
	m := o.Media()
	if m.Proto != "RTP/SAVP" || !m.Secure() || len(m.Crypto) != 2 {
		t.Fatalf("offer media %s", describeMedia(m))
	}
	for i, want := range []srtp.Suite{srtp.AESCM128HMACSHA1_80, srtp.AESCM128HMACSHA1_32} {
		c := m.Crypto[i]
		if c.Tag != uint32(i+1) || c.Suite != want || len(c.Key) != 30 || c.Lifetime != 0 || c.MKI != nil {
			t.Errorf("a=crypto %d: %s", i+1, describeCrypto(c))
		}
	}
	if bytes.Equal(m.Crypto[0].Key, m.Crypto[1].Key) {
		t.Error("both suites got the same key")
	}
	assertMedia(t, mustParseOffer(t, string(body)).Media(), m)

	// Fresh keys every time, from crypto/rand by default.
	l := srtpLocal()
	l.Rand = nil
	a, b := NewOffer(l).Media().Crypto, NewOffer(l).Media().Crypto
	if bytes.Equal(a[0].Key, b[0].Key) || bytes.Equal(a[1].Key, b[1].Key) {
		t.Error("two offers share a key")
	}
	// A key source that fails gives an offer nobody can answer.
	l.Rand = strings.NewReader("too short")
	if cs := NewOffer(l).Media().Crypto; len(cs) != 0 {
		t.Errorf("an offer with a failed key source has %d a=crypto", len(cs))
	}
}

// TestSRTPRoundTrip: Ringdesk offers SRTP, a peer (Ringdesk's own answerer
// here) answers, Ringdesk takes the answer; both sides agree on the suite,
// and each side's local key is the other's remote key.
func TestSRTPRoundTrip(t *testing.T) {
	offerer := srtpLocal()
	answerer := Local{
		Addr: netip.MustParseAddr("198.51.100.40"), Port: 20000, DTMF: true, SessionID: 9, Version: 1,
		Rand: rand.NewChaCha8([32]byte{'p', 'e', 'e', 'r'}),
	}
	offer := NewOffer(offerer)
	received := mustParseOffer(t, string(offer.Marshal()))
	answer, theirs, err := received.Answer(answerer)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "srtp/answer.sdp", answer.Marshal())
	ours, err := mustParseAnswer(t, string(answer.Marshal())).Negotiate(offer)
	if err != nil {
		t.Fatal(err)
	}
	if ours.SRTP == nil || theirs.SRTP == nil {
		t.Fatalf("no SRTP keys: ours %v, theirs %v", ours.SRTP, theirs.SRTP)
	}
	if err := ours.SRTP.Validate(); err != nil {
		t.Error(err)
	}
	if ours.SRTP.Suite != srtp.AESCM128HMACSHA1_80 || theirs.SRTP.Suite != ours.SRTP.Suite {
		t.Errorf("suites %v and %v, want AES_CM_128_HMAC_SHA1_80 (tag 1, the offerer's first)", ours.SRTP.Suite, theirs.SRTP.Suite)
	}
	if !bytes.Equal(ours.SRTP.Local, theirs.SRTP.Remote) || !bytes.Equal(ours.SRTP.Remote, theirs.SRTP.Local) {
		t.Error("the keys do not pair up")
	}
	if !bytes.Equal(ours.SRTP.Local, offer.Media().Crypto[0].Key) {
		t.Error("our key is not the one offered with tag 1")
	}
	if bytes.Equal(ours.SRTP.Local, ours.SRTP.Remote) {
		t.Error("the answerer reused the offerer's key")
	}
	if want := netip.AddrPortFrom(answerer.Addr, answerer.Port); ours.Remote != want || ours.Codec != PCMU {
		t.Errorf("negotiated %s", describeNegotiated(ours))
	}

	// Answers pick the offerer's first usable suite: _32 when it comes first.
	body := strings.Replace(string(offer.Marshal()), "a=crypto:1 AES_CM_128_HMAC_SHA1_80", "a=crypto:1 AES_CM_128_HMAC_SHA1_32", 1)
	body = strings.Replace(body, "a=crypto:2 AES_CM_128_HMAC_SHA1_32", "a=crypto:2 AES_CM_128_HMAC_SHA1_80", 1)
	_, n, err := mustParseOffer(t, body).Answer(answerer)
	if err != nil || n.SRTP.Suite != srtp.AESCM128HMACSHA1_32 {
		t.Errorf("answered %v (%v), want AES_CM_128_HMAC_SHA1_32", n.SRTP, err)
	}

	// An answer with an MKI: our receiving side expects it.
	mki := strings.Replace(string(answer.Marshal()), "\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+base64.StdEncoding.EncodeToString(theirs.SRTP.Local),
		"\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+base64.StdEncoding.EncodeToString(theirs.SRTP.Local)+"|2^31|5:4", 1)
	withMKI, err := mustParseAnswer(t, mki).Negotiate(offer)
	if err != nil || !bytes.Equal(withMKI.SRTP.RemoteMKI, []byte{0, 0, 0, 5}) {
		t.Errorf("MKI answer: %v, remote MKI %x", err, withMKI.SRTP.RemoteMKI)
	}
}

// TestSRTPRefusals: what Ringdesk refuses, and how. Every refusal matches
// ErrNoCommonCodec (488) and never shows a key.
func TestSRTPRefusals(t *testing.T) {
	offer := NewOffer(srtpLocal())
	ourKey := base64.StdEncoding.EncodeToString(offer.Media().Crypto[0].Key)
	answerWith := func(mline string, attrs ...string) string {
		return sdpText(append([]string{
			"v=0", "o=- 5 5 IN IP4 198.51.100.40", "s=-", "c=IN IP4 198.51.100.40", "t=0 0", mline, "a=rtpmap:0 PCMU/8000",
		}, attrs...)...)
	}
	tests := []struct {
		name   string
		offer  string // an offer to answer, or
		answer string // an answer to Ringdesk's SRTP offer, or
		plain  string // an answer to Ringdesk's plain offer
		err    error
		reason string
	}{
		{
			name:  "offer without a usable suite",
			offer: offerWith("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:"+key30(1)+key30(2)[:24], "a=crypto:2 F8_128_HMAC_SHA1_80 inline:"+key30(3)),
			err:   ErrNoCrypto, reason: `tag 1: crypto suite "AES_256_CM_HMAC_SHA1_80" is not supported; tag 2: crypto suite "F8_128_HMAC_SHA1_80"`,
		},
		{
			name:  "offer with a malformed inline key",
			offer: offerWith("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)[:20]+"!!"+key30(1)[22:]),
			err:   ErrNoCrypto, reason: "tag 1: key is not base64",
		},
		{
			name:  "offer with a key of the wrong length",
			offer: offerWith("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)+key30(2)[:24]),
			err:   ErrNoCrypto, reason: "tag 1: key is 48 bytes, AES_CM_128_HMAC_SHA1_80 needs 30",
		},
		{
			name:  "offer with session parameters",
			offer: offerWith("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)+" UNENCRYPTED_SRTCP"),
			err:   ErrNoCrypto, reason: `session parameter "UNENCRYPTED_SRTCP" is not supported`,
		},
		{
			name:  "offer with a repeated tag",
			offer: offerWith("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1), "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"+key30(2)),
			err:   ErrNoCrypto, reason: "tag 1: used twice",
		},
		{
			name:  "offer with a repeated tag written differently",
			offer: offerWith("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1), "a=crypto:\t01 AES_CM_128_HMAC_SHA1_32 inline:"+key30(2)),
			err:   ErrNoCrypto, reason: "used twice",
		},
		{
			name:  "offer without a=crypto",
			offer: offerWith("m=audio 4000 RTP/SAVP 0"),
			err:   ErrNoCrypto, reason: "no a=crypto attribute",
		},
		{
			name:   "plain RTP answer to our SRTP offer",
			answer: answerWith("m=audio 20000 RTP/AVP 0"),
			err:    ErrSRTPRequired, reason: "answers our RTP/SAVP offer with RTP/AVP",
		},
		{
			name:   "plain RTP answer with a=crypto",
			answer: answerWith("m=audio 20000 RTP/AVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)),
			err:    ErrSRTPRequired,
		},
		{
			name:   "SRTP answer without a=crypto",
			answer: answerWith("m=audio 20000 RTP/SAVP 0"),
			err:    ErrNoCrypto, reason: "no a=crypto attribute",
		},
		{
			name:   "answer with a tag we did not offer",
			answer: answerWith("m=audio 20000 RTP/SAVP 0", "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)),
			err:    ErrNoCrypto, reason: "no a=crypto with the tag and suite of one we offered",
		},
		{
			name:   "answer with another suite for the tag",
			answer: answerWith("m=audio 20000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"+key30(1)),
			err:    ErrNoCrypto,
		},
		{
			name:   "answer with a malformed key",
			answer: answerWith("m=audio 20000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)[:38]+"=*"),
			err:    ErrNoCrypto, reason: "tag 1: key is not base64",
		},
		{
			name:   "answer with a key of the wrong length",
			answer: answerWith("m=audio 20000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)[:32]),
			err:    ErrNoCrypto, reason: "tag 1: key is 24 bytes",
		},
		{
			name:   "answer echoing our key back, unusable",
			answer: answerWith("m=audio 20000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+ourKey+" KDR=2"),
			err:    ErrNoCrypto, reason: `session parameter "KDR"`,
		},
		{
			name:  "SRTP answer to our plain offer",
			plain: answerWith("m=audio 20000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30(1)),
			err:   ErrNoAudio, reason: "answers our RTP/AVP offer with RTP/SAVP",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			var text string
			switch {
			case tt.offer != "":
				text = tt.offer
				var a *Answer
				a, _, err = mustParseOffer(t, tt.offer).Answer(goldenLocal())
				if a != nil {
					t.Errorf("an answer with the error")
				}
			case tt.answer != "":
				text = tt.answer
				_, err = mustParseAnswer(t, tt.answer).Negotiate(offer)
			default:
				text = tt.plain
				_, err = mustParseAnswer(t, tt.plain).Negotiate(NewOffer(goldenLocal()))
			}
			if !errors.Is(err, tt.err) || !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("error %v, want %v and ErrNoCommonCodec", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			checkNoKey(t, err.Error(), text)
			checkNoKey(t, err.Error(), string(offer.Marshal()))
		})
	}
}

// TestSRTPAnswerKeys: every answer to an SRTP offer has a fresh key of its
// own, none of the offer's, and the answer carries exactly one a=crypto.
func TestSRTPAnswerKeys(t *testing.T) {
	offer := mustParseOffer(t, string(readTestdata(t, "offers/srtp-trunk.sdp")))
	l := goldenLocal()
	l.Rand = nil
	a1, n1, err := offer.Answer(l)
	if err != nil {
		t.Fatal(err)
	}
	_, n2, err := offer.Answer(l)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(n1.SRTP.Local, n2.SRTP.Local) {
		t.Error("two answers share a key")
	}
	for _, c := range offer.Media().Crypto {
		if bytes.Equal(c.Key, n1.SRTP.Local) {
			t.Error("the answer reuses an offered key")
		}
	}
	if !bytes.Equal(n1.SRTP.Remote, offer.Media().Crypto[0].Key) {
		t.Error("the remote key is not the offer's first")
	}
	if got := strings.Count(string(a1.Marshal()), "a=crypto:"); got != 1 {
		t.Errorf("answer has %d a=crypto lines, want 1", got)
	}
	if cs := a1.Media().Crypto; len(cs) != 1 || !bytes.Equal(cs[0].Key, n1.SRTP.Local) || cs[0].Tag != 1 {
		t.Errorf("answer media crypto %s", describeCryptos(cs))
	}
	// What callers print shows no key.
	for _, out := range []string{fmt.Sprintf("%+v", n1), fmt.Sprintf("%v", *n1.SRTP), fmt.Sprintf("%+v", a1.Media()), fmt.Sprintf("%#v", offer.Media().Crypto)} {
		for _, k := range [][]byte{n1.SRTP.Local, n1.SRTP.Remote} {
			if strings.Contains(out, base64.StdEncoding.EncodeToString(k)[:12]) || strings.Contains(out, fmt.Sprintf("%d", []byte(k[:6]))[1:12]) {
				t.Errorf("printed negotiation shows a key: %s", out)
			}
		}
	}
}

// TestNegotiateBaresipSRTP reads the answer baresip 1.0 (srtp module,
// mediaenc=srtp-mand) gave to Ringdesk's SRTP offer on loopback: it took tag
// 1, AES_CM_128_HMAC_SHA1_80, with a key of its own.
func TestNegotiateBaresipSRTP(t *testing.T) {
	local := capturedLocal()
	local.SRTP = true
	local.Rand = testRand()
	offer := NewOffer(local)
	body := readTestdata(t, "peer-answers/baresip-srtp.sdp")
	n, err := mustParseAnswer(t, string(body)).Negotiate(offer)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := base64.StdEncoding.DecodeString("drC4lYml1EpoXzIh0VdvYm8Xg5nPj5yCFmnMZHzb")
	if n.SRTP == nil || n.SRTP.Suite != srtp.AESCM128HMACSHA1_80 || !bytes.Equal(n.SRTP.Remote, want) ||
		!bytes.Equal(n.SRTP.Local, offer.Media().Crypto[0].Key) || n.SRTP.RemoteMKI != nil {
		t.Errorf("negotiated %s", describeNegotiated(n))
	}
	if n.Remote != netip.MustParseAddrPort("127.0.0.1:38826") || n.Codec != PCMU || n.Ptime != 20 {
		t.Errorf("negotiated %s", describeNegotiated(n))
	}
}
