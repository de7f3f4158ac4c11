package media_test

import (
	"errors"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// Engine tests use real sockets on 127.0.0.1. The engine binds ports from its
// own range, so each test gets a small range of its own in 40000-40099
// (a port some other program holds is skipped by the pool).

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newEngine(t *testing.T, cfg media.Config) *media.Engine {
	t.Helper()
	if !cfg.Address.IsValid() {
		cfg.Address = netip.MustParseAddr("127.0.0.1")
	}
	e, err := media.NewEngine(cfg, testLog())
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// checkGoroutines fails the test if, after cleanup, more goroutines run than
// when it started (polled, since exiting goroutines take a moment to go).
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines left, %d at the start:\n%s", n, base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func closeIf(s *media.Session) {
	if s != nil {
		_ = s.Close()
	}
}

func TestEngineNewSession(t *testing.T) {
	checkGoroutines(t)
	e := newEngine(t, media.Config{PortMin: 40000, PortMax: 40009})
	s, err := e.NewSession(testLog())
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	port := s.Port()
	if port%2 != 0 || port < 40000 || port+1 > 40009 {
		t.Errorf("port %d: want an even port in 40000-40008", port)
	}
	if want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)); s.LocalAddr() != want {
		t.Errorf("LocalAddr %s, want %s", s.LocalAddr(), want)
	}
	if e.Pool().InUse() != 1 || e.OpenSessions() != 1 {
		t.Errorf("InUse %d, OpenSessions %d; want 1, 1", e.Pool().InUse(), e.OpenSessions())
	}
	// The port is really bound.
	if c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(s.LocalAddr())); err == nil {
		_ = c.Close()
		t.Errorf("port %d is not bound by the session", port)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if e.Pool().InUse() != 0 || e.OpenSessions() != 0 {
		t.Errorf("after Close: InUse %d, OpenSessions %d; want 0, 0", e.Pool().InUse(), e.OpenSessions())
	}
	// The socket is closed.
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(s.LocalAddr()))
	if err != nil {
		t.Errorf("port %d still bound after Close: %v", port, err)
	} else {
		_ = c.Close()
	}
}

func TestEngineExhaustionAndQuarantine(t *testing.T) {
	checkGoroutines(t)
	e := newEngine(t, media.Config{PortMin: 40010, PortMax: 40013, Quarantine: time.Hour}) // 40010, 40012
	if e.Pool().Size() != 2 {
		t.Fatalf("Size %d, want 2", e.Pool().Size())
	}
	a, err := e.NewSession(testLog())
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.NewSession(testLog())
	if err != nil {
		t.Fatal(err)
	}
	if a.Port() == b.Port() {
		t.Fatalf("two sessions on port %d", a.Port())
	}
	if s, err := e.NewSession(testLog()); !errors.Is(err, media.ErrNoPorts) {
		t.Errorf("third session: %v, want ErrNoPorts", err)
		closeIf(s)
	}
	_ = a.Close()
	if e.Pool().InUse() != 1 || e.OpenSessions() != 1 {
		t.Errorf("InUse %d, OpenSessions %d; want 1, 1", e.Pool().InUse(), e.OpenSessions())
	}
	if s, err := e.NewSession(testLog()); !errors.Is(err, media.ErrNoPorts) {
		t.Errorf("session during the quarantine of port %d: %v, want ErrNoPorts", a.Port(), err)
		closeIf(s)
	}
	_ = b.Close()
	if e.Pool().InUse() != 0 || e.OpenSessions() != 0 {
		t.Errorf("InUse %d, OpenSessions %d; want 0, 0", e.Pool().InUse(), e.OpenSessions())
	}
}

func TestEngineSkipsBusyPort(t *testing.T) {
	checkGoroutines(t)
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40020})
	if err != nil {
		t.Skipf("cannot hold port 40020 for the test: %v", err)
	}
	defer busy.Close()
	e := newEngine(t, media.Config{PortMin: 40020, PortMax: 40023})
	s, err := e.NewSession(testLog())
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s.Close()
	if s.Port() != 40022 {
		t.Errorf("port %d, want 40022 (40020 is taken)", s.Port())
	}
	if s, err := e.NewSession(testLog()); !errors.Is(err, media.ErrNoPorts) {
		t.Errorf("with 40020 busy and 40022 in use: %v, want ErrNoPorts", err)
		closeIf(s)
	}
	if e.Pool().InUse() != 1 {
		t.Errorf("InUse %d, want 1", e.Pool().InUse())
	}
}

