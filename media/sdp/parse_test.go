package sdp

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ringdesk/ringdesk/media/srtp"
)

func TestParseOfferRealWorld(t *testing.T) {
	dtmf := func(pt uint8, fmtp string) *Codec {
		return &Codec{PayloadType: pt, Name: "telephone-event", ClockRate: 8000, Fmtp: fmtp}
	}
	baresip := Media{
		Addr: netip.MustParseAddr("127.0.0.6"), Port: 20054, Proto: "RTP/AVP",
		Codecs: []Codec{PCMU, PCMA}, DTMF: dtmf(101, "0-15"), Direction: SendRecv, Ptime: 20,
	}
	tests := []struct {
		file string
		want Media
	}{
		{"sipp-uac", Media{
			Addr: netip.MustParseAddr("192.0.2.20"), Port: 6000, Proto: "RTP/AVP",
			Codecs: []Codec{PCMU, PCMA}, DTMF: dtmf(101, "0-15"), Direction: SendRecv,
		}},
		{"baresip", baresip},
		{"baresip-lf-noeol", baresip},
		{"linphone", Media{
			Addr: netip.MustParseAddr("fd00::2"), Port: 7078, Proto: "RTP/AVP",
			Codecs: []Codec{
				{PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
				{PayloadType: 97, Name: "speex", ClockRate: 16000, Fmtp: "vbr=on"},
				{PayloadType: 98, Name: "speex", ClockRate: 8000, Fmtp: "vbr=on"},
				PCMU, PCMA,
				{PayloadType: 18, Name: "G729", ClockRate: 8000, Fmtp: "annexb=yes"},
			},
			DTMF: dtmf(101, ""), Direction: SendRecv,
		}},
		{"webrtc-chromium", Media{
			Addr: netip.MustParseAddr("127.0.0.1"), Port: 38288, Proto: "UDP/TLS/RTP/SAVPF",
			Codecs: []Codec{
				{PayloadType: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"},
				{PayloadType: 9, Name: "G722", ClockRate: 8000},
				PCMU, PCMA,
			},
			DTMF: dtmf(126, ""), Direction: SendRecv,
		}},
		{"hold-sendonly", Media{
			Addr: netip.MustParseAddr("127.0.0.6"), Port: 20054, Proto: "RTP/AVP",
			Codecs: []Codec{PCMU, PCMA}, DTMF: dtmf(101, "0-15"), Direction: SendOnly, Ptime: 20,
		}},
		{"hold-inactive", Media{
			Addr: netip.MustParseAddr("192.0.2.30"), Port: 7078, Proto: "RTP/AVP",
			Codecs: []Codec{PCMU, PCMA}, DTMF: dtmf(101, ""), Direction: Inactive,
		}},
		{"hold-rfc2543", Media{
			Addr: netip.IPv4Unspecified(), Port: 6000, Proto: "RTP/AVP",
			Codecs: []Codec{PCMU, PCMA}, DTMF: dtmf(101, "0-15"), Direction: SendOnly,
		}},
		{"hold-session-sendonly", Media{
			Addr: netip.MustParseAddr("198.51.100.7"), Port: 17180, Proto: "RTP/AVP",
			Codecs: []Codec{PCMA, PCMU}, DTMF: dtmf(101, "0-16"), Direction: SendOnly, Ptime: 20,
		}},
		{"static-no-rtpmap", Media{
			Addr: netip.MustParseAddr("203.0.113.9"), Port: 5004, Proto: "RTP/AVP",
			Codecs: []Codec{
				{PayloadType: 18, Name: "G729", ClockRate: 8000},
				{PayloadType: 4, Name: "G723", ClockRate: 8000},
				PCMA, PCMU,
			},
			Direction: SendRecv, Ptime: 30, Maxptime: 60,
		}},
		{"two-audio", Media{ // the SRTP stream: it has a usable a=crypto
			Addr: netip.MustParseAddr("192.0.2.61"), Port: 10000, Proto: "RTP/SAVP",
			Codecs: []Codec{PCMU, PCMA}, DTMF: dtmf(101, ""), Direction: SendRecv,
			Crypto: []Crypto{{
				Tag: 1, Suite: srtp.AESCM128HMACSHA1_80, Key: srtp.Key("=-n@%^x!Bjufr9)?,#5h\\`=&]{qiPQ"),
				Lifetime: 1 << 20, MKI: append(make([]byte, 31), 1),
			}},
		}},
		{"sloppy-gateway", Media{
			Addr: netip.MustParseAddr("198.51.100.21"), Port: 30000, Proto: "RTP/AVP",
			Codecs:    []Codec{{PayloadType: 8, Name: "pcma", ClockRate: 8000}, PCMU},
			DTMF:      &Codec{PayloadType: 101, Name: "Telephone-Event", ClockRate: 8000, Fmtp: "0-15"},
			Direction: SendRecv, Ptime: 20,
		}},
		{"t38-reinvite", Media{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			o, err := ParseOffer(readTestdata(t, "offers/"+tt.file+".sdp"))
			if err != nil {
				t.Fatal(err)
			}
			assertMedia(t, o.Media(), tt.want)
		})
	}
}

// TestLineEndings parses every offer in testdata/offers with other line
// endings, without the final one, and with stray whitespace: all give the
// same description.
func TestLineEndings(t *testing.T) {
	variants := []struct {
		name string
		edit func(lines []string) string
	}{
		{"crlf", func(l []string) string { return strings.Join(l, "\r\n") + "\r\n" }},
		{"crlf without final crlf", func(l []string) string { return strings.Join(l, "\r\n") }},
		{"lf", func(l []string) string { return strings.Join(l, "\n") + "\n" }},
		{"lf without final lf", func(l []string) string { return strings.Join(l, "\n") }},
		{"cr", func(l []string) string { return strings.Join(l, "\r") + "\r" }},
		{"mixed", func(l []string) string {
			var b strings.Builder
			for i, s := range l {
				b.WriteString(s)
				b.WriteString([]string{"\r\n", "\n"}[i%2])
			}
			return b.String()
		}},
		{"trailing whitespace and empty lines", func(l []string) string {
			return strings.Join(l, " \t\r\n") + "\r\n\r\n \r\n\t\n\n"
		}},
		{"leading empty lines", func(l []string) string { return "\r\n\n" + strings.Join(l, "\r\n") + "\r\n" }},
		{"utf-8 bom", func(l []string) string { return "\ufeff" + strings.Join(l, "\r\n") + "\r\n" }},
	}
	for _, name := range testdataNames(t, "offers") {
		body := readTestdata(t, "offers/"+name+".sdp")
		want, err := ParseOffer(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines := strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' })
		for _, v := range variants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				got, err := ParseOffer([]byte(v.edit(lines)))
				if err != nil {
					t.Fatal(err)
				}
				assertMedia(t, got.Media(), want.Media())
				if !bytes.Equal(got.Marshal(), want.Marshal()) {
					t.Errorf("Marshal:\n%s\nwant\n%s", got.Marshal(), want.Marshal())
				}
			})
		}
	}
}

