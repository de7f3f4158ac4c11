package media

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/jitter"
	"github.com/ringdesk/ringdesk/media/srtp"
)

const (
	// maxPacket is the largest RTP datagram relayed; the read buffer is one
	// byte longer so truncation shows.
	maxPacket = 1500
	// relatchAfter: a session follows a new source address only once the
	// current one has been silent this long (NAT rebinding), so stray or
	// spoofed packets cannot steal the stream (RTP bleed).
	relatchAfter = time.Second
	// freshWindow is how many packets after a source switch are checked
	// for mapping before the switch; reordering is never that deep, and
	// later the sequence numbers wrap (RFC 3550 §5.1), so the check stops.
	freshWindow = 64
	// readErrorBudget ends a session after this many consecutive read errors.
	readErrorBudget = 100
)

// Engine owns the RTP port range and opens sessions on it.
type Engine struct {
	cfg  Config
	pool *PortPool
	log  *slog.Logger
	open atomic.Int64
}

// NewEngine validates cfg and prepares the port pool.
func NewEngine(cfg Config, log *slog.Logger) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.PublicAddress.IsUnspecified() {
		// c=0.0.0.0 in SDP means hold (RFC 3264 §8.4): advertise the
		// address of the interface that routes outwards instead.
		ip, err := outboundAddr()
		if err != nil {
			return nil, fmt.Errorf("rtp address %s: no public_address and %w", cfg.Address, err)
		}
		cfg.PublicAddress = ip
	}
	pool, err := NewPortPool(cfg.PortMin, cfg.PortMax, cfg.Quarantine)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, pool: pool, log: log}, nil
}

// outboundAddr guesses the address of the interface that routes outwards.
func outboundAddr() (netip.Addr, error) {
	// TEST-NET-1 (RFC 5737): connecting a UDP socket sends nothing.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.1:9")))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("cannot find an interface address: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// PublicAddress is the address advertised in SDP.
func (e *Engine) PublicAddress() netip.Addr { return e.cfg.PublicAddress }

// Pool returns the engine's port pool.
func (e *Engine) Pool() *PortPool { return e.pool }

// OpenSessions is the number of sessions not yet closed.
func (e *Engine) OpenSessions() int { return int(e.open.Load()) }

// NewSession opens an RTP socket on a free even port and starts reading it.
func (e *Engine) NewSession(log *slog.Logger) (*Session, error) {
	var conn *net.UDPConn
	port, err := e.pool.Acquire(func(port int) error {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.cfg.Address, uint16(port)))) //nolint:gosec // port < 65536
		if err != nil {
			return err
		}
		conn = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := newSession(udpConn{conn}, port, log)
	s.advertised = netip.AddrPortFrom(e.cfg.PublicAddress, uint16(port)) //nolint:gosec // port < 65536
	e.open.Add(1)
	s.release = func() {
		e.pool.Release(port)
		e.open.Add(-1)
	}
	s.start()
	return s, nil
}

// PacketConn is the socket a Session reads and writes; *net.UDPConn
// satisfies it through udpConn, and tests use an in-memory pipe.
type PacketConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	LocalAddr() net.Addr
	Close() error
}

type udpConn struct{ *net.UDPConn }

// Payload says what an incoming payload type carries.
type Payload struct {
	PayloadType uint8
	Codec       G711 // for audio
	DTMF        bool // telephone-event (RFC 4733)
}

// Params are a session's negotiated media parameters.
type Params struct {
	// Remote is where to send, from the peer's SDP; symmetric RTP may
	// replace it with the address the peer's packets come from.
	Remote netip.AddrPort
	// Send is false while the negotiated direction forbids sending to the
	// peer (it holds us with sendonly/inactive, RFC 3264 §6.1).
	Send bool
	// Codec and PayloadType are the audio format to send.
	Codec       G711
	PayloadType uint8
	// DTMFPayloadType is telephone-event's type towards the peer; 0 means
	// the peer did not negotiate it (events are dropped).
	DTMFPayloadType uint8
	// Recv lists the payload types the peer may send.
	Recv []Payload
	// SRTP protects the stream with SRTP (RFC 3711) under these SDES keys,
	// as sdp.Negotiated.SRTP has them; nil for plain RTP. Every packet sent
	// is encrypted with SRTP.Local, and every packet received must
	// authenticate under SRTP.Remote (and not be a replay) before anything
	// else looks at it; one that does not is dropped and counted in
	// RxDropped and RxUnauthenticated. Keys equal to the current ones keep
	// the current crypto contexts (rollover counters, replay windows); new
	// keys start new ones, per direction. Keys that do not validate, such as
	// the zero srtp.Keys while an SRTP offer awaits its answer, make the
	// session fail closed: it sends and accepts nothing.
	SRTP *srtp.Keys
}

