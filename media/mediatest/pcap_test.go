package mediatest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// Builders of synthetic captures, for the cases real tools do not produce
// here (big-endian files, BSD loopback, fragments, extension headers).

//nolint:gochecknoglobals // read-only test addresses
var (
	v4a = netip.MustParseAddrPort("192.0.2.1:5004")
	v4b = netip.MustParseAddrPort("198.51.100.7:40000")
	v6a = netip.MustParseAddrPort("[2001:db8::1]:5004")
	v6b = netip.MustParseAddrPort("[2001:db8::2]:40000")
)

// ipv4 returns an IPv4/UDP packet; modify lets a case break it.
func ipv4(src, dst netip.AddrPort, payload []byte, modify ...func([]byte)) []byte {
	b := appendIPv4UDP(nil, 7, src, dst, payload)
	for _, m := range modify {
		m(b)
	}
	return b
}

// ipv6 returns an IPv6/UDP packet behind the extension headers named by
// their protocol numbers (8 bytes each; a fragment header for 44). last is
// the protocol after them (protoUDP for a datagram).
func ipv6(src, dst netip.AddrPort, payload []byte, last byte, ext ...byte) []byte {
	var body []byte
	for i := range ext {
		next := last
		if i+1 < len(ext) {
			next = ext[i+1]
		}
		body = append(body, next, 0, 0, 0, 0, 0, 0, 0) // length 0: 8 bytes
	}
	body = binary.BigEndian.AppendUint16(body, src.Port())
	body = binary.BigEndian.AppendUint16(body, dst.Port())
	body = binary.BigEndian.AppendUint16(body, uint16(8+len(payload)))
	body = append(body, 0, 0)
	body = append(body, payload...)
	first := last
	if len(ext) > 0 {
		first = ext[0]
	}
	b := []byte{0x60, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	b = append(b, first, 64)
	b = append(b, src.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	return append(b, body...)
}

func etherType(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return etherIPv6
	}
	return etherIPv4
}

func ethernet(ip []byte, vlans int) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for range vlans {
		b = binary.BigEndian.AppendUint16(b, etherVLAN)
		b = append(b, 0, 42)
	}
	b = binary.BigEndian.AppendUint16(b, etherType(ip))
	return append(b, ip...)
}

func sll(ip []byte) []byte {
	b := []byte{0, 0, 0x03, 0x04, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0} // host, ARPHRD_LOOPBACK
	b = binary.BigEndian.AppendUint16(b, etherType(ip))
	return append(b, ip...)
}

func sll2(ip []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, etherType(ip))
	b = append(b, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	return append(b, ip...)
}

func null(bo byteOrder, family uint32, ip []byte) []byte {
	return append(bo.AppendUint32(nil, family), ip...)
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type record struct {
	t     time.Time
	frame []byte
}

func classicPcap(bo byteOrder, nano bool, link uint32, recs ...record) []byte {
	magic := uint32(pcapMicro)
	if nano {
		magic = pcapNano
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = bo.AppendUint32(b, 262144)
	b = bo.AppendUint32(b, link)
	for _, r := range recs {
		frac := r.t.Nanosecond()
		if !nano {
			frac /= 1000
		}
		b = bo.AppendUint32(b, uint32(r.t.Unix()))
		b = bo.AppendUint32(b, uint32(frac))
		b = bo.AppendUint32(b, uint32(len(r.frame)))
		b = bo.AppendUint32(b, uint32(len(r.frame)))
		b = append(b, r.frame...)
	}
	return b
}

// pcapngBlock returns a block with its lengths, the body padded to 4 bytes.
func pcapngBlock(bo byteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := bo.AppendUint32(nil, typ)
	b = bo.AppendUint32(b, uint32(12+len(body)))
	b = append(b, body...)
	return bo.AppendUint32(b, uint32(12+len(body)))
}

func pcapngSection(bo byteOrder) []byte {
	body := bo.AppendUint32(nil, pcapngBOM)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, 0xffffffffffffffff) // section length unknown
	return pcapngBlock(bo, pcapngSHB, body)
}

// pcapngInterfaceBlock declares an interface; tsresol 0 leaves the default
// (microseconds).
func pcapngInterfaceBlock(bo byteOrder, link uint16, tsresol byte, offset uint64) []byte {
	body := bo.AppendUint16(nil, link)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, 0) // no snaplen
	if tsresol != 0 {
		body = bo.AppendUint16(body, optIfTSResol)
		body = bo.AppendUint16(body, 1)
		body = append(body, tsresol, 0, 0, 0)
	}
	if offset != 0 {
		body = bo.AppendUint16(body, optIfTSOffset)
		body = bo.AppendUint16(body, 8)
		body = bo.AppendUint64(body, offset)
	}
	body = append(body, 0, 0, 0, 0) // opt_endofopt
	return pcapngBlock(bo, pcapngIDB, body)
}

