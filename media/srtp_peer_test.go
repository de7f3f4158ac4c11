package media_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/sdp"
)

// SDES-SRTP against a real peer: baresip 1.0 with its srtp module
// (mediaenc=srtp-mand: RTP/SAVP, AES_CM_128_HMAC_SHA1_80, libre's own SRTP
// code, not pion's). SIPp 3.6.1 as packaged here cannot do SRTP: it is built
// without it ("Unsupported keyword 'cryptotag1audio'"), so baresip is the
// peer. The SIP signalling is a few hand-written messages (media may not
// import sip); the media is a media.Session on each side of a relay: the
// SRTP leg to baresip and a plain RTP leg to the test, which plays 1000 Hz
// and listens for baresip's 440 Hz.

const (
	peerToneOut = 1000.0 // what the test sends through Ringdesk to baresip
	peerToneIn  = 440.0  // what baresip plays
)

// startSRTPBaresip runs baresip with the srtp module and SRTP required on its
// account (peertest.Baresip.SRTP).
func startSRTPBaresip(t *testing.T) *peertest.BaresipPhone {
	t.Helper()
	if testing.Short() {
		t.Skip("runs baresip")
	}
	return peertest.Baresip{
		IP:   "127.0.0.1",
		User: "1003",
		WAV:  peertest.WriteToneWAV(t, peerToneIn, 40*time.Second),
		SRTP: true,
	}.Start(t)
}

// sipUA is just enough of a SIP user agent over UDP for one call with
// baresip: INVITE/200/ACK either way, then BYE.
type sipUA struct {
	t     *testing.T
	conn  *net.UDPConn
	local netip.AddrPort
	buf   []byte
}

func newSIPUA(t *testing.T) *sipUA {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &sipUA{t: t, conn: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort(), buf: make([]byte, 65536)} //nolint:forcetypeassert // UDP
}

// sipMsg is a parsed SIP message: first line, headers by lower-case name,
// body.
type sipMsg struct {
	first   string
	headers map[string]string
	body    []byte
	from    netip.AddrPort
}

func (m sipMsg) status() int {
	if !strings.HasPrefix(m.first, "SIP/2.0 ") {
		return 0
	}
	n, _ := strconv.Atoi(strings.Fields(m.first)[1])
	return n
}

func (m sipMsg) method() string {
	if m.status() != 0 {
		return ""
	}
	return strings.Fields(m.first)[0]
}

// read returns the next SIP message, skipping keep-alives.
func (u *sipUA) read(ctx context.Context) (sipMsg, error) {
	for {
		dl, _ := ctx.Deadline()
		_ = u.conn.SetReadDeadline(dl)
		n, from, err := u.conn.ReadFromUDPAddrPort(u.buf)
		if err != nil {
			return sipMsg{}, err
		}
		head, body, ok := bytes.Cut(u.buf[:n], []byte("\r\n\r\n"))
		if !ok {
			continue
		}
		lines := strings.Split(string(head), "\r\n")
		m := sipMsg{first: lines[0], headers: map[string]string{}, body: bytes.Clone(body), from: from}
		for _, l := range lines[1:] {
			name, value, _ := strings.Cut(l, ":")
			m.headers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		}
		return m, nil
	}
}

// await reads until a message for which ok is true.
func (u *sipUA) await(ctx context.Context, ok func(sipMsg) bool) sipMsg {
	u.t.Helper()
	for {
		m, err := u.read(ctx)
		if err != nil {
			u.t.Fatalf("SIP: %v", err)
		}
		if ok(m) {
			return m
		}
	}
}

func (u *sipUA) send(to netip.AddrPort, msg string) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDPAddrPort([]byte(msg), to); err != nil {
		u.t.Fatal(err)
	}
}

// request builds a SIP request.
func (u *sipUA) request(method, uri, from, to, callID string, cseq int, extra string, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s%d;rport\r\n", u.local, method, time.Now().UnixNano())
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", from, to, callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:ringdesk@%s>\r\n%s", u.local, extra)
	if body != nil {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.String()
}