// TestEngineAdvertisedAddress: the address put in SDP must be one the peer
// can send to. An unspecified address in SDP (c=0.0.0.0) means hold to many
// peers (RFC 3264 §8.4 legacy), and never "send here".
func TestEngineAdvertisedAddress(t *testing.T) {
	checkGoroutines(t)
	e := newEngine(t, media.Config{Address: netip.MustParseAddr("127.0.0.1"), PublicAddress: netip.MustParseAddr("203.0.113.5"), PortMin: 40030, PortMax: 40033})
	s, err := e.NewSession(testLog())
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.AddrPortFrom(netip.MustParseAddr("203.0.113.5"), uint16(s.Port())); s.LocalAddr() != want {
		t.Errorf("LocalAddr %s, want %s", s.LocalAddr(), want)
	}
	_ = s.Close()

	// No Address: the engine binds every interface. What does it advertise?
	cfg := media.Config{PortMin: 40034, PortMax: 40037}
	e2, err := media.NewEngine(cfg, testLog())
	if err != nil {
		return // rejecting the config is fine
	}
	s2, err := e2.NewSession(testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.LocalAddr().Addr().IsUnspecified() {
		t.Errorf("with Address and PublicAddress unset, LocalAddr is %s: an unspecified address would go into SDP; "+
			"Config.Validate should require PublicAddress when Address is unspecified (or the engine pick an interface address)", s2.LocalAddr())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  media.Config
		ok   bool
	}{
		{"defaults", media.Config{}, true},
		{"one port", media.Config{PortMin: 10000, PortMax: 10001}, true},
		{"no even port with its odd neighbour", media.Config{PortMin: 10001, PortMax: 10002}, false},
		{"min above max", media.Config{PortMin: 20000, PortMax: 10000}, false},
		{"max beyond 65535", media.Config{PortMin: 60000, PortMax: 70000}, false},
		{"only max", media.Config{PortMax: 10000}, false},
		{"negative quarantine", media.Config{Quarantine: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
			if _, nerr := media.NewEngine(tt.cfg, testLog()); (nerr == nil) != tt.ok {
				t.Errorf("NewEngine: %v, want ok %v", nerr, tt.ok)
			}
		})
	}
}

// TestEngineRelayTone relays a 1 kHz tone between two real UDP phones through
// two bridged sessions, both ways, with the far leg in PCMU (no transcoding)
// or PCMA (transcoded), and checks what each phone decodes.
func TestEngineRelayTone(t *testing.T) {
	for _, tt := range []struct {
		name string
		port int
		far  media.G711
	}{
		{"PCMU to PCMU", 40040, media.PCMU},
		{"PCMU to PCMA", 40050, media.PCMA},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			e := newEngine(t, media.Config{PortMin: tt.port, PortMax: tt.port + 9})
			p1, p2 := listenUDP(t), listenUDP(t)
			a, err := e.NewSession(testLog())
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.NewSession(testLog())
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = a.Close()
				_ = b.Close()
				if e.Pool().InUse() != 0 || e.OpenSessions() != 0 {
					t.Errorf("after Close: InUse %d, OpenSessions %d", e.Pool().InUse(), e.OpenSessions())
				}
			}()
			recv := []media.Payload{{PayloadType: 0, Codec: media.PCMU}, {PayloadType: 8, Codec: media.PCMA}}
			a.SetParams(media.Params{Remote: addrOf(p1), Send: true, Codec: media.PCMU, PayloadType: 0, Recv: recv})
			b.SetParams(media.Params{Remote: addrOf(p2), Send: true, Codec: tt.far, PayloadType: tt.far.PayloadType(), Recv: recv})
			media.Bridge(a, b)

			tone := mediatest.Sine(1000, 0.5, 8000, time.Second)
			const packets = 50
			errc := make(chan error, 1)
			go func() { errc <- sendTone(p1, a.LocalAddr(), tone, media.PCMU) }()
			got := receiveAudio(t, p2, b.LocalAddr(), packets, tt.far)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			checkTone(t, "P2", got, len(tone))

			go func() { errc <- sendTone(p2, b.LocalAddr(), tone, tt.far) }()
			back := receiveAudio(t, p1, a.LocalAddr(), packets, media.PCMU)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			checkTone(t, "P1", back, len(tone))
		})
	}
}

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort() //nolint:forcetypeassert // a UDPConn
}