func pcapngPacket(bo byteOrder, iface uint32, ts uint64, frame []byte) []byte {
	body := bo.AppendUint32(nil, iface)
	body = bo.AppendUint32(body, uint32(ts>>32))
	body = bo.AppendUint32(body, uint32(ts))
	body = bo.AppendUint32(body, uint32(len(frame)))
	body = bo.AppendUint32(body, uint32(len(frame)))
	body = append(body, frame...)
	return pcapngBlock(bo, pcapngEPB, body)
}

func TestReadPcapLinkTypes(t *testing.T) {
	payload := []byte("\x80\x00\x00\x01 some RTP-ish payload")
	p4, p6 := ipv4(v4a, v4b, payload), ipv6(v6a, v6b, payload, protoUDP)
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name  string
		link  uint32
		frame []byte
		src   netip.AddrPort
		dst   netip.AddrPort
	}{
		{"ethernet ipv4", linkEthernet, ethernet(p4, 0), v4a, v4b},
		{"ethernet ipv6", linkEthernet, ethernet(p6, 0), v6a, v6b},
		{"ethernet 802.1Q", linkEthernet, ethernet(p4, 1), v4a, v4b},
		{"ethernet QinQ ipv6", linkEthernet, ethernet(p6, 2), v6a, v6b},
		{"ethernet padded", linkEthernet, append(ethernet(ipv4(v4a, v4b, []byte("x")), 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), v4a, v4b},
		{"raw ipv4", linkRaw, p4, v4a, v4b},
		{"raw ipv6", linkRaw, p6, v6a, v6b},
		{"LINKTYPE_IPV4", linkIPv4, p4, v4a, v4b},
		{"LINKTYPE_IPV6", linkIPv6, p6, v6a, v6b},
		{"SLL ipv4", linkSLL, sll(p4), v4a, v4b},
		{"SLL ipv6", linkSLL, sll(p6), v6a, v6b},
		{"SLL2 ipv4", linkSLL2, sll2(p4), v4a, v4b},
		{"SLL2 ipv6", linkSLL2, sll2(p6), v6a, v6b},
		{"null LE ipv4", linkNull, null(le, 2, p4), v4a, v4b},
		{"null BE ipv4", linkNull, null(be, 2, p4), v4a, v4b},
		{"null LE ipv6 linux", linkNull, null(le, 10, p6), v6a, v6b},
		{"null BE ipv6 freebsd", linkNull, null(be, 28, p6), v6a, v6b},
		{"null LE ipv6 darwin", linkNull, null(le, 30, p6), v6a, v6b},
		{"loop ipv6 openbsd", linkLoop, null(be, 24, p6), v6a, v6b},
		{"ipv6 extension headers", linkRaw, ipv6(v6a, v6b, payload, protoUDP, protoHopByHop, protoDstOpts, protoRouting), v6a, v6b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := time.Unix(1700000000, 123456000)
			pkts, err := readCapture(bytes.NewReader(classicPcap(le, false, tt.link, record{at, tt.frame})))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 1 {
				t.Fatalf("%d packets, want 1", len(pkts))
			}
			p := pkts[0]
			want := payload
			if tt.name == "ethernet padded" {
				want = []byte("x")
			}
			if p.Src != tt.src || p.Dst != tt.dst || !bytes.Equal(p.Payload, want) || !p.Time.Equal(at) {
				t.Errorf("got %v %v→%v %q, want %v %v→%v %q", p.Time, p.Src, p.Dst, p.Payload, at, tt.src, tt.dst, want)
			}
		})
	}
}

