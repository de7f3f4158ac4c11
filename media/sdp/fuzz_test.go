package sdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
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
		if _, err := parsed.Negotiate(o); err != nil {
			t.Fatalf("offerer cannot negotiate our answer: %v\n%q\n%q", err, o.Marshal(), a.Marshal())
		}
	})
}

// FuzzParseAnswer: ParseAnswer never panics; what parses marshals and parses
// again to the same Media; Negotiate against Ringdesk's offer never panics and
// agrees only on codecs we offered.
func FuzzParseAnswer(f *testing.F) {
	addSeeds(f)
	offer := NewOffer(fuzzLocal())
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAnswer(body)
		if err != nil {
			return
		}
		checkRoundTrip(t, a.Marshal(), a.Media(), reparseAnswer)
		n, err := a.Negotiate(offer)
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("Negotiate error %v does not match ErrNoCommonCodec", err)
			}
			return
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
