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