// response builds the response to req.
func (u *sipUA) response(req sipMsg, code int, reason, toTag string, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	to := req.headers["to"]
	if toTag != "" && !strings.Contains(to, ";tag=") {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "Via: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n",
		req.headers["via"], req.headers["from"], to, req.headers["call-id"], req.headers["cseq"])
	fmt.Fprintf(&b, "Contact: <sip:ringdesk@%s>\r\n", u.local)
	if body != nil {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.String()
}

// paramsOf is what calls.Leg.apply does with a negotiation: the session's
// parameters, SRTP keys included as they are.
func paramsOf(n sdp.Negotiated) media.Params {
	p := media.Params{
		Remote:      n.Remote,
		Send:        n.Direction.Sends(),
		Codec:       media.G711FromName(n.Codec.Name),
		PayloadType: n.Codec.PayloadType,
		SRTP:        n.SRTP,
	}
	if n.DTMF != nil {
		p.DTMFPayloadType = n.DTMF.PayloadType
	}
	for pt, c := range n.RecvPayloadTypes {
		if strings.EqualFold(c.Name, "telephone-event") {
			p.Recv = append(p.Recv, media.Payload{PayloadType: pt, DTMF: true})
		} else if g := media.G711FromName(c.Name); g != media.G711Unknown {
			p.Recv = append(p.Recv, media.Payload{PayloadType: pt, Codec: g})
		}
	}
	return p
}

// relay is the media side: sec is the SRTP leg to baresip, plain the RTP leg
// to the test's own socket phone.
type relay struct {
	sec, plain *media.Session
	phone      *net.UDPConn
}

func newRelay(t *testing.T) *relay {
	t.Helper()
	open := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.DiscardHandler)
	sc, pc := open(), open()
	r := &relay{
		sec:   media.NewSessionConn(sc, sc.LocalAddr().(*net.UDPAddr).AddrPort(), log), //nolint:forcetypeassert // UDP
		plain: media.NewSessionConn(pc, pc.LocalAddr().(*net.UDPAddr).AddrPort(), log), //nolint:forcetypeassert // UDP
		phone: open(),
	}
	t.Cleanup(func() { _ = r.sec.Close(); _ = r.plain.Close(); _ = r.phone.Close() })
	r.plain.SetParams(media.Params{
		Remote: r.phone.LocalAddr().(*net.UDPAddr).AddrPort(), //nolint:forcetypeassert // UDP
		Send:   true, Codec: media.PCMU, PayloadType: 0,
		Recv: []media.Payload{{PayloadType: 0, Codec: media.PCMU}, {PayloadType: 8, Codec: media.PCMA}},
	})
	media.Bridge(r.sec, r.plain)
	return r
}

// talk sends dur of peerToneOut as PCMU to the plain leg, paced at 20 ms,
// while collecting what the plain leg relays from baresip (decoded).
func (r *relay) talk(t *testing.T, dur time.Duration) []int16 {
	t.Helper()
	var mu sync.Mutex
	var heard []int16
	done := make(chan struct{})
	stop := time.Now().Add(dur + 200*time.Millisecond)
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		var pkt rtp.Packet
		for {
			_ = r.phone.SetReadDeadline(stop)
			n, _, err := r.phone.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
				continue
			}
			pcm := make([]int16, len(pkt.Payload))
			media.PCMU.Decode(pcm, pkt.Payload)
			mu.Lock()
			heard = append(heard, pcm...)
			mu.Unlock()
		}
	}()
	tone := mediatest.Sine(peerToneOut, 0.5, media.SampleRate, dur)
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	to := r.plain.LocalAddr()
	ssrc, seq, ts := uint32(0x7e57), uint16(1), uint32(0)
	for off := 0; off+media.FrameSamples <= len(tone); off += media.FrameSamples {
		payload := make([]byte, media.FrameSamples)
		media.PCMU.Encode(payload, tone[off:off+media.FrameSamples])
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.phone.WriteToUDPAddrPort(b, to); err != nil {
			t.Fatal(err)
		}
		seq++
		ts += uint32(media.FrameSamples)
		<-tick.C
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	return heard
}

// check asserts both directions: the test heard baresip's tone through the
// SRTP leg, and baresip heard the test's tone (its recording of the call).
func (r *relay) check(ctx context.Context, t *testing.T, b *peertest.BaresipPhone, heard []int16) {
	t.Helper()
	share := mediatest.ToneShare(heard, media.SampleRate, peerToneIn, 25)
	t.Logf("heard from baresip: %d samples, %.3f of them %v Hz", len(heard), share, peerToneIn)
	if len(heard) < 2*media.SampleRate || share < 0.8 {
		t.Errorf("from baresip over SRTP: %d samples, %.2f of them %v Hz", len(heard), share, peerToneIn)
	}
	st := r.sec.Stats()
	t.Logf("SRTP leg: %+v", st)
	if st.RxUnauthenticated != 0 || st.RxPackets < 100 || st.TxPackets < 100 {
		t.Errorf("SRTP leg stats %+v: want 100+ packets each way, none refused", st)
	}
	recs, err := b.Received()
	if err != nil || len(recs) == 0 {
		t.Fatalf("no recording of what baresip received: %v", err)
	}
	if err := peertest.WaitWAV(ctx, recs[len(recs)-1]); err != nil {
		t.Fatal(err)
	}
	got, rate, _, err := mediatest.ReadWAV(recs[len(recs)-1])
	if err != nil {
		t.Fatal(err)
	}
	got = mediatest.Trim(got, rate, 0.05)
	share = mediatest.ToneShare(got, rate, peerToneOut, 25)
	t.Logf("baresip heard: %d samples, %.3f of them %v Hz", len(got), share, peerToneOut)
	if len(got) < 2*rate || share < 0.8 {
		t.Errorf("baresip decrypted %d samples, %.2f of them %v Hz", len(got), share, peerToneOut)
	}
}