func TestReadPcapSkips(t *testing.T) {
	payload := []byte("payload")
	frag := func(flags uint16) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint16(b[6:], flags) }
	}
	proto := func(p byte) func([]byte) {
		return func(b []byte) { b[9] = p }
	}
	tests := []struct {
		name  string
		link  uint32
		frame []byte
	}{
		{"ipv4 first fragment", linkRaw, ipv4(v4a, v4b, payload, frag(0x2000))},
		{"ipv4 later fragment", linkRaw, ipv4(v4a, v4b, payload, frag(0x0010))},
		{"tcp", linkRaw, ipv4(v4a, v4b, payload, proto(6))},
		{"icmp", linkRaw, ipv4(v4a, v4b, payload, proto(1))},
		{"ipv6 fragment", linkRaw, ipv6(v6a, v6b, payload, protoUDP, protoFragment)},
		{"ipv6 tcp", linkRaw, ipv6(v6a, v6b, payload, 6)},
		{"ipv6 tcp after options", linkRaw, ipv6(v6a, v6b, payload, 6, protoDstOpts)},
		{"arp", linkEthernet, append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)},
		{"short ethernet", linkEthernet, []byte{1, 2, 3}},
		{"short ipv4", linkRaw, ipv4(v4a, v4b, payload)[:19]},
		{"bad IHL", linkRaw, ipv4(v4a, v4b, payload, func(b []byte) { b[0] = 0x44 })},
		{"short udp", linkRaw, ipv4(v4a, v4b, nil)[:26]},
		{"ipv5", linkRaw, ipv4(v4a, v4b, payload, func(b []byte) { b[0] = 0x55 })},
		{"unknown null family", linkNull, null(binary.LittleEndian, 17, ipv4(v4a, v4b, payload))},
		{"unknown link type", 147, ipv4(v4a, v4b, payload)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, err := readCapture(bytes.NewReader(classicPcap(binary.LittleEndian, false, tt.link, record{time.Unix(1, 0), tt.frame})))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 0 {
				t.Errorf("got %d packets, want none: %+v", len(pkts), pkts[0])
			}
		})
	}
}