// kinds of incoming payload types
const (
	kindUnknown uint8 = iota
	kindPCMU
	kindPCMA
	kindDTMF
)

// compiled is Params in the form the packet path reads: an immutable snapshot
// swapped atomically, so renegotiation needs no lock on the hot path.
type compiled struct {
	Params
	kind [128]uint8
	srtp *srtpState // nil: plain RTP
}

// srtpState are the crypto contexts of an SRTP session. send is used under
// the out stream's lock, recv by the reader goroutine only; nil means that
// direction fails closed.
type srtpState struct {
	send *srtp.Sender
	recv *srtp.Receiver
}

// compile prepares p for the packet path. The SRTP contexts of old are kept
// for each direction whose keys did not change.
func compile(p Params, old *compiled) (*compiled, error) {
	c := &compiled{Params: p}
	var err error
	if p.SRTP != nil {
		c.SRTP = p.SRTP.Clone()
		c.srtp, err = newSRTPState(c.SRTP, old)
	}
	c.Recv = append([]Payload(nil), p.Recv...)
	for _, r := range p.Recv {
		if r.PayloadType >= 128 {
			continue
		}
		switch {
		case r.DTMF:
			c.kind[r.PayloadType] = kindDTMF
		case r.Codec == PCMU:
			c.kind[r.PayloadType] = kindPCMU
		case r.Codec == PCMA:
			c.kind[r.PayloadType] = kindPCMA
		}
	}
	return c, err
}