// TestSRTPWithBaresipAnswering: Ringdesk offers RTP/SAVP to baresip (as to
// an SRTP trunk), takes its answer, and relays SRTP both ways.
func TestSRTPWithBaresipAnswering(t *testing.T) {
	b := startSRTPBaresip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	r := newRelay(t)
	ua := newSIPUA(t)
	local := r.sec.LocalAddr()
	offer := sdp.NewOffer(sdp.Local{Addr: local.Addr(), Port: local.Port(), DTMF: true, SessionID: 42, Version: 1, Ptime: 20, SRTP: true})

	peer := netip.AddrPortFrom(netip.MustParseAddr(b.Config.IP), uint16(b.Config.Port)) //nolint:gosec // a port
	uri := b.URI()
	from := "<sip:ringdesk@" + ua.local.String() + ">;tag=rd1"
	callID := "srtp-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ua.send(peer, ua.request("INVITE", uri, from, "<"+uri+">", callID, 1, "", offer.Marshal()))
	ok := ua.await(ctx, func(m sipMsg) bool { return m.status() >= 200 })
	if ok.status() != 200 {
		t.Fatalf("baresip answered %s", ok.first)
	}
	t.Logf("baresip's answer:\n%s", ok.body)
	answer, err := sdp.ParseAnswer(ok.body)
	if err != nil {
		t.Fatal(err)
	}
	n, err := answer.Negotiate(offer)
	if err != nil {
		t.Fatal(err)
	}
	if n.SRTP == nil {
		t.Fatal("no SRTP negotiated")
	}
	t.Logf("negotiated %v, %v", n.SRTP, n.Remote)
	r.sec.SetParams(paramsOf(n))
	to := ok.headers["to"]
	ua.send(peer, ua.request("ACK", uri, from, to, callID, 1, "", nil))
	if _, err := b.WaitEstablished(ctx, 0); err != nil {
		t.Fatal(err)
	}

	heard := r.talk(t, 4*time.Second)

	off := b.LogOffset()
	ua.send(peer, ua.request("BYE", uri, from, to, callID, 2, "", nil))
	ua.await(ctx, func(m sipMsg) bool { return m.status() == 200 && strings.HasSuffix(m.headers["cseq"], "BYE") })
	if _, err := b.WaitTerminated(ctx, off); err != nil {
		t.Fatal(err)
	}
	r.check(ctx, t, b, heard)
}

// TestSRTPWithBaresipCalling: baresip offers RTP/SAVP (as an SRTP trunk's
// INVITE does), Ringdesk answers with a key of its own, and relays SRTP both
// ways.
func TestSRTPWithBaresipCalling(t *testing.T) {
	b := startSRTPBaresip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	r := newRelay(t)
	ua := newSIPUA(t)
	if err := b.Dial(ctx, "sip:ringdesk@"+ua.local.String()); err != nil {
		t.Fatal(err)
	}
	inv := ua.await(ctx, func(m sipMsg) bool { return m.method() == "INVITE" })
	t.Logf("baresip's offer:\n%s", inv.body)
	offer, err := sdp.ParseOffer(inv.body)
	if err != nil {
		t.Fatal(err)
	}
	if !offer.Media().Secure() || len(offer.Media().Crypto) == 0 {
		t.Fatalf("baresip did not offer SDES-SRTP: %+v", offer.Media())
	}
	local := r.sec.LocalAddr()
	answer, n, err := offer.Answer(sdp.Local{Addr: local.Addr(), Port: local.Port(), DTMF: true, SessionID: 43, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.sec.SetParams(paramsOf(n))
	ua.send(inv.from, ua.response(inv, 200, "OK", "rd2", answer.Marshal()))
	ackCtx, ackCancel := context.WithTimeout(ctx, 5*time.Second)
	ua.await(ackCtx, func(m sipMsg) bool { return m.method() == "ACK" })
	ackCancel()
	if _, err := b.WaitEstablished(ctx, 0); err != nil {
		t.Fatal(err)
	}

	heard := r.talk(t, 4*time.Second)

	off := b.LogOffset()
	if err := b.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	bye := ua.await(ctx, func(m sipMsg) bool { return m.method() == "BYE" })
	ua.send(bye.from, ua.response(bye, 200, "OK", "", nil))
	if _, err := b.WaitTerminated(ctx, off); err != nil {
		t.Fatal(err)
	}
	r.check(ctx, t, b, heard)
}
