package sdp

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// mediaLine returns the m= line of answer body for the m= section at index.
func mediaLine(t *testing.T, body []byte, index int) string {
	t.Helper()
	var mlines []string
	for l := range strings.SplitSeq(string(body), "\r\n") {
		if strings.HasPrefix(l, "m=") {
			mlines = append(mlines, l)
		}
	}
	if index >= len(mlines) {
		t.Fatalf("no m= line %d in\n%s", index, body)
	}
	return mlines[index]
}

func TestAnswerDirection(t *testing.T) {
	tests := []struct {
		offer string // direction attribute of the offer, "" for none
		local Direction
		want  Direction
	}{
		{"", DirectionUnknown, SendRecv},
		{"sendrecv", SendRecv, SendRecv},
		{"sendonly", SendRecv, RecvOnly},
		{"recvonly", SendRecv, SendOnly},
		{"inactive", SendRecv, Inactive},
		{"sendrecv", SendOnly, SendOnly},
		{"sendrecv", RecvOnly, RecvOnly},
		{"sendrecv", Inactive, Inactive},
		{"sendonly", SendOnly, Inactive},
		{"sendonly", RecvOnly, RecvOnly},
		{"recvonly", RecvOnly, Inactive},
		{"recvonly", SendOnly, SendOnly},
		{"inactive", DirectionUnknown, Inactive},
	}
	for _, tt := range tests {
		t.Run(tt.offer+"/"+tt.local.String(), func(t *testing.T) {
			attrs := []string{}
			if tt.offer != "" {
				attrs = append(attrs, "a="+tt.offer)
			}
			local := goldenLocal()
			local.Direction = tt.local
			a, n, err := mustParseOffer(t, offerWith("m=audio 4000 RTP/AVP 0", attrs...)).Answer(local)
			if err != nil {
				t.Fatal(err)
			}
			if n.Direction != tt.want {
				t.Errorf("Negotiated.Direction = %v, want %v", n.Direction, tt.want)
			}
			if !strings.Contains(string(a.Marshal()), "\r\na="+tt.want.String()+"\r\n") {
				t.Errorf("answer does not say a=%v:\n%s", tt.want, a.Marshal())
			}
			if got := a.Media().Direction; got != tt.want {
				t.Errorf("Answer.Media().Direction = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAnswerCodecs(t *testing.T) {
	g729 := Codec{PayloadType: 18, Name: "G729", ClockRate: 8000, Fmtp: "annexb=no"}
	tests := []struct {
		name   string
		offer  string
		local  func(*Local)
		mline  string // the answer's m=audio line
		codec  Codec  // Negotiated.Codec
		dtmf   uint8  // Negotiated.DTMF's payload type, 0 for none
		fmtps  []string
		err    error
		ptimes string // a=ptime line expected in the answer, "" for none
	}{
		{
			name:  "offerer's order kept",
			offer: offerWith("m=audio 4000 RTP/AVP 8 0 101", "a=rtpmap:101 telephone-event/8000"),
			mline: "m=audio 40000 RTP/AVP 8 0 101", codec: PCMA, dtmf: 101,
		},
		{
			name: "offerer's payload types kept",
			offer: offerWith("m=audio 4000 RTP/AVP 96 97 98", "a=rtpmap:96 PCMU/8000", "a=rtpmap:97 PCMA/8000",
				"a=rtpmap:98 telephone-event/8000", "a=fmtp:98 0-11,16"),
			mline: "m=audio 40000 RTP/AVP 96 97 98",
			codec: Codec{PayloadType: 96, Name: "PCMU", ClockRate: 8000}, dtmf: 98,
			fmtps: []string{"a=fmtp:98 0-11,16"},
		},
		{
			name:  "names match ignoring case",
			offer: offerWith("m=audio 4000 RTP/AVP 0", "a=rtpmap:0 pcmu/8000"),
			mline: "m=audio 40000 RTP/AVP 0", codec: Codec{Name: "pcmu", ClockRate: 8000},
		},
		{
			name:  "clock rates must match",
			offer: offerWith("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"),
			err:   ErrNoCommonCodec,
		},
		{
			name:  "telephone-event alone is not enough",
			offer: offerWith("m=audio 4000 RTP/AVP 18 101", "a=rtpmap:101 telephone-event/8000"),
			err:   ErrNoCommonCodec,
		},
		{
			name:  "no dtmf unless local wants it",
			offer: offerWith("m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"),
			local: func(l *Local) { l.DTMF = false },
			mline: "m=audio 40000 RTP/AVP 0", codec: PCMU,
		},
		{
			name:  "telephone-event/48000 is not used",
			offer: offerWith("m=audio 4000 RTP/AVP 0 110", "a=rtpmap:110 telephone-event/48000"),
			mline: "m=audio 40000 RTP/AVP 0", codec: PCMU,
		},
		{
			name:  "only what local accepts, still in the offerer's order",
			offer: offerWith("m=audio 4000 RTP/AVP 0 18 8 101", "a=rtpmap:101 telephone-event/8000"),
			local: func(l *Local) { l.Codecs = []Codec{PCMA} },
			mline: "m=audio 40000 RTP/AVP 8 101", codec: PCMA, dtmf: 101,
		},
		{
			name:  "local preference does not reorder",
			offer: offerWith("m=audio 4000 RTP/AVP 0 8"),
			local: func(l *Local) { l.Codecs = []Codec{PCMA, PCMU} },
			mline: "m=audio 40000 RTP/AVP 0 8", codec: PCMU,
		},
		{
			name:  "one codec under two payload types",
			offer: offerWith("m=audio 4000 RTP/AVP 0 96", "a=rtpmap:96 PCMU/8000"),
			mline: "m=audio 40000 RTP/AVP 0 96", codec: PCMU,
		},
		{
			name:  "our fmtp in the answer, theirs in Negotiated",
			offer: offerWith("m=audio 4000 RTP/AVP 18", "a=fmtp:18 annexb=yes"),
			local: func(l *Local) { l.Codecs = []Codec{g729} },
			mline: "m=audio 40000 RTP/AVP 18",
			codec: Codec{PayloadType: 18, Name: "G729", ClockRate: 8000, Fmtp: "annexb=yes"},
			fmtps: []string{"a=fmtp:18 annexb=no"},
		},
		{
			name:  "offerer's ptime kept",
			offer: offerWith("m=audio 4000 RTP/AVP 0", "a=ptime:30"),
			local: func(l *Local) { l.Ptime = 20 },
			mline: "m=audio 40000 RTP/AVP 0", codec: PCMU, ptimes: "a=ptime:30",
		},
		{
			name:  "no ptime unless offered",
			offer: offerWith("m=audio 4000 RTP/AVP 0"),
			local: func(l *Local) { l.Ptime = 20 },
			mline: "m=audio 40000 RTP/AVP 0", codec: PCMU,
		},
		{
			name:  "RTP/AVPF answered as RTP/AVPF",
			offer: offerWith("m=audio 4000 RTP/AVPF 0"),
			mline: "m=audio 40000 RTP/AVPF 0", codec: PCMU,
		},
		{
			name:  "no codec",
			offer: offerWith("m=audio 4000 RTP/AVP 96"),
			err:   ErrNoCommonCodec,
		},
		{
			name:  "disabled audio",
			offer: offerWith("m=audio 0 RTP/AVP 0"),
			err:   ErrNoAudio,
		},
		{
			name:  "SRTP without a=crypto",
			offer: offerWith("m=audio 4000 RTP/SAVP 0"),
			err:   ErrNoCrypto,
		},
		{
			name:  "DTLS-SRTP",
			offer: offerWith("m=audio 4000 UDP/TLS/RTP/SAVP 0", "a=fingerprint:sha-256 00:11", "a=setup:actpass"),
			err:   ErrNoAudio,
		},
		{
			name:  "no audio",
			offer: offerWith("m=video 4000 RTP/AVP 96", "a=rtpmap:96 H264/90000"),
			err:   ErrNoAudio,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local := goldenLocal()
			if tt.local != nil {
				tt.local(&local)
			}
			o := mustParseOffer(t, tt.offer)
			a, n, err := o.Answer(local)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrNoCommonCodec) {
					t.Fatalf("error %v, want %v and %v", err, tt.err, ErrNoCommonCodec)
				}
				if a != nil {
					t.Errorf("answer %v with error", a)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body := a.Marshal()
			if got := mediaLine(t, body, 0); got != tt.mline {
				t.Errorf("m= line %q, want %q", got, tt.mline)
			}
			if n.Codec != tt.codec {
				t.Errorf("Negotiated.Codec = %s, want %s", describeCodec(n.Codec), describeCodec(tt.codec))
			}
			switch {
			case tt.dtmf == 0 && n.DTMF != nil:
				t.Errorf("Negotiated.DTMF = %s, want none", describeCodec(*n.DTMF))
			case tt.dtmf != 0 && (n.DTMF == nil || n.DTMF.PayloadType != tt.dtmf):
				t.Errorf("Negotiated.DTMF = %v, want payload type %d", n.DTMF, tt.dtmf)
			}
			for _, f := range tt.fmtps {
				if !strings.Contains(string(body), "\r\n"+f+"\r\n") {
					t.Errorf("answer lacks %q:\n%s", f, body)
				}
			}
			if tt.ptimes != "" && !strings.Contains(string(body), "\r\n"+tt.ptimes+"\r\n") {
				t.Errorf("answer lacks %q:\n%s", tt.ptimes, body)
			}
			if tt.ptimes == "" && strings.Contains(string(body), "a=ptime") {
				t.Errorf("answer has a=ptime:\n%s", body)
			}
			// Every payload type of the answer can be received, as answered.
			ans := a.Media()
			recv := slices.Clone(ans.Codecs)
			if ans.DTMF != nil {
				recv = append(recv, *ans.DTMF)
			}
			if len(n.RecvPayloadTypes) != len(recv) {
				t.Errorf("RecvPayloadTypes %v, want %v", n.RecvPayloadTypes, recv)
			}
			for _, c := range recv {
				if got, ok := n.RecvPayloadTypes[c.PayloadType]; !ok || got != c {
					t.Errorf("RecvPayloadTypes[%d] = %s, want %s", c.PayloadType, describeCodec(got), describeCodec(c))
				}
			}
		})
	}
}

// TestAnswerStreams checks RFC 3264 §6: one answer m= line per offered one,
// in order, the unused ones rejected with port 0 and their media, protocol
// and formats unchanged.
func TestAnswerStreams(t *testing.T) {
	tests := []struct {
		offer string
		want  []string
	}{
		{"linphone-video", []string{"m=audio 40000 RTP/AVP 0 8 101", "m=video 0 RTP/AVP 96"}},
		{"two-audio", []string{"m=audio 40000 RTP/SAVP 0 8 101", "m=audio 0 RTP/AVP 8 0 101"}},
		{"audio-and-t38", []string{"m=audio 40000 RTP/AVP 8 101", "m=image 0 udptl t38"}},
	}
	for _, tt := range tests {
		t.Run(tt.offer, func(t *testing.T) {
			o := mustParseOffer(t, string(readTestdata(t, "offers/"+tt.offer+".sdp")))
			a, _, err := o.Answer(goldenLocal())
			if err != nil {
				t.Fatal(err)
			}
			body := a.Marshal()
			if got := strings.Count(string(body), "\r\nm="); got != len(tt.want) {
				t.Errorf("%d m= lines, want %d", got, len(tt.want))
			}
			for i, want := range tt.want {
				if got := mediaLine(t, body, i); got != want {
					t.Errorf("m= line %d is %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

func TestAnswerSessionLevel(t *testing.T) {
	offer := mustParseOffer(t, string(readTestdata(t, "offers/baresip.sdp")))
	tests := []struct {
		name  string
		local Local
		want  []string // the lines before m=
	}{
		{
			"ipv4",
			Local{Addr: netip.MustParseAddr("192.0.2.10"), Port: 1, SessionID: 42, Version: 7},
			[]string{"v=0", "o=ringdesk 42 7 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0"},
		},
		{
			"ipv6 and user name",
			Local{Addr: netip.MustParseAddr("2001:db8::10"), Port: 1, UserName: "pbx", SessionID: 1},
			[]string{"v=0", "o=pbx 1 0 IN IP6 2001:db8::10", "s=-", "c=IN IP6 2001:db8::10", "t=0 0"},
		},
		{
			"ipv4-mapped",
			Local{Addr: netip.MustParseAddr("::ffff:192.0.2.10"), Port: 1},
			[]string{"v=0", "o=ringdesk 0 0 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0"},
		},
		{
			"no address, bad user name",
			Local{Port: 1, UserName: "a b\r\n"},
			[]string{"v=0", "o=ringdesk 0 0 IN IP4 0.0.0.0", "s=-", "c=IN IP4 0.0.0.0", "t=0 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, err := offer.Answer(tt.local)
			if err != nil {
				t.Fatal(err)
			}
			for _, body := range [][]byte{a.Marshal(), NewOffer(tt.local).Marshal()} {
				assertWellFormed(t, body)
				head, _, _ := strings.Cut(string(body), "\r\nm=")
				if got := strings.Split(head, "\r\n"); !slices.Equal(got, tt.want) {
					t.Errorf("session level\n%q\nwant\n%q", got, tt.want)
				}
			}
		})
	}
}

func TestNewOffer(t *testing.T) {
	addr := netip.MustParseAddr("192.0.2.10")
	tests := []struct {
		name  string
		local Local
		want  []string // the lines from m= on
	}{
		{
			"defaults",
			Local{Addr: addr, Port: 4000},
			[]string{"m=audio 4000 RTP/AVP 0 8", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=sendrecv"},
		},
		{
			"dtmf and ptime",
			Local{Addr: addr, Port: 4000, DTMF: true, Ptime: 20},
			[]string{
				"m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
				"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv",
			},
		},
		{
			"our order, dtmf payload type, direction",
			Local{
				Addr: addr, Port: 4000, Codecs: []Codec{PCMA, PCMU},
				DTMF: true, DTMFPayloadType: 100, Direction: SendOnly,
			},
			[]string{
				"m=audio 4000 RTP/AVP 8 0 100", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000",
				"a=rtpmap:100 telephone-event/8000", "a=fmtp:100 0-16", "a=sendonly",
			},
		},
		{
			"dtmf payload type taken",
			Local{Addr: addr, Port: 4000, DTMF: true, Codecs: []Codec{
				PCMU,
				{PayloadType: 101, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
				{PayloadType: 96, Name: "speex", ClockRate: 8000},
			}},
			[]string{
				"m=audio 4000 RTP/AVP 0 101 96 97", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 opus/48000/2",
				"a=fmtp:101 useinbandfec=1", "a=rtpmap:96 speex/8000", "a=rtpmap:97 telephone-event/8000",
				"a=fmtp:97 0-16", "a=sendrecv",
			},
		},
		{
			"unusable codecs left out",
			Local{Addr: addr, Port: 4000, Codecs: []Codec{
				{PayloadType: 200, Name: "X", ClockRate: 8000},
				{PayloadType: 96, Name: "", ClockRate: 8000},
				{PayloadType: 97, Name: "a/b", ClockRate: 8000},
				{PayloadType: 98, Name: "Y", ClockRate: 0},
				{PayloadType: 99, Name: "Z", ClockRate: 8000, Fmtp: "x\r\na=evil"},
				PCMA,
				{PayloadType: 8, Name: "dup", ClockRate: 8000},
			}},
			[]string{"m=audio 4000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "a=sendrecv"},
		},
		{
			"ptime out of range, bad direction",
			Local{Addr: addr, Port: 4000, Ptime: 5000, Direction: Direction(9)},
			[]string{"m=audio 4000 RTP/AVP 0 8", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=sendrecv"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOffer(tt.local)
			body := o.Marshal()
			assertWellFormed(t, body)
			_, media, _ := strings.Cut(strings.TrimSuffix(string(body), "\r\n"), "\r\nm=")
			if got := strings.Split("m="+media, "\r\n"); !slices.Equal(got, tt.want) {
				t.Errorf("media section\n%q\nwant\n%q", got, tt.want)
			}
			parsed := mustParseOffer(t, string(body))
			assertMedia(t, o.Media(), parsed.Media())
		})
	}
}

func TestNegotiate(t *testing.T) {
	te := func(pt uint8, fmtp string) *Codec {
		return &Codec{PayloadType: pt, Name: "telephone-event", ClockRate: 8000, Fmtp: fmtp}
	}
	recv := func(cs ...Codec) map[uint8]Codec {
		m := make(map[uint8]Codec, len(cs))
		for _, c := range cs {
			m[c.PayloadType] = c
		}
		return m
	}
	ourTE := *te(101, "0-16")
	tests := []struct {
		answer string // file in testdata/peer-answers
		local  func(*Local)
		want   Negotiated
		err    error
	}{
		{answer: "baresip", want: Negotiated{
			Remote: netip.MustParseAddrPort("127.0.0.6:20044"), Codec: PCMU, DTMF: te(101, "0-15"),
			RecvPayloadTypes: recv(PCMU, PCMA, ourTE), Direction: SendRecv, Ptime: 20,
		}},
		{answer: "linphone", want: Negotiated{
			Remote: netip.MustParseAddrPort("127.0.0.1:7078"), Codec: PCMU, DTMF: te(101, ""),
			RecvPayloadTypes: recv(PCMU, PCMA, ourTE), Direction: SendRecv,
		}},
		{answer: "sipp-uas", want: Negotiated{
			Remote: netip.MustParseAddrPort("127.0.0.1:16000"), Codec: PCMU, DTMF: te(101, "0-16"),
			RecvPayloadTypes: recv(PCMU, ourTE), Direction: SendRecv, Ptime: 20,
		}},
		{answer: "renumbered", want: Negotiated{
			Remote: netip.MustParseAddrPort("192.0.2.70:12000"),
			Codec:  Codec{PayloadType: 96, Name: "PCMA", ClockRate: 8000},
			DTMF:   te(120, "0-15"),
			RecvPayloadTypes: recv(PCMU, PCMA, ourTE,
				Codec{PayloadType: 96, Name: "PCMA", ClockRate: 8000},
				Codec{PayloadType: 97, Name: "PCMU", ClockRate: 8000}, *te(120, "0-15")),
			Direction: SendRecv, Ptime: 30,
		}},
		{answer: "recvonly", want: Negotiated{
			Remote: netip.MustParseAddrPort("192.0.2.70:12000"), Codec: PCMA,
			RecvPayloadTypes: recv(PCMA), Direction: SendOnly,
		}},
		{answer: "recvonly", local: func(l *Local) { l.Direction = RecvOnly }, want: Negotiated{
			Remote: netip.MustParseAddrPort("192.0.2.70:12000"), Codec: PCMA,
			RecvPayloadTypes: recv(PCMA), Direction: Inactive,
		}},
		{answer: "baresip", local: func(l *Local) { l.DTMF = false }, want: Negotiated{
			Remote: netip.MustParseAddrPort("127.0.0.6:20044"), Codec: PCMU,
			RecvPayloadTypes: recv(PCMU, PCMA), Direction: SendRecv, Ptime: 20,
		}},
		{answer: "rejected", err: ErrNoAudio},
		{answer: "no-common", err: ErrNoCommonCodec},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			local := capturedLocal()
			if tt.local != nil {
				tt.local(&local)
			}
			offer := NewOffer(local)
			answer, err := ParseAnswer(readTestdata(t, "peer-answers/"+tt.answer+".sdp"))
			if err != nil {
				t.Fatal(err)
			}
			n, err := answer.Negotiate(offer)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrNoCommonCodec) {
					t.Fatalf("error %v, want %v and %v", err, tt.err, ErrNoCommonCodec)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := describeNegotiated(n), describeNegotiated(tt.want); got != want {
				t.Errorf("Negotiated\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestOfferAnswerRoundTrip answers every usable offer in testdata/offers and
// reads the answer back as the offerer would: both sides agree.
func TestOfferAnswerRoundTrip(t *testing.T) {
	local := goldenLocal()
	for _, name := range testdataNames(t, "offers") {
		t.Run(name, func(t *testing.T) {
			offer := mustParseOffer(t, string(readTestdata(t, "offers/"+name+".sdp")))
			answer, ours, err := offer.Answer(local)
			if errors.Is(err, ErrNoCommonCodec) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			parsed := mustParseAnswer(t, string(answer.Marshal()))
			assertMedia(t, parsed.Media(), answer.Media())
			theirs, err := parsed.Negotiate(offer)
			if err != nil {
				t.Fatal(err)
			}
			if theirs.Codec.PayloadType != ours.Codec.PayloadType || !sameCodec(theirs.Codec, ours.Codec) {
				t.Errorf("offerer sends %s, we send %s", describeCodec(theirs.Codec), describeCodec(ours.Codec))
			}
			if want := netip.AddrPortFrom(local.Addr, local.Port); theirs.Remote != want {
				t.Errorf("offerer sends to %v, want %v", theirs.Remote, want)
			}
			if theirs.Direction.Sends() != ours.Direction.Receives() || theirs.Direction.Receives() != ours.Direction.Sends() {
				t.Errorf("offerer's direction %v does not mirror ours %v", theirs.Direction, ours.Direction)
			}
			// Ringdesk offering to itself agrees too.
			selfAnswer, n, err := NewOffer(local).Answer(local)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := selfAnswer.Negotiate(NewOffer(local)); err != nil || n.Codec != PCMU {
				t.Errorf("self negotiation: %v, codec %s", err, describeCodec(n.Codec))
			}
		})
	}
}

func TestNil(t *testing.T) {
	var o *Offer
	var a *Answer
	if o.Marshal() != nil || a.Marshal() != nil {
		t.Error("Marshal of nil is not nil")
	}
	assertMedia(t, o.Media(), Media{})
	assertMedia(t, a.Media(), Media{})
	if _, _, err := o.Answer(goldenLocal()); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("nil Offer.Answer: %v", err)
	}
	if _, err := a.Negotiate(NewOffer(goldenLocal())); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("nil Answer.Negotiate: %v", err)
	}
	if _, err := mustParseAnswer(t, string(readTestdata(t, "peer-answers/baresip.sdp"))).Negotiate(nil); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("Negotiate(nil): %v", err)
	}
	if _, _, err := new(Offer).Answer(goldenLocal()); !errors.Is(err, ErrNoAudio) {
		t.Errorf("zero Offer.Answer: %v", err)
	}
}