// newSRTPState builds the contexts for keys, reusing old's where the keys
// of that direction are the same.
func newSRTPState(keys *srtp.Keys, old *compiled) (*srtpState, error) {
	st := &srtpState{}
	if !keys.Suite.Valid() {
		return st, nil // not keyed yet: fail closed, by design
	}
	if err := keys.Validate(); err != nil {
		return st, err // fail closed both ways
	}
	if old != nil && old.srtp != nil && old.SRTP.Suite == keys.Suite {
		prev := old.SRTP
		if bytes.Equal(prev.Local, keys.Local) {
			st.send = old.srtp.send
		}
		if bytes.Equal(prev.Remote, keys.Remote) && bytes.Equal(prev.RemoteMKI, keys.RemoteMKI) {
			st.recv = old.srtp.recv
		}
	}
	var errs []error
	if st.send == nil {
		s, err := srtp.NewSender(keys)
		st.send = s
		errs = append(errs, err)
	}
	if st.recv == nil {
		r, err := srtp.NewReceiver(keys)
		st.recv = r
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// Stats are a session's packet counters.
type Stats struct {
	RxPackets, RxBytes, RxDropped uint64
	TxPackets, TxBytes, TxDropped uint64
	// RxUnauthenticated counts the SRTP packets dropped because they failed
	// authentication or were replays (also counted in RxDropped).
	RxUnauthenticated uint64
	// Latched is the address packets come from, once known.
	Latched netip.AddrPort
}

// Session is one RTP socket on one local port: the media side of a call leg.
// Packets it receives go to its peer session (the relay fast path), with
// SSRC, sequence numbers and timestamps rewritten into the peer's own
// outgoing stream, the payload type mapped and G.711 transcoded when the two
// legs negotiated different laws.
type Session struct {
	conn       PacketConn
	port       int
	advertised netip.AddrPort
	log        *slog.Logger
	release    func()

	params atomic.Pointer[compiled]
	peer   atomic.Pointer[Session]

	// symmetric RTP (RFC 4961): where packets come from, and where ours go
	sendTo        atomic.Pointer[netip.AddrPort]
	latchedOnce   atomic.Bool
	lastLatchedRx atomic.Int64
	latchLog      atomic.Int64 // unix nanos of the last "source changed" log

	lastRx atomic.Int64 // unix nanos of the last accepted packet, 0: never

	rxPackets, rxBytes, rxDropped atomic.Uint64
	txPackets, txBytes, txDropped atomic.Uint64
	rxUnauthenticated             atomic.Uint64

	out outStream

	// frame mode: decoded audio goes to input instead of the relay peer
	input   atomic.Pointer[jitter.Buffer]
	scratch [maxPacket]int16 // decoded payload, reader goroutine only
	// digits: RFC 4733 events decided by dtmfRx (reader goroutine only),
	// reported to onDigit
	dtmfRx   dtmf.Receiver
	onDigit  atomic.Pointer[DigitFunc]
	digitOut atomic.Bool // Ringdesk is sending an RFC 4733 event: audio waits
	digitMu  sync.Mutex  // one outgoing digit at a time
	digitSrc byte        // its address identifies Ringdesk's digits in the out stream

	closeOnce sync.Once
	wg        sync.WaitGroup
	closed    atomic.Bool
}

// outStream is the stream this session sends: one SSRC with continuous
// sequence numbers and timestamps, whichever source feeds it (RFC 3550 §5.1).
type outStream struct {
	mu       sync.Mutex
	started  bool
	ssrc     uint32
	seq      uint16 // highest sequence number sent
	ts       uint32 // highest timestamp sent
	tsAt     int64  // unix nanos when ts last advanced
	sent     bool   // something was sent since the stream started
	src      any    // what feeds the stream: a *Session, a Mixer, a MusicStream
	srcSSRC  uint32
	firstSeq uint16 // first sequence number of the current source's mapping
	fresh    uint8  // packets sent since the source switch, up to freshWindow
	seqDelta uint16
	tsDelta  uint32
	nextTS   uint32 // the timestamp of the next generated packet
	hdr      rtp.Header
	// buf holds the packet being sent: at most maxPacket bytes of RTP, and
	// room behind them for the SRTP tag, added in place.
	buf [maxPacket + srtp.MaxOverhead]byte
}

func newSession(conn PacketConn, port int, log *slog.Logger) *Session {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{conn: conn, port: port, log: log}
	s.out.ssrc = randUint32()
	c, _ := compile(Params{}, nil) // no SRTP: cannot fail
	s.params.Store(c)
	return s
}

// NewSessionConn wraps an already open connection, for tests and benchmarks.
func NewSessionConn(conn PacketConn, advertised netip.AddrPort, log *slog.Logger) *Session {
	s := newSession(conn, int(advertised.Port()), log)
	s.advertised = advertised
	s.start()
	return s
}

func (s *Session) start() {
	s.wg.Go(s.readLoop)
}

// LocalAddr is the address and port to advertise in SDP.
func (s *Session) LocalAddr() netip.AddrPort { return s.advertised }

// Port is the local RTP port.
func (s *Session) Port() int { return s.port }

// SetParams applies negotiated parameters. A new remote address lets
// symmetric RTP latch afresh. New SRTP keys take effect for the next packet
// each way (see Params.SRTP).
func (s *Session) SetParams(p Params) {
	old := s.params.Load()
	c, err := compile(p, old)
	if err != nil { // the caller's bug: the session fails closed
		s.log.Error("srtp keys unusable, media dropped", "port", s.port, "error", err)
	}
	s.params.Store(c)
	if old.Remote != p.Remote {
		r := p.Remote
		s.sendTo.Store(&r)
		s.latchedOnce.Store(false)
	}
}

// Params returns a copy of the current parameters.
func (s *Session) Params() Params {
	p := s.params.Load().Params
	p.Recv = slices.Clone(p.Recv)
	p.SRTP = p.SRTP.Clone()
	return p
}

// SetPeer forwards what this session receives to dst; nil drops it.
func (s *Session) SetPeer(dst *Session) { s.peer.Store(dst) }

// Peer returns where received packets go.
func (s *Session) Peer() *Session { return s.peer.Load() }

// Bridge relays a and b to each other.
func Bridge(a, b *Session) {
	a.SetPeer(b)
	b.SetPeer(a)
}

// LastReceived is when the last RTP packet was accepted; zero if never.
func (s *Session) LastReceived() time.Time {
	n := s.lastRx.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Stats returns the packet counters.
func (s *Session) Stats() Stats {
	st := Stats{
		RxPackets: s.rxPackets.Load(), RxBytes: s.rxBytes.Load(), RxDropped: s.rxDropped.Load(),
		TxPackets: s.txPackets.Load(), TxBytes: s.txBytes.Load(), TxDropped: s.txDropped.Load(),
		RxUnauthenticated: s.rxUnauthenticated.Load(),
	}
	if s.latchedOnce.Load() {
		if p := s.sendTo.Load(); p != nil {
			st.Latched = *p
		}
	}
	return st
}

// Close stops the session, waits for its reader and returns the port to the
// pool. Idempotent.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.peer.Store(nil)
		err = s.conn.Close()
		s.wg.Wait()
		if s.release != nil {
			s.release()
		}
	})
	return err
}