func TestReadPcapFormats(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	at := time.Unix(1700000000, 123456789)
	frame1, frame2 := ethernet(ipv4(v4a, v4b, []byte("one")), 0), ethernet(ipv6(v6a, v6b, []byte("two"), protoUDP), 0)
	recs := []record{{at, frame1}, {at.Add(20 * time.Millisecond), frame2}}
	ngFile := func(bo byteOrder, tsresol byte, ts func(time.Time) uint64) []byte {
		b := pcapngSection(bo)
		b = append(b, pcapngInterfaceBlock(bo, linkEthernet, tsresol, 0)...)
		for _, r := range recs {
			b = append(b, pcapngPacket(bo, 0, ts(r.t), r.frame)...)
		}
		return b
	}
	micros := func(t time.Time) uint64 { return uint64(t.UnixMicro()) }
	nanos := func(t time.Time) uint64 { return uint64(t.UnixNano()) }
	tests := []struct {
		name string
		file []byte
		prec time.Duration // timestamp precision
	}{
		{"pcap LE µs", classicPcap(le, false, linkEthernet, recs...), time.Microsecond},
		{"pcap BE µs", classicPcap(be, false, linkEthernet, recs...), time.Microsecond},
		{"pcap LE ns", classicPcap(le, true, linkEthernet, recs...), time.Nanosecond},
		{"pcap BE ns", classicPcap(be, true, linkEthernet, recs...), time.Nanosecond},
		{"pcapng LE default µs", ngFile(le, 0, micros), time.Microsecond},
		{"pcapng BE default µs", ngFile(be, 0, micros), time.Microsecond},
		{"pcapng LE ns", ngFile(le, 9, nanos), time.Nanosecond},
		{"pcapng BE ns", ngFile(be, 9, nanos), time.Nanosecond},
		{"pcapng 2^-20 s", ngFile(le, 0x80|20, func(t time.Time) uint64 {
			return uint64(t.Unix())<<20 | uint64(t.Nanosecond())<<20/1e9
		}), time.Microsecond},
		{"pcapng 10^-7 s", ngFile(le, 7, func(t time.Time) uint64 { return nanos(t) / 100 }), 100 * time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, err := readCapture(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 2 {
				t.Fatalf("%d packets, want 2", len(pkts))
			}
			for i, want := range []string{"one", "two"} {
				if string(pkts[i].Payload) != want {
					t.Errorf("packet %d: %q, want %q", i, pkts[i].Payload, want)
				}
				if d := pkts[i].Time.Sub(recs[i].t.Truncate(tt.prec)); d < 0 || d >= tt.prec {
					t.Errorf("packet %d at %v, want %v", i, pkts[i].Time, recs[i].t.Truncate(tt.prec))
				}
			}
		})
	}

	t.Run("pcapng sections and interfaces", func(t *testing.T) {
		// Section 1 (LE): interfaces 0 (raw, µs) and 1 (SLL2, ns, offset
		// 100 s), a simple packet block, an unknown block. Section 2 (BE):
		// interface 0 (Ethernet).
		b := pcapngSection(le)
		b = append(b, pcapngInterfaceBlock(le, linkRaw, 0, 0)...)
		b = append(b, pcapngInterfaceBlock(le, linkSLL2, 9, 100)...)
		b = append(b, pcapngPacket(le, 1, nanos(at), sll2(ipv4(v4a, v4b, []byte("a"))))...)
		b = append(b, pcapngBlock(le, 0x0bad, []byte("custom"))...)
		spb := le.AppendUint32(nil, uint32(len(ipv4(v4b, v4a, []byte("b")))))
		b = append(b, pcapngBlock(le, pcapngSPB, append(spb, ipv4(v4b, v4a, []byte("b"))...))...)
		b = append(b, pcapngSection(be)...)
		b = append(b, pcapngInterfaceBlock(be, linkEthernet, 0, 0)...)
		b = append(b, pcapngPacket(be, 0, micros(at), ethernet(ipv6(v6a, v6b, []byte("c"), protoUDP), 0))...)
		pkts, err := readCapture(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range pkts {
			got = append(got, string(p.Payload))
		}
		if !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("payloads %q, want a, b, c", got)
		}
		if !pkts[0].Time.Equal(at.Add(100*time.Second)) || !pkts[1].Time.IsZero() || !pkts[2].Time.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("times %v, %v, %v", pkts[0].Time, pkts[1].Time, pkts[2].Time)
		}
		if pkts[1].Src != v4b || pkts[2].Dst != v6b {
			t.Errorf("addresses %v, %v", pkts[1].Src, pkts[2].Dst)
		}
	})
}

func TestPcapngTimeUnits(t *testing.T) {
	tests := []struct {
		ifc  pcapngInterface
		ts   uint64
		want time.Time
	}{
		{pcapngInterface{exp: 6}, 1_500_000, time.Unix(1, 5e8)},
		{pcapngInterface{exp: 0}, 3, time.Unix(3, 0)},
		{pcapngInterface{exp: 12}, 1_500_000_000_123, time.Unix(1, 500_000_000)},
		{pcapngInterface{exp: 19}, 15_000_000_000_000_000_000, time.Unix(1, 5e8)},
		{pcapngInterface{exp: 25}, 15_000_000_000_000_000_000, time.Unix(1, 5e8)}, // clamped to 10^-19
		{pcapngInterface{pow2: true, exp: 0}, 7, time.Unix(7, 0)},
		{pcapngInterface{pow2: true, exp: 1}, 3, time.Unix(1, 5e8)},
		{pcapngInterface{pow2: true, exp: 30}, 5<<30 | 1<<29, time.Unix(5, 5e8)},
		{pcapngInterface{pow2: true, exp: 63}, 1 << 62, time.Unix(0, 5e8)},
		{pcapngInterface{exp: 9, offset: 1000}, 1, time.Unix(1000, 1)},
	}
	for _, tt := range tests {
		if got := tt.ifc.time(tt.ts); !got.Equal(tt.want) {
			t.Errorf("%+v: time(%d) = %v, want %v", tt.ifc, tt.ts, got.UTC(), tt.want.UTC())
		}
	}
}