// sendTone sends pcm as 20 ms packets in law g, 2 ms apart (the relay does
// not pace, and the receiver reorders by sequence number anyway).
func sendTone(c *net.UDPConn, to netip.AddrPort, pcm []int16, g media.G711) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 160)
	for i := 0; i+160 <= len(pcm); i += 160 {
		g.Encode(payload, pcm[i:i+160])
		b, err := (&rtp.Packet{Header: rtp.Header{
			Version: 2, Marker: i == 0, PayloadType: g.PayloadType(),
			SequenceNumber: uint16(1000 + i/160), Timestamp: uint32(5000 + i), SSRC: 0x70e,
		}, Payload: payload}).Marshal()
		if err != nil {
			return err
		}
		if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
			return err
		}
		<-tick.C
	}
	return nil
}

// receiveAudio reads up to n packets from c (all from the session at from,
// all in law g) and returns the decoded audio in sequence order, with
// silence for any missing packet.
func receiveAudio(t *testing.T, c *net.UDPConn, from netip.AddrPort, n int, g media.G711) []int16 {
	t.Helper()
	type frame struct {
		seq, ts uint32
		pcm     []int16
	}
	var frames []frame
	var ssrc uint32
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(frames) < n {
		m, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("received %d of %d packets: %v", len(frames), n, err)
		}
		if src != from {
			t.Fatalf("packet from %s, want %s", src, from)
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:m]); err != nil {
			t.Fatalf("not RTP: %v", err)
		}
		if p.PayloadType != g.PayloadType() {
			t.Fatalf("PT %d, want %d (%v)", p.PayloadType, g.PayloadType(), g)
		}
		if len(frames) == 0 {
			ssrc = p.SSRC
		} else if p.SSRC != ssrc {
			t.Fatalf("SSRC changed from %#x to %#x", ssrc, p.SSRC)
		}
		pcm := make([]int16, len(p.Payload))
		g.Decode(pcm, p.Payload)
		frames = append(frames, frame{uint32(p.SequenceNumber), p.Timestamp, pcm})
	}
	base := frames[0]
	slices.SortFunc(frames, func(x, y frame) int { return int(int16(x.seq-base.seq)) - int(int16(y.seq-base.seq)) })
	var out []int16
	for i, f := range frames {
		if i > 0 {
			if d := f.ts - frames[i-1].ts; d != 160 {
				t.Errorf("timestamp step %d between seq %d and %d, want 160", d, frames[i-1].seq, f.seq)
			}
		}
		out = append(out, f.pcm...)
	}
	return out
}

func checkTone(t *testing.T, who string, pcm []int16, want int) {
	t.Helper()
	if len(pcm) != want {
		t.Errorf("%s decoded %d samples, want %d", who, len(pcm), want)
	}
	share := mediatest.ToneShare(pcm, 8000, 1000, 20)
	f := mediatest.DominantFrequency(pcm, 8000)
	rms := mediatest.RMS(pcm)
	t.Logf("%s: 1 kHz share %.4f, dominant %.1f Hz, RMS %.3f", who, share, f, rms)
	if share < 0.95 {
		t.Errorf("%s: only %.3f of the energy is at 1 kHz", who, share)
	}
	if math.Abs(f-1000) > 5 {
		t.Errorf("%s: dominant frequency %.1f Hz, want 1000", who, f)
	}
	if math.Abs(rms-0.5/math.Sqrt2) > 0.02 {
		t.Errorf("%s: RMS %.3f, want about %.3f", who, rms, 0.5/math.Sqrt2)
	}
}