func (s *Session) readLoop() {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("rtp reader panicked", "port", s.port, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	buf := make([]byte, maxPacket+1)
	var pkt rtp.Packet
	errs := 0
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.closed.Load() {
				return
			}
			errs++
			if errs >= readErrorBudget {
				s.log.Error("rtp read failing, session stops reading", "port", s.port, "error", err)
				return
			}
			continue
		}
		errs = 0
		s.receive(buf[:n], from, &pkt)
	}
}

// receive handles one datagram: classify, authenticate and decrypt (SRTP),
// parse, latch, forward. It must not allocate (pinned by a benchmark). SRTP
// packets are decrypted in place, in b.
func (s *Session) receive(b []byte, from netip.AddrPort, pkt *rtp.Packet) {
	if len(b) > maxPacket || len(b) < 12 || b[0]>>6 != 2 {
		s.rxDropped.Add(1) // oversized, or not RTP version 2 (STUN, garbage)
		return
	}
	if pt := b[1] & 0x7f; pt >= 64 && pt <= 95 {
		s.rxDropped.Add(1) // RTCP multiplexed on the RTP port (RFC 5761 §4)
		return
	}
	// Classify before anything else: a packet of a payload type the peer did
	// not negotiate neither latches nor keeps the media watchdog quiet.
	p := s.params.Load()
	kind := p.kind[b[1]&0x7f]
	if kind == kindUnknown {
		s.rxDropped.Add(1)
		return
	}
	size := len(b)
	if st := p.srtp; st != nil {
		// Nothing but the checks above, which only drop, has looked at
		// the packet yet: latching, the watchdog, digits and the peer see
		// authenticated packets only (RFC 3711 §3.3).
		if st.recv == nil {
			s.rxDropped.Add(1)
			return
		}
		plain, err := st.recv.Unprotect(b[:0], b)
		if err != nil {
			s.rxDropped.Add(1)
			s.rxUnauthenticated.Add(1)
			return
		}
		b = plain
	}
	if err := pkt.Unmarshal(b); err != nil {
		s.rxDropped.Add(1)
		return
	}
	now := time.Now().UnixNano()
	if !s.latch(from, now) {
		s.rxDropped.Add(1)
		return
	}
	s.rxPackets.Add(1)
	s.rxBytes.Add(uint64(size)) //nolint:gosec // size >= 0
	s.lastRx.Store(now)
	if kind == kindDTMF {
		if d, ok := s.dtmfRx.Packet(pkt.Timestamp, pkt.Payload, time.Unix(0, now)); ok {
			s.digit(d, DigitRFC4733)
		}
	} else if d, ok := s.dtmfRx.Tick(time.Unix(0, now)); ok {
		s.digit(d, DigitRFC4733) // an event whose end packets were all lost
	}
	if in := s.input.Load(); in != nil {
		if kind != kindDTMF {
			n := decode(kind, s.scratch[:], pkt.Payload)
			in.Push(pkt.SequenceNumber, pkt.Timestamp, pkt.SSRC, s.scratch[:n], time.Unix(0, now))
		}
		return
	}
	if dst := s.peer.Load(); dst != nil {
		dst.forward(s, pkt, kind, now)
	}
}

// decode turns an audio payload of the given kind into PCM.
func decode(kind uint8, dst []int16, payload []byte) int {
	if kind == kindPCMA {
		return PCMA.Decode(dst, payload)
	}
	return PCMU.Decode(dst, payload)
}