func TestParseErrors(t *testing.T) {
	valid := offerWith("m=audio 4000 RTP/AVP 0")
	pad := func(n int) string { // valid, then attribute lines up to exactly n bytes
		var b strings.Builder
		b.WriteString(valid)
		for n-b.Len() > 102 {
			b.WriteString("a=x-pad:" + strings.Repeat("p", 90) + "\r\n")
		}
		b.WriteString("a=" + strings.Repeat("p", n-b.Len()-2))
		return b.String()
	}
	mlines := func(n int) string {
		var b strings.Builder
		b.WriteString(valid)
		for range n - 1 {
			b.WriteString("m=video 0 RTP/AVP 96\r\n")
		}
		return b.String()
	}
	tests := []struct {
		name string
		body string
		want error  // nil: parses
		text string // in the message
	}{
		{"empty", "", ErrMalformed, "empty"},
		{"blank lines only", "\r\n \r\n\n", ErrMalformed, "empty"},
		{"not sdp", "hello world", ErrMalformed, "line 1"},
		{"line without =", valid + "a\r\n", ErrMalformed, `"a"`},
		{"version 1", strings.Replace(valid, "v=0", "v=1", 1), ErrMalformed, ""},
		{"unknown line type", valid + "x=1\r\n", ErrMalformed, ""},
		{"no o= line", strings.Replace(valid, "o=- 1 1 IN IP4 192.0.2.1\r\n", "", 1), ErrMalformed, ""},
		{"port out of range", offerWith("m=audio 70000 RTP/AVP 0"), ErrMalformed, ""},
		{"port not a number", offerWith("m=audio x RTP/AVP 0"), ErrMalformed, ""},
		{"short m= line", offerWith("m=audio 4000"), ErrMalformed, ""},
		{
			"host name address", strings.Replace(valid, "c=IN IP4 192.0.2.1", "c=IN IP4 pbx.example.com", 1),
			ErrMalformed, `connection address "pbx.example.com"`,
		},
		{
			"ipv6 address as IP4", strings.Replace(valid, "c=IN IP4 192.0.2.1", "c=IN IP4 2001:db8::1", 1),
			ErrMalformed, "not IPv4",
		},
		{
			"bad media-level address", offerWith("m=audio 4000 RTP/AVP 0", "c=IN IP4 300.1.1.1"),
			ErrMalformed, "300.1.1.1",
		},
		{
			"no connection address", strings.Replace(valid, "c=IN IP4 192.0.2.1\r\n", "", 1),
			ErrMalformed, "no connection address",
		},
		{"too large", pad(MaxBodySize + 1), ErrTooLarge, "65537 bytes"},
		{"largest", pad(MaxBodySize), nil, ""},
		{"too many m= lines", mlines(MaxMediaLines + 1), ErrTooManyMedia, "64"},
		{"most m= lines", mlines(MaxMediaLines), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, parse := range []func([]byte) error{
				func(b []byte) error { _, err := ParseOffer(b); return err },
				func(b []byte) error { _, err := ParseAnswer(b); return err },
			} {
				err := parse([]byte(tt.body))
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
				if err != nil && !strings.Contains(err.Error(), tt.text) {
					t.Errorf("error %q does not mention %q", err, tt.text)
				}
			}
		})
	}
}

