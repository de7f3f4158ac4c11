package sdp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ringdesk/ringdesk/media/sdp"
)

func ExampleOffer_Answer() {
	body := []byte("v=0\n" + // a phone's INVITE body, with LF line endings
		"o=- 1945673227 1752269635 IN IP4 192.0.2.20\n" +
		"s=-\n" +
		"c=IN IP4 192.0.2.20\n" +
		"t=0 0\n" +
		"m=audio 6000 RTP/AVP 8 0 101\n" +
		"a=rtpmap:101 telephone-event/8000\n" +
		"a=fmtp:101 0-15\n" +
		"a=sendonly")
	offer, err := sdp.ParseOffer(body)
	if err != nil {
		fmt.Println("400:", err)
		return
	}
	answer, n, err := offer.Answer(sdp.Local{
		Addr:      netip.MustParseAddr("198.51.100.1"),
		Port:      40000,
		DTMF:      true,
		SessionID: 7,
		Version:   1,
	})
	if errors.Is(err, sdp.ErrNoCommonCodec) {
		fmt.Println("488:", err)
		return
	}
	fmt.Printf("send %s/%d (PT %d) to %v, DTMF PT %d, we may %v\n",
		n.Codec.Name, n.Codec.ClockRate, n.Codec.PayloadType, n.Remote, n.DTMF.PayloadType, n.Direction)
	fmt.Print(strings.ReplaceAll(string(answer.Marshal()), "\r\n", "\n")) // CRLF on the wire
	// Output:
	// send PCMA/8000 (PT 8) to 192.0.2.20:6000, DTMF PT 101, we may recvonly
	// v=0
	// o=ringdesk 7 1 IN IP4 198.51.100.1
	// s=-
	// c=IN IP4 198.51.100.1
	// t=0 0
	// m=audio 40000 RTP/AVP 8 0 101
	// a=rtpmap:8 PCMA/8000
	// a=rtpmap:0 PCMU/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-15
	// a=recvonly
}

func ExampleAnswer_Negotiate() {
	offer := sdp.NewOffer(sdp.Local{
		Addr:      netip.MustParseAddr("198.51.100.1"),
		Port:      40000,
		DTMF:      true,
		SessionID: 8,
		Version:   1,
		Ptime:     20,
	})
	// ... send offer.Marshal() in an INVITE; the 200 OK carries:
	answer, err := sdp.ParseAnswer([]byte("v=0\r\n" +
		"o=- 9 9 IN IP4 192.0.2.70\r\n" +
		"s=-\r\n" +
		"c=IN IP4 192.0.2.70\r\n" +
		"t=0 0\r\n" +
		"m=audio 12000 RTP/AVP 96 97\r\n" +
		"a=rtpmap:96 PCMA/8000\r\n" +
		"a=rtpmap:97 telephone-event/8000\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := answer.Negotiate(offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("send %s with PT %d to %v; DTMF with PT %d\n", n.Codec.Name, n.Codec.PayloadType, n.Remote, n.DTMF.PayloadType)
	// Output:
	// send PCMA with PT 96 to 192.0.2.70:12000; DTMF with PT 97
}

// A trunk's INVITE offers SRTP with SDES keys: the answer takes its first
// usable suite with a fresh key of Ringdesk's own, and Negotiated.SRTP holds
// both keys for media.Params.SRTP. Keys never print.
func ExampleOffer_Answer_srtp() {
	offer, err := sdp.ParseOffer([]byte("v=0\r\n" +
		"o=SBC 1 1 IN IP4 198.51.100.40\r\n" +
		"s=-\r\n" +
		"c=IN IP4 198.51.100.40\r\n" +
		"t=0 0\r\n" +
		"m=audio 20000 RTP/SAVP 8 101\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdA==\r\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31\r\n"))
	if err != nil {
		fmt.Println("400:", err)
		return
	}
	answer, n, err := offer.Answer(sdp.Local{Addr: netip.MustParseAddr("192.0.2.10"), Port: 40000, DTMF: true})
	if errors.Is(err, sdp.ErrNoCommonCodec) { // also ErrNoCrypto: no usable a=crypto
		fmt.Println("488:", err)
		return
	}
	m := answer.Media()
	fmt.Println(m.Proto, "tag", m.Crypto[0].Tag, m.Crypto[0].Suite, "key", m.Crypto[0].Key)
	fmt.Printf("negotiated %v, %d-byte keys each way\n", n.SRTP, len(n.SRTP.Local))
	// Output:
	// RTP/SAVP tag 2 AES_CM_128_HMAC_SHA1_80 key [redacted]
	// negotiated {AES_CM_128_HMAC_SHA1_80 keys [redacted]}, 30-byte keys each way
}