// latch implements symmetric RTP: the first source after negotiation becomes
// where we send; a different source is followed only once the current one has
// been silent for relatchAfter. It reports whether to accept the packet.
func (s *Session) latch(from netip.AddrPort, now int64) bool {
	cur := s.sendTo.Load()
	if cur != nil && *cur == from && s.latchedOnce.Load() {
		s.lastLatchedRx.Store(now)
		return true
	}
	if s.latchedOnce.Load() && now-s.lastLatchedRx.Load() < int64(relatchAfter) {
		return false
	}
	f := from
	s.sendTo.Store(&f)
	wasLatched := s.latchedOnce.Swap(true)
	s.lastLatchedRx.Store(now)
	if last := s.latchLog.Load(); now-last > int64(10*time.Second) && s.latchLog.CompareAndSwap(last, now) {
		if wasLatched || (cur != nil && *cur != from) {
			sdp := ""
			if cur != nil {
				sdp = cur.String()
			}
			s.log.Info("rtp source latched", "port", s.port, "source", from.String(), "was", sdp)
		}
	}
	return true
}

// forward sends a packet received on src into this session's outgoing stream.
func (s *Session) forward(src *Session, in *rtp.Packet, kind uint8, now int64) {
	p := s.params.Load()
	dest, ok := s.destination(p)
	if !ok {
		s.txDropped.Add(1)
		return
	}
	if s.digitOut.Load() {
		s.txDropped.Add(1) // Ringdesk's own digit is on the wire
		return
	}
	var pt uint8
	switch kind {
	case kindDTMF:
		if p.DTMFPayloadType == 0 {
			s.txDropped.Add(1)
			return
		}
		pt = p.DTMFPayloadType
	default:
		pt = p.PayloadType
	}

	o := &s.out
	o.mu.Lock()
	if !o.started || o.src != src || o.srcSSRC != in.SSRC {
		// A new source feeds the stream: continue our numbering after what
		// was last sent, advancing the clock by the wall time since our
		// timestamp last moved (after an RFC 4733 event that is the event's
		// start, which its packets all carry: RFC 4733 §2.5.1.3).
		var seq uint16
		var ts uint32
		if o.started {
			seq = o.seq + 1
			elapsed := uint32(max((now-o.tsAt)/125_000, 160)) //nolint:gosec // 8 kHz samples
			ts = o.ts + elapsed
		} else {
			seq = uint16(randUint32()) //nolint:gosec // random start (RFC 3550 §5.1)
			ts = randUint32()
			o.started = true
		}
		o.seqDelta = seq - in.SequenceNumber
		o.tsDelta = ts - in.Timestamp
		o.firstSeq = seq
		o.fresh = 0
		o.src = src
		o.srcSSRC = in.SSRC
		in.Marker = true
	}
	seq := in.SequenceNumber + o.seqDelta
	ts := in.Timestamp + o.tsDelta
	if o.fresh < freshWindow {
		if int16(seq-o.firstSeq) < 0 { //nolint:gosec // serial number arithmetic (RFC 1982)
			// A packet of the new source that arrives late maps before
			// its first one, onto numbers the previous source used.
			o.mu.Unlock()
			s.txDropped.Add(1)
			return
		}
		o.fresh++
	}
	if !o.sent || int16(seq-o.seq) > 0 { //nolint:gosec // serial number arithmetic
		o.seq = seq
	}
	if !o.sent || int32(ts-o.ts) > 0 { //nolint:gosec // serial number arithmetic
		o.ts = ts
		o.tsAt = now
	}
	o.sent = true
	h := &o.hdr
	h.Version = 2
	h.Padding = false
	h.Extension = false
	h.Marker = in.Marker
	h.PayloadType = pt
	h.SequenceNumber = seq
	h.Timestamp = ts
	h.SSRC = o.ssrc
	hn, err := h.MarshalTo(o.buf[:maxPacket])
	if err != nil || hn+len(in.Payload) > maxPacket {
		o.mu.Unlock()
		s.txDropped.Add(1)
		return
	}
	payload := o.buf[hn : hn+len(in.Payload)]
	switch {
	case kind == kindPCMU && p.Codec == PCMA:
		Transcode(payload, in.Payload, PCMU, PCMA)
	case kind == kindPCMA && p.Codec == PCMU:
		Transcode(payload, in.Payload, PCMA, PCMU)
	default:
		copy(payload, in.Payload)
	}
	s.writeLocked(p, hn+len(payload), dest)
	o.mu.Unlock()
}

