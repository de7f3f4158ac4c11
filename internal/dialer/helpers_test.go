package dialer_test

import (
	"errors"
	"net"
	"net/netip"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// rtpPeer is the far end's media in tests: a UDP socket on loopback that
// records what arrives and can send a tone.
type rtpPeer struct {
	t    testing.TB
	conn *net.UDPConn
	addr netip.AddrPort
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	mu   sync.Mutex
	pkts []mediatest.Packet
}

func newRTPPeer(t testing.TB) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{t: t, conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), stop: make(chan struct{})}
	p.wg.Go(p.read)
	t.Cleanup(p.close)
	return p
}

func (p *rtpPeer) read() {
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := mediatest.Packet{Time: time.Now(), Src: from, Dst: p.addr, Payload: append([]byte(nil), buf[:n]...)}
		p.mu.Lock()
		p.pkts = append(p.pkts, pkt)
		p.mu.Unlock()
	}
}

// sendTone sends a PCMU tone of freq Hz to dst every 20 ms until closed.
func (p *rtpPeer) sendTone(dst netip.AddrPort, freq float64) {
	pcm := mediatest.Sine(freq, 0.3, media.SampleRate, 10*time.Second)
	p.wg.Go(func() {
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		payload := make([]byte, media.FrameSamples)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x1234, Marker: true}}
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			off := (i * media.FrameSamples) % (len(pcm) - media.FrameSamples)
			media.PCMU.Encode(payload, pcm[off:off+media.FrameSamples])
			pkt.SequenceNumber = uint16(i)
			pkt.Timestamp = uint32(i * media.FrameSamples)
			pkt.Payload = payload
			b, _ := pkt.Marshal()
			_, _ = p.conn.WriteToUDPAddrPort(b, dst)
			pkt.Marker = false
		}
	})
}

func (p *rtpPeer) close() {
	p.once.Do(func() {
		close(p.stop)
		_ = p.conn.Close()
		p.wg.Wait()
	})
}

// received returns the RTP packets that arrived so far.
func (p *rtpPeer) received() []mediatest.RTPPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return mediatest.RTP(p.pkts, nil)
}

var mPort = regexp.MustCompile(`(?m)^m=audio (\d+) `)

// sdpAddr is the RTP address of an SDP body on loopback.
func sdpAddr(t testing.TB, sdp []byte) netip.AddrPort {
	t.Helper()
	m := mPort.FindSubmatch(sdp)
	if m == nil {
		t.Fatalf("no m=audio in %q", sdp)
	}
	port, _ := strconv.Atoi(string(m[1]))
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
}

// checkGoroutines fails the test when goroutines started during it are
// still running a little after it (the phones and peers are closed by
// cleanups registered before).
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before+2 {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}
