package sdp

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// addSeeds adds every .sdp file under testdata as a seed, and variants with
// LF line endings and no final line ending.
func addSeeds(f *testing.F) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.sdp"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=recvonly"))
	f.Add([]byte("v=0\rc=IN IP6 ::ffff:1.2.3.4\ro=- 1 1 IN IP6 ::1\rm=audio 4000/2 RTP/AVPF 96 0\ra=rtpmap:96 PCMU/8000/1\ra=ptime:20.5\rm=image 9 udptl t38\r"))
	f.Add([]byte(""))
}

// fuzzLocal is Ringdesk's side when fuzzing answers.
func fuzzLocal() Local {
	return Local{
		Addr:      netip.MustParseAddr("192.0.2.10"),
		Port:      40000,
		Codecs:    []Codec{PCMU, PCMA, {PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 2}},
		DTMF:      true,
		SessionID: 1,
		Version:   1,
		Rand:      testRand(),
	}
}

// checkRoundTrip checks that what parsed marshals and parses again to the
// same audio stream.
func checkRoundTrip(t *testing.T, body []byte, m Media, reparse func([]byte) (Media, error)) {
	t.Helper()
	again, err := reparse(body)
	if err != nil {
		t.Fatalf("Marshal output does not parse: %v\n%q", err, body)
	}
	if !mediaEqual(m, again) {
		t.Fatalf("round trip changed Media:\n got %s\nwant %s\n%q", describeMedia(again), describeMedia(m), body)
	}
}

func reparseOffer(b []byte) (Media, error) {
	o, err := ParseOffer(b)
	if err != nil {
		return Media{}, err
	}
	return o.Media(), nil
}

func reparseAnswer(b []byte) (Media, error) {
	a, err := ParseAnswer(b)
	if err != nil {
		return Media{}, err
	}
	return a.Media(), nil
}

// FuzzParseOffer: ParseOffer never panics; what parses marshals and parses
// again to the same Media; Answer never panics, and what it answers parses as
// an Answer that the offerer can negotiate.
func FuzzParseOffer(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := ParseOffer(body)
		if err != nil {
			return
		}
		checkRoundTrip(t, o.Marshal(), o.Media(), reparseOffer)

		a, n, err := o.Answer(fuzzLocal())
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("Answer error %v does not match ErrNoCommonCodec", err)
			}
			return
		}
		if _, ok := findCodec(fuzzLocal().Codecs, n.Codec); !ok {
			t.Fatalf("negotiated %s, which we do not accept", describeCodec(n.Codec))
		}
		if _, ok := n.RecvPayloadTypes[n.Codec.PayloadType]; !ok {
			t.Fatalf("payload type %d of the codec is not received", n.Codec.PayloadType)
		}
		checkRoundTrip(t, a.Marshal(), a.Media(), reparseAnswer)
		parsed, err := ParseAnswer(a.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := parsed.Negotiate(o)
		if err != nil {
			t.Fatalf("offerer cannot negotiate our answer: %v\n%q\n%q", err, o.Marshal(), a.Marshal())
		}
		checkSRTPPair(t, o.Media(), n, theirs)
	})
}

// checkSRTPPair checks the keys of an SRTP offer we answered: ours validate,
// the remote key is one the offer listed, and the offerer, reading our
// answer, pairs the same keys the other way round.
func checkSRTPPair(t *testing.T, offered Media, ours, theirs Negotiated) {
	t.Helper()
	if !offered.Secure() {
		if ours.SRTP != nil || theirs.SRTP != nil {
			t.Fatalf("SRTP keys for a %s stream", offered.Proto)
		}
		return
	}
	if ours.SRTP == nil || theirs.SRTP == nil {
		t.Fatalf("no SRTP keys for a %s stream", offered.Proto)
	}
	if err := ours.SRTP.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(offered.Crypto, func(c Crypto) bool {
		return c.Suite == ours.SRTP.Suite && bytes.Equal(c.Key, ours.SRTP.Remote) && bytes.Equal(c.MKI, ours.SRTP.RemoteMKI)
	}) {
		t.Fatal("our remote key is not one the offer listed")
	}
	if theirs.SRTP.Suite != ours.SRTP.Suite || !bytes.Equal(theirs.SRTP.Remote, ours.SRTP.Local) {
		t.Fatal("the offerer does not pair our answer's key")
	}
}