func TestReadPcapErrors(t *testing.T) {
	le := binary.LittleEndian
	good := classicPcap(le, false, linkRaw,
		record{time.Unix(1, 0), ipv4(v4a, v4b, []byte("one"))},
		record{time.Unix(2, 0), ipv4(v4a, v4b, []byte("two"))})
	huge := classicPcap(le, false, linkRaw)
	huge = le.AppendUint32(huge, 1)
	huge = le.AppendUint32(huge, 0)
	huge = le.AppendUint32(huge, maxRecord+1)
	huge = le.AppendUint32(huge, maxRecord+1)
	ng := append(pcapngSection(le), pcapngInterfaceBlock(le, linkRaw, 0, 0)...)
	tests := []struct {
		name    string
		file    []byte
		packets int
		err     error
	}{
		{"empty", nil, 0, ErrNotPcap},
		{"not a capture", []byte("RIFF....WAVEfmt "), 0, ErrNotPcap},
		{"header only", good[:24], 0, nil},
		{"short header", good[:20], 0, io.ErrUnexpectedEOF},
		{"cut in a record header", good[:len(good)-len("two")-28-8], 1, io.ErrUnexpectedEOF},
		{"cut in a record", good[:len(good)-1], 1, io.ErrUnexpectedEOF},
		{"record too large", huge, 0, ErrRecordTooLarge},
		{"pcapng no blocks", pcapngSection(le), 0, nil},
		{"pcapng bad byte order", append(append([]byte{}, pcapngSection(le)[:8]...), 1, 2, 3, 4), 0, ErrBadPcap},
		{"pcapng short block", slices.Concat(ng, []byte{6, 0, 0, 0, 8, 0, 0, 0}), 0, ErrBadPcap},
		{"pcapng unaligned block", slices.Concat(ng, []byte{6, 0, 0, 0, 13, 0, 0, 0}), 0, ErrBadPcap},
		{"pcapng huge block", slices.Concat(ng, []byte{6, 0, 0, 0, 0, 0, 0, 0x10}), 0, ErrRecordTooLarge},
		{"pcapng cut block", slices.Concat(ng, pcapngPacket(le, 0, 0, ipv4(v4a, v4b, nil))[:30]), 0, io.ErrUnexpectedEOF},
		{"pcapng undeclared interface", slices.Concat(ng, pcapngPacket(le, 1, 0, ipv4(v4a, v4b, nil))), 0, ErrBadPcap},
		{"pcapng packet before interface", append(pcapngSection(le), pcapngPacket(le, 0, 0, ipv4(v4a, v4b, nil))...), 0, ErrBadPcap},
		{"pcapng caplen past block", slices.Concat(ng, pcapngBlock(le, pcapngEPB, le.AppendUint32(le.AppendUint32(make([]byte, 12), 100), 100))), 0, ErrBadPcap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, err := readCapture(bytes.NewReader(tt.file))
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
			if len(pkts) != tt.packets {
				t.Errorf("%d packets, want %d", len(pkts), tt.packets)
			}
		})
	}
	if _, err := ReadPcap(filepath.Join(t.TempDir(), "missing.pcap")); err == nil {
		t.Error("no error for a missing file")
	}
}