// writeLocked sends the packet of n bytes built at the start of the out
// stream's buffer, protected with SRTP if p says so; the caller holds o.mu.
func (s *Session) writeLocked(p *compiled, n int, dest netip.AddrPort) {
	b := s.out.buf[:n]
	if st := p.srtp; st != nil {
		if st.send == nil {
			s.txDropped.Add(1)
			return
		}
		var err error
		if b, err = st.send.Protect(s.out.buf[:0], b); err != nil { // in place: buf has room for the tag
			s.txDropped.Add(1)
			return
		}
	}
	n, err := s.conn.WriteToUDPAddrPort(b, dest)
	if err != nil {
		s.txDropped.Add(1)
		return
	}
	s.txPackets.Add(1)
	s.txBytes.Add(uint64(n)) //nolint:gosec // n >= 0
}

// destination returns where to send under p, or false when sending is not
// allowed or not possible yet.
func (s *Session) destination(p *compiled) (netip.AddrPort, bool) {
	if !p.Send {
		return netip.AddrPort{}, false
	}
	dest := s.sendTo.Load()
	if dest == nil || !dest.IsValid() || dest.Port() == 0 || dest.Addr().IsUnspecified() {
		return netip.AddrPort{}, false
	}
	return *dest, true
}

// generatedHeader prepares o.hdr for the next packet of a stream Ringdesk
// generates (mixer, music, digits) identified by src, covering samples.
// The caller holds o.mu.
func (o *outStream) generatedHeader(src any, pt uint8, samples uint32, now int64) *rtp.Header {
	marker := false
	if !o.started || o.src != src || o.srcSSRC != 0 {
		if o.started {
			elapsed := uint32(max((now-o.tsAt)/125_000, 160)) //nolint:gosec // 8 kHz samples
			o.seq++
			o.nextTS = o.ts + elapsed
		} else {
			o.seq = uint16(randUint32()) //nolint:gosec // random start (RFC 3550 §5.1)
			o.nextTS = randUint32()
			o.started = true
		}
		o.src = src
		o.srcSSRC = 0
		marker = true
	} else {
		o.seq++
	}
	o.ts = o.nextTS
	o.tsAt = now
	o.nextTS += samples
	o.sent = true
	h := &o.hdr
	h.Version = 2
	h.Padding = false
	h.Extension = false
	h.Marker = marker
	h.PayloadType = pt
	h.SequenceNumber = o.seq
	h.Timestamp = o.ts
	h.SSRC = o.ssrc
	return h
}

// WriteFrame sends one frame of 8 kHz PCM, encoded with the negotiated
// codec, into the session's outgoing stream. src identifies the producer
// (a Mixer): a change of producer continues the stream's numbering. It must
// not allocate.
func (s *Session) WriteFrame(src any, pcm []int16) {
	p := s.params.Load()
	dest, ok := s.destination(p)
	if !ok || s.digitOut.Load() || len(pcm) > maxPacket-12 {
		s.txDropped.Add(1)
		return
	}
	o := &s.out
	o.mu.Lock()
	h := o.generatedHeader(src, p.PayloadType, uint32(len(pcm)), time.Now().UnixNano()) //nolint:gosec // len < maxPacket
	hn, err := h.MarshalTo(o.buf[:maxPacket])
	if err != nil || hn+len(pcm) > maxPacket {
		o.mu.Unlock()
		s.txDropped.Add(1)
		return
	}
	n := p.Codec.Encode(o.buf[hn:maxPacket], pcm)
	s.writeLocked(p, hn+n, dest)
	o.mu.Unlock()
}

// writeEncoded sends a frame already encoded in both laws (shared hold
// music): the one the session negotiated goes out.
func (s *Session) writeEncoded(src any, ulaw, alaw []byte) {
	p := s.params.Load()
	dest, ok := s.destination(p)
	if !ok || s.digitOut.Load() {
		s.txDropped.Add(1)
		return
	}
	payload := ulaw
	if p.Codec == PCMA {
		payload = alaw
	}
	o := &s.out
	o.mu.Lock()
	h := o.generatedHeader(src, p.PayloadType, uint32(len(payload)), time.Now().UnixNano()) //nolint:gosec // one frame
	hn, err := h.MarshalTo(o.buf[:maxPacket])
	if err != nil || hn+len(payload) > maxPacket {
		o.mu.Unlock()
		s.txDropped.Add(1)
		return
	}
	copy(o.buf[hn:], payload)
	s.writeLocked(p, hn+len(payload), dest)
	o.mu.Unlock()
}

// String describes the session for logs.
func (s *Session) String() string {
	return fmt.Sprintf("rtp:%d", s.port)
}
