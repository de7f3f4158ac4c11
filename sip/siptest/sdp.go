package siptest

import (
	"fmt"
	"strings"
	"sync/atomic"
)

var sdpSession atomic.Uint64 //nolint:gochecknoglobals // monotonic o= session ids for readable traces

// SDP returns a minimal audio offer or answer (RFC 4566, RFC 3264) for a
// phone at ip receiving RTP on port, listing codecs in order: "PCMU" (0),
// "PCMA" (8), "G722" (9), "telephone-event" (101, events 0-16). Attributes
// such as "sendonly", "recvonly" or "inactive" may be given too and are added
// as a= lines. With no codec, PCMU is offered.
func SDP(ip string, port int, codecs ...string) []byte {
	type codec struct {
		pt   int
		rtp  string
		fmtp string
	}
	known := map[string]codec{
		"PCMU":            {0, "PCMU/8000", ""},
		"PCMA":            {8, "PCMA/8000", ""},
		"G722":            {9, "G722/8000", ""},
		"telephone-event": {101, "telephone-event/8000", "0-16"},
	}
	var pts, attrs []string
	var directions []string
	for _, c := range codecs {
		k, ok := known[c]
		if !ok {
			directions = append(directions, "a="+c)
			continue
		}
		pts = append(pts, fmt.Sprint(k.pt))
		attrs = append(attrs, fmt.Sprintf("a=rtpmap:%d %s", k.pt, k.rtp))
		if k.fmtp != "" {
			attrs = append(attrs, fmt.Sprintf("a=fmtp:%d %s", k.pt, k.fmtp))
		}
	}
	if len(pts) == 0 {
		pts = []string{"0"}
		attrs = []string{"a=rtpmap:0 PCMU/8000"}
	}
	id := 1000 + sdpSession.Add(1)
	lines := []string{
		"v=0",
		fmt.Sprintf("o=siptest %d %d IN IP4 %s", id, id, ip),
		"s=siptest",
		"c=IN IP4 " + ip,
		"t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s", port, strings.Join(pts, " ")),
	}
	lines = append(lines, attrs...)
	lines = append(lines, "a=ptime:20")
	lines = append(lines, directions...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}