// FuzzParseAnswer: ParseAnswer never panics; what parses marshals and parses
// again to the same Media; Negotiate against Ringdesk's offer, plain or SRTP,
// never panics, agrees only on codecs we offered, and on SRTP keys only for
// an SRTP offer, pairing a key we offered with a valid one of the answer.
func FuzzParseAnswer(f *testing.F) {
	addSeeds(f)
	plain := NewOffer(fuzzLocal())
	secureLocal := fuzzLocal()
	secureLocal.SRTP = true
	secure := NewOffer(secureLocal)
	f.Add(secure.Marshal()) // an answer shaped like our offer has our keys and tags
	for _, v := range []string{"", "|2^31", "|1:4", "|2^20|7:2"} {
		f.Add([]byte(sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.70", "s=-", "c=IN IP4 192.0.2.70", "t=0 0",
			"m=audio 12000 RTP/SAVP 0 101", "a=rtpmap:101 telephone-event/8000",
			"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"+key30(7)+v)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAnswer(body)
		if err != nil {
			return
		}
		checkRoundTrip(t, a.Marshal(), a.Media(), reparseAnswer)
		if n, err := a.Negotiate(secure); err == nil {
			if n.SRTP == nil || n.SRTP.Validate() != nil {
				t.Fatalf("SRTP negotiated without valid keys: %v", n.SRTP)
			}
			if !slices.ContainsFunc(secure.Media().Crypto, func(c Crypto) bool {
				return c.Suite == n.SRTP.Suite && bytes.Equal(c.Key, n.SRTP.Local)
			}) {
				t.Fatal("our SRTP key is not one we offered with that suite")
			}
		} else if !errors.Is(err, ErrNoCommonCodec) {
			t.Fatalf("Negotiate error %v does not match ErrNoCommonCodec", err)
		}
		n, err := a.Negotiate(plain)
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("Negotiate error %v does not match ErrNoCommonCodec", err)
			}
			return
		}
		if n.SRTP != nil {
			t.Fatal("SRTP keys for a plain offer")
		}
		if _, ok := findCodec(fuzzLocal().Codecs, n.Codec); !ok {
			t.Fatalf("negotiated %s, which we did not offer", describeCodec(n.Codec))
		}
		for pt, c := range n.RecvPayloadTypes {
			if pt != c.PayloadType {
				t.Fatalf("RecvPayloadTypes[%d] = %s", pt, describeCodec(c))
			}
		}
	})
}

// FuzzParseCrypto: parseCrypto never panics; what it accepts has a suite
// Ringdesk speaks and a key of its length, and writes back to a value that
// parses to the same attribute; what it refuses matches ErrNoCrypto and never
// repeats key material.
func FuzzParseCrypto(f *testing.F) {
	k := key30(1)
	for _, v := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + k,
		"2 AES_CM_128_HMAC_SHA1_32 inline:" + k + "|2^31",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|1:32",
		"7 AES_CM_128_HMAC_SHA1_80 INLINE:" + k + "|1048576|65535:2 WSH=64",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + "|2^20|1:4;inline:" + key30(2) + "|2^20|2:4",
		"1 AES_256_CM_HMAC_SHA1_80 inline:" + k + key30(3)[:24],
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " KDR=1 UNENCRYPTED_SRTP",
		"inline:" + k + " AES_CM_128_HMAC_SHA1_80 1",
		"1 inline:" + k + " AES_CM_128_HMAC_SHA1_80",
		"1 AES_CM_128_HMAC_SHA1_80 " + k,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + k + " " + k,
		"",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseCrypto(v)
		if err != nil {
			if !errors.Is(err, ErrNoCrypto) {
				t.Fatalf("error %v does not match ErrNoCrypto", err)
			}
			checkNoSecret(t, err.Error(), v)
			return
		}
		if !c.Suite.Valid() || len(c.Key) != c.Suite.KeyLen() || len(c.MKI) > 128 || c.Lifetime > 1<<48 || c.Tag > 999999999 {
			t.Fatalf("accepted %s", describeCrypto(c))
		}
		again, err := parseCrypto(c.value())
		if err != nil || !again.equal(c) {
			t.Fatalf("%q (from %q) parses back as %s, %v; want %s", c.value(), v, describeCrypto(again), err, describeCrypto(c))
		}
	})
}

// checkNoSecret fails if msg repeats 12 or more consecutive base64
// characters of value's key-params or session parameter values (all but the
// tag, the suite and the session parameter names, which errors may quote).
func checkNoSecret(t *testing.T, msg, value string) {
	t.Helper()
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) < 3 {
		return
	}
	quotable := slices.Clone(fields[:2])
	if method, _, ok := strings.Cut(fields[2], ":"); ok {
		quotable = append(quotable, method)
	}
	for _, p := range fields[3:] {
		name, _, _ := strings.Cut(p, "=")
		quotable = append(quotable, name)
	}
	isB64 := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
	}
	for _, secret := range fields[2:] {
		for i := 0; i < len(secret); {
			j := i
			for j < len(secret) && isB64(secret[j]) {
				j++
			}
			for k := i; k+12 <= j; k++ {
				w := secret[k : k+12]
				if strings.Contains(msg, w) && !slices.ContainsFunc(quotable, func(q string) bool { return strings.Contains(q, w) }) {
					t.Fatalf("error %q repeats %q of %q", msg, w, value)
				}
			}
			i = max(j, i+1)
		}
	}
}