func TestParseMedia(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	te := &Codec{PayloadType: 101, Name: "telephone-event", ClockRate: 8000}
	tests := []struct {
		name string
		body string
		want Media
	}{
		{
			"static payload types get RFC 3551 names",
			offerWith("m=audio 4000 RTP/AVP 0 3 8 9 13 18"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{
				PCMU,
				{PayloadType: 3, Name: "GSM", ClockRate: 8000},
				PCMA,
				{PayloadType: 9, Name: "G722", ClockRate: 8000},
				{PayloadType: 18, Name: "G729", ClockRate: 8000},
			}},
		},
		{
			"rtpmap overrides a static name, fmtp applies to static payload types",
			offerWith("m=audio 4000 RTP/AVP 18 0", "a=rtpmap:0 pcmu/8000", "a=fmtp:18 annexb=no"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{
				{PayloadType: 18, Name: "G729", ClockRate: 8000, Fmtp: "annexb=no"},
				{PayloadType: 0, Name: "pcmu", ClockRate: 8000},
			}},
		},
		{
			"dynamic payload types without rtpmap and bad formats are ignored",
			offerWith("m=audio 4000 RTP/AVP 96 0 0 128 x -1 101 102",
				"a=rtpmap:102 telephone-event", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:77 PCMA/8000"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}, DTMF: te},
		},
		{
			"first rtpmap and fmtp of a payload type win",
			offerWith("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMA/8000", "a=rtpmap:96 PCMU/8000",
				"a=fmtp:96 a=1", "a=fmtp:96 b=2"),
			Media{
				Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv,
				Codecs: []Codec{{PayloadType: 96, Name: "PCMA", ClockRate: 8000, Fmtp: "a=1"}},
			},
		},
		{
			"malformed rtpmaps are ignored",
			offerWith("m=audio 4000 RTP/AVP 96 97 98 99 100", "a=rtpmap:96 PCMA", "a=rtpmap:97 PCMA/0",
				"a=rtpmap:98 PCMA/8000/x", "a=rtpmap:99 /8000", "a=rtpmap:100 PC MA/8000"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv},
		},
		{
			"comfort noise, red and telephone-event are not codecs",
			offerWith("m=audio 4000 RTP/AVP 13 96 0 97 98", "a=rtpmap:96 CN/16000", "a=rtpmap:97 red/8000",
				"a=rtpmap:98 telephone-event/48000"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"first telephone-event at 8000 Hz",
			offerWith("m=audio 4000 RTP/AVP 0 110 101 102", "a=rtpmap:110 telephone-event/48000",
				"a=rtpmap:101 telephone-event/8000", "a=rtpmap:102 telephone-event/8000"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}, DTMF: te},
		},
		{
			"channels",
			offerWith("m=audio 4000 RTP/AVP 96 97", "a=rtpmap:96 opus/48000/2", "a=rtpmap:97 L16/8000/1"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{
				{PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 2},
				{PayloadType: 97, Name: "L16", ClockRate: 8000, Channels: 1},
			}},
		},
		{
			"media-level direction over session-level",
			sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly",
				"m=audio 4000 RTP/AVP 0", "a=recvonly"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: RecvOnly, Codecs: []Codec{PCMU}},
		},
		{
			"rfc 2543 hold with recvonly is inactive",
			sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
				"m=audio 4000 RTP/AVP 0", "a=recvonly"),
			Media{Addr: netip.IPv4Unspecified(), Port: 4000, Proto: "RTP/AVP", Direction: Inactive, Codecs: []Codec{PCMU}},
		},
		{
			"rfc 2543 hold with sendonly stays sendonly",
			offerWith("m=audio 4000 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=sendonly"),
			Media{Addr: netip.IPv4Unspecified(), Port: 4000, Proto: "RTP/AVP", Direction: SendOnly, Codecs: []Codec{PCMU}},
		},
		{
			"ipv6 unspecified is hold too",
			offerWith("m=audio 4000 RTP/AVP 0", "c=IN IP6 ::"),
			Media{Addr: netip.IPv6Unspecified(), Port: 4000, Proto: "RTP/AVP", Direction: SendOnly, Codecs: []Codec{PCMU}},
		},
		{
			"media-level address over session-level, multicast ttl dropped",
			offerWith("m=audio 4000 RTP/AVP 0", "c=IN IP4 224.2.1.1/127"),
			Media{Addr: netip.MustParseAddr("224.2.1.1"), Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"ipv4-mapped ipv6",
			offerWith("m=audio 4000 RTP/AVP 0", "c=IN IP6 ::ffff:192.0.2.7"),
			Media{Addr: netip.MustParseAddr("::ffff:192.0.2.7"), Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"ptime and maxptime bounds",
			offerWith("m=audio 4000 RTP/AVP 0", "a=ptime:100000", "a=maxptime:-5"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"port range",
			offerWith("m=audio 4000/2 RTP/AVP 0"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"disabled stream without connection address",
			sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 0 RTP/AVP 0"),
			Media{Port: 0, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"enabled RTP/AVP stream preferred over an earlier one",
			offerWith("m=audio 0 RTP/AVP 0", "m=audio 5000 RTP/AVPF 8"),
			Media{Addr: ip, Port: 5000, Proto: "RTP/AVPF", Direction: SendRecv, Codecs: []Codec{PCMA}},
		},
		{
			"no audio",
			offerWith("m=video 4000 RTP/AVP 96", "a=rtpmap:96 H264/90000"),
			Media{},
		},
		{
			"no media",
			sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"),
			Media{},
		},
		{
			"u= that is not a URI, several e= and p=",
			sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "u=http://a b/", "e=a@example.com", "e=b@example.com",
				"p=+1 555 0100", "p=+1 555 0101", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 4000 RTP/AVP 0"),
			Media{Addr: ip, Port: 4000, Proto: "RTP/AVP", Direction: SendRecv, Codecs: []Codec{PCMU}},
		},
		{
			"missing s= and t=, lines out of order, unknown b= type",
			sdpText("v=0", "c=IN IP4 192.0.2.1", "o=- 1 1 IN IP4 192.0.2.1", "b=FOO:1", "b=AS:64",
				"m=audio 4000 RTP/AVP 0", "a=ptime:20", "b=TIAS:64000", "c=IN IP4 192.0.2.2"),
			Media{
				Addr: netip.MustParseAddr("192.0.2.2"), Port: 4000, Proto: "RTP/AVP", Direction: SendRecv,
				Codecs: []Codec{PCMU}, Ptime: 20,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMedia(t, mustParseOffer(t, tt.body).Media(), tt.want)
			assertMedia(t, mustParseAnswer(t, tt.body).Media(), tt.want)
		})
	}
}

func TestMediaAddr(t *testing.T) {
	tests := []struct {
		name   string
		media  Media
		remote string
		hold   bool
	}{
		{"ipv4", Media{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000, Direction: SendRecv}, "192.0.2.1:4000", false},
		{"ipv6", Media{Addr: netip.MustParseAddr("2001:db8::1"), Port: 4000, Direction: RecvOnly}, "[2001:db8::1]:4000", false},
		{"ipv4-mapped", Media{Addr: netip.MustParseAddr("::ffff:192.0.2.1"), Port: 4000, Direction: SendRecv}, "192.0.2.1:4000", false},
		{"sendonly", Media{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000, Direction: SendOnly}, "192.0.2.1:4000", true},
		{"inactive", Media{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000, Direction: Inactive}, "192.0.2.1:4000", true},
		{"unspecified", Media{Addr: netip.IPv4Unspecified(), Port: 4000, Direction: SendRecv}, "0.0.0.0:4000", true},
		{"none", Media{}, "invalid AddrPort", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.media.RemoteAddr().String(); got != tt.remote {
				t.Errorf("RemoteAddr = %s, want %s", got, tt.remote)
			}
			if got := tt.media.OnHold(); got != tt.hold {
				t.Errorf("OnHold = %t, want %t", got, tt.hold)
			}
		})
	}
}

func TestMediaIsACopy(t *testing.T) {
	o := mustParseOffer(t, string(readTestdata(t, "offers/baresip.sdp")))
	m := o.Media()
	m.Codecs[0].Name = "changed"
	m.DTMF.PayloadType = 1
	assertMedia(t, o.Media(), mustParseOffer(t, string(readTestdata(t, "offers/baresip.sdp"))).Media())
}

// TestMarshalNormalises checks that a parsed description comes out with CRLF
// line endings, in RFC 4566 order, and with T.38's media type and protocol
// as they were.
func TestMarshalNormalises(t *testing.T) {
	o := mustParseOffer(t, "v=0\nc=IN IP4 192.0.2.1\no=- 1 1 IN IP4 192.0.2.1\nm=image 4002 udptl t38\na=T38FaxVersion:0")
	want := sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
		"m=image 4002 udptl t38", "a=T38FaxVersion:0")
	if got := string(o.Marshal()); got != want {
		t.Errorf("Marshal:\n%q\nwant\n%q", got, want)
	}
}

// TestNoAllocationFromNumbers checks that numbers in the SDP do not drive
// allocation: a huge port count, ptime or clock rate costs what a small one
// costs.
func TestNoAllocationFromNumbers(t *testing.T) {
	tests := []struct {
		name       string
		small, big string
	}{
		{
			"numbers that parse",
			offerWith("m=audio 4000/2 RTP/AVP 0 96", "a=ptime:20", "a=maxptime:40", "a=rtpmap:96 opus/48000/2"),
			offerWith("m=audio 4000/2147483647 RTP/AVP 0 96", "a=ptime:2147483647", "a=maxptime:9999999999999",
				"a=rtpmap:96 opus/4294967295/65535"),
		},
		{
			"numbers that do not",
			offerWith("m=audio 4000/x RTP/AVP 0"),
			offerWith("m=audio 4000/99999999999999999999999 RTP/AVP 0"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, smallErr := ParseOffer([]byte(tt.small))
			_, bigErr := ParseOffer([]byte(tt.big))
			if (smallErr == nil) != (bigErr == nil) {
				t.Fatalf("errors differ: %v, %v", smallErr, bigErr)
			}
			want := testing.AllocsPerRun(50, func() { _, _ = ParseOffer([]byte(tt.small)) })
			got := testing.AllocsPerRun(50, func() { _, _ = ParseOffer([]byte(tt.big)) })
			if got > want+2 {
				t.Errorf("%.1f allocations, want about %.1f like\n%s", got, want, tt.small)
			}
		})
	}
}