// TestReadPcapFixtures reads captures made by dumpcap on the loopback
// interface (lo: Ethernet; any: Linux cooked v1 and v2), some converted by
// editcap, and checked against tshark -z rtp,streams:
//
//	lo.pcapng, lo_nsec.pcap, any_sll2.pcapng, any_sll2.pcap: 5 PCMU packets
//	127.0.0.1:7002 → 127.0.0.1:7000 (SSRC 0x11223344, seq 100-104), 5 PCMA
//	packets [::1]:7002 → [::1]:7000 (SSRC 0x55667788, seq 200-204), one
//	"not rtp" datagram and a refused TCP connection (2 packets).
//
//	any_sll.pcap: 3 PCMU packets over IPv4 (SSRC 0x0a0b0c0d, seq 300-302) and
//	3 PCMA over IPv6 (SSRC 0x01020304, seq 400-402).
func TestReadPcapFixtures(t *testing.T) {
	lo4 := netip.MustParseAddrPort("127.0.0.1:7002")
	lo6 := netip.MustParseAddrPort("[::1]:7002")
	loStreams := []Stream{
		{Src: lo4, Dst: netip.MustParseAddrPort("127.0.0.1:7000"), SSRC: 0x11223344, Packets: 5, PayloadTypes: []uint8{0}, FirstSeq: 100, LastSeq: 104},
		{Src: lo6, Dst: netip.MustParseAddrPort("[::1]:7000"), SSRC: 0x55667788, Packets: 5, PayloadTypes: []uint8{8}, FirstSeq: 200, LastSeq: 204},
	}
	sllStreams := []Stream{
		{Src: lo4, Dst: netip.MustParseAddrPort("127.0.0.1:7000"), SSRC: 0x0a0b0c0d, Packets: 3, PayloadTypes: []uint8{0}, FirstSeq: 300, LastSeq: 302},
		{Src: lo6, Dst: netip.MustParseAddrPort("[::1]:7000"), SSRC: 0x01020304, Packets: 3, PayloadTypes: []uint8{8}, FirstSeq: 400, LastSeq: 402},
	}
	tests := []struct {
		file    string
		udp     int
		streams []Stream
	}{
		{"lo.pcapng", 11, loStreams},
		{"lo_nsec.pcap", 11, loStreams},
		{"any_sll2.pcapng", 11, loStreams},
		{"any_sll2.pcap", 11, loStreams},
		{"any_sll.pcap", 6, sllStreams},
	}
	var loTimes []time.Time
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pkts, err := ReadPcap(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != tt.udp {
				t.Fatalf("%d UDP packets, want %d", len(pkts), tt.udp)
			}
			rtpPkts := RTP(pkts, nil)
			if got := Streams(rtpPkts); !slices.EqualFunc(got, tt.streams, streamEqual) {
				t.Errorf("streams:\n got %+v\nwant %+v", got, tt.streams)
			}
			for i := 1; i < len(pkts); i++ {
				if pkts[i].Time.Before(pkts[i-1].Time) || pkts[i].Time.Sub(pkts[0].Time) > time.Second {
					t.Errorf("packet %d at %v after %v", i, pkts[i].Time, pkts[i-1].Time)
				}
			}
			if tt.file == "lo.pcapng" {
				loTimes = nil
				for _, p := range pkts {
					loTimes = append(loTimes, p.Time)
				}
			} else if tt.file == "lo_nsec.pcap" && loTimes != nil {
				for i, p := range pkts {
					if !p.Time.Equal(loTimes[i]) {
						t.Errorf("packet %d at %v, pcapng says %v", i, p.Time, loTimes[i])
					}
				}
			}
		})
	}
}

func streamEqual(a, b Stream) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.SSRC == b.SSRC && a.Packets == b.Packets &&
		slices.Equal(a.PayloadTypes, b.PayloadTypes) && a.FirstSeq == b.FirstSeq && a.LastSeq == b.LastSeq &&
		a.SeqGaps == b.SeqGaps && a.TimestampJumps == b.TimestampJumps
}

// TestReadPcapBoundedAllocation: records that claim to be huge cost at most one
// buffer of maxRecord bytes, however short the input.
func TestReadPcapBoundedAllocation(t *testing.T) {
	le := binary.LittleEndian
	claim := func(b []byte, n uint32) []byte {
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, n)
		return le.AppendUint32(b, n)
	}
	inputs := map[string][]byte{
		"pcap at the limit":   claim(classicPcap(le, false, linkRaw), maxRecord),
		"pcap over the limit": claim(classicPcap(le, false, linkRaw), 0xffffffff),
		"pcapng at the limit": append(pcapngSection(le), 6, 0, 0, 0, 0, 0, 4, 0),
		"pcapng over":         append(pcapngSection(le), 6, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff),
		"pcapng section":      {0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 4, 0, 0x4d, 0x3c, 0x2b, 0x1a},
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := readCapture(bytes.NewReader(in)); err == nil {
				t.Error("no error")
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 2*maxBlock {
				t.Errorf("allocated %d bytes for %d bytes of input", n, len(in))
			}
		})
	}
}
