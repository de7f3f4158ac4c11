package mediatest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"time"
)

// Packet is one UDP datagram from a capture.
type Packet struct {
	Time    time.Time // capture time; zero for pcapng simple packet blocks
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Payload []byte // UDP payload, as captured (shorter if the snap length cut it)
}

// maxRecord bounds the packet data of one capture record, so that a corrupt
// length cannot make the reader allocate without limit.
const maxRecord = 256 << 10

// maxBlock bounds a pcapng block: a record plus its headers and options.
const maxBlock = maxRecord + 4<<10

// Link-layer header types (https://www.tcpdump.org/linktypes.html).
const (
	linkNull     = 0   // BSD loopback, address family in host byte order
	linkEthernet = 1   // IEEE 802.3
	linkRaw      = 101 // raw IPv4 or IPv6
	linkLoop     = 108 // OpenBSD loopback, address family in network byte order
	linkSLL      = 113 // Linux cooked capture v1
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276 // Linux cooked capture v2
)

// File magic numbers.
const (
	pcapMicro     = 0xa1b2c3d4
	pcapNano      = 0xa1b23c4d
	pcapngSHB     = 0x0a0d0d0a
	pcapngBOM     = 0x1a2b3c4d
	pcapngIDB     = 1
	pcapngPB      = 2 // obsolete packet block
	pcapngSPB     = 3
	pcapngEPB     = 6
	optEndOfOpt   = 0
	optIfTSResol  = 9
	optIfTSOffset = 14
)

// ReadPcap reads the UDP datagrams of a capture file, in file order. It reads
// classic pcap (either byte order, microsecond or nanosecond timestamps) and
// pcapng (any number of sections and interfaces) with link types Ethernet (1,
// with 802.1Q tags), raw IP (101, 228, 229), Linux cooked SLL (113) and SLL2
// (276), and BSD null/loopback (0, 108), over IPv4 or IPv6. It skips IP
// fragments, TCP and everything else that is not a whole UDP datagram.
//
// If the file ends in the middle of a record, as when the capturing process was
// killed, ReadPcap returns the packets before it and an error wrapping
// io.ErrUnexpectedEOF.
func ReadPcap(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read pcap: %w", err)
	}
	defer f.Close()
	pkts, err := readCapture(bufio.NewReader(f))
	if err != nil {
		return pkts, fmt.Errorf("read pcap %s: %w", path, err)
	}
	return pkts, nil
}

// readCapture reads a pcap or pcapng stream.
func readCapture(r io.Reader) ([]Packet, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotPcap, err)
	}
	switch {
	case binary.BigEndian.Uint32(magic[:]) == pcapngSHB:
		return readPcapng(io.MultiReader(bytes.NewReader(magic[:]), r))
	case binary.BigEndian.Uint32(magic[:]) == pcapMicro:
		return readClassic(r, binary.BigEndian, false)
	case binary.BigEndian.Uint32(magic[:]) == pcapNano:
		return readClassic(r, binary.BigEndian, true)
	case binary.LittleEndian.Uint32(magic[:]) == pcapMicro:
		return readClassic(r, binary.LittleEndian, false)
	case binary.LittleEndian.Uint32(magic[:]) == pcapNano:
		return readClassic(r, binary.LittleEndian, true)
	default:
		return nil, ErrNotPcap
	}
}

// readFull is io.ReadFull, except that io.EOF after some bytes (or when
// eofOK is false) becomes io.ErrUnexpectedEOF.
func readFull(r io.Reader, buf []byte, eofOK bool) error {
	_, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) && !eofOK {
		return io.ErrUnexpectedEOF
	}
	return err
}

// grow returns buf resized to n bytes, reallocating only when it is too small.
func grow(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, n)
	}
	return buf[:n]
}

// readClassic reads a classic pcap file after its magic number.
func readClassic(r io.Reader, bo binary.ByteOrder, nano bool) ([]Packet, error) {
	var hdr [20]byte
	if err := readFull(r, hdr[:], false); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	// version(4) thiszone(4) sigfigs(4) snaplen(4) linktype(4); the top bits
	// of linktype carry FCS information.
	link := bo.Uint32(hdr[16:20]) & 0x03ffffff
	var (
		pkts []Packet
		buf  []byte
		rec  [16]byte
	)
	for {
		if err := readFull(r, rec[:], true); errors.Is(err, io.EOF) {
			return pkts, nil
		} else if err != nil {
			return pkts, fmt.Errorf("pcap record %d: %w", len(pkts), err)
		}
		sec, frac := bo.Uint32(rec[0:4]), bo.Uint32(rec[4:8])
		capLen := bo.Uint32(rec[8:12])
		if capLen > maxRecord {
			return pkts, fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, capLen)
		}
		buf = grow(buf, int(capLen))
		if err := readFull(r, buf, false); err != nil {
			return pkts, fmt.Errorf("pcap record: %w", err)
		}
		nsec := int64(frac)
		if !nano {
			nsec *= 1000
		}
		if p, ok := decodeFrame(link, buf); ok {
			p.Time = time.Unix(int64(sec), nsec)
			pkts = append(pkts, p)
		}
	}
}

// pcapngInterface is what an interface description block tells about the
// packets captured on it.
type pcapngInterface struct {
	link    uint32
	snapLen uint32
	pow2    bool   // timestamp units are 2^-exp s (else 10^-exp s)
	exp     uint8  // if_tsresol
	offset  uint64 // if_tsoffset, seconds
}

// time converts a timestamp in the interface's units.
func (ifc pcapngInterface) time(ts uint64) time.Time {
	var sec, nsec uint64
	switch {
	case ifc.pow2 && ifc.exp == 0:
		sec = ts
	case ifc.pow2:
		e := uint(min(ifc.exp, 63))
		sec = ts >> e
		hi, lo := bits.Mul64(ts&(1<<e-1), 1e9)
		nsec = hi<<(64-e) | lo>>e
	default:
		e := min(int(ifc.exp), 19)
		unit := uint64(1)
		for range e {
			unit *= 10
		}
		sec, nsec = ts/unit, ts%unit
		for i := e; i < 9; i++ {
			nsec *= 10
		}
		for i := 9; i < e; i++ {
			nsec /= 10
		}
	}
	return time.Unix(int64(sec+ifc.offset), int64(nsec))
}

// readPcapng reads a pcapng stream from its start.
func readPcapng(r io.Reader) ([]Packet, error) {
	var (
		pkts   []Packet
		ifaces []pcapngInterface
		bo     binary.ByteOrder = binary.LittleEndian
		buf    []byte
		head   [12]byte
	)
	for {
		if err := readFull(r, head[:8], true); errors.Is(err, io.EOF) {
			return pkts, nil
		} else if err != nil {
			return pkts, fmt.Errorf("pcapng block: %w", err)
		}
		if binary.BigEndian.Uint32(head[:4]) == pcapngSHB {
			// A new section: its byte-order magic sets the byte order, and
			// interface numbering starts again.
			if err := readFull(r, head[8:12], false); err != nil {
				return pkts, fmt.Errorf("pcapng section header: %w", err)
			}
			switch {
			case binary.LittleEndian.Uint32(head[8:12]) == pcapngBOM:
				bo = binary.LittleEndian
			case binary.BigEndian.Uint32(head[8:12]) == pcapngBOM:
				bo = binary.BigEndian
			default:
				return pkts, fmt.Errorf("%w: bad byte-order magic", ErrBadPcap)
			}
			ifaces = ifaces[:0]
			length := bo.Uint32(head[4:8])
			if length < 28 || length%4 != 0 || length > maxBlock {
				return pkts, fmt.Errorf("%w: section header length %d", ErrBadPcap, length)
			}
			buf = grow(buf, int(length)-12)
			if err := readFull(r, buf, false); err != nil {
				return pkts, fmt.Errorf("pcapng section header: %w", err)
			}
			continue
		}
		typ, length := bo.Uint32(head[:4]), bo.Uint32(head[4:8])
		if length < 12 || length%4 != 0 {
			return pkts, fmt.Errorf("%w: block length %d", ErrBadPcap, length)
		}
		if length > maxBlock {
			return pkts, fmt.Errorf("%w: block of %d bytes", ErrRecordTooLarge, length)
		}
		buf = grow(buf, int(length)-8)
		if err := readFull(r, buf, false); err != nil {
			return pkts, fmt.Errorf("pcapng block: %w", err)
		}
		body := buf[:len(buf)-4] // without the trailing length

		var (
			ifaceID uint32
			ts      uint64
			hasTime bool
			data    []byte
		)
		switch typ {
		case pcapngIDB:
			if len(body) < 8 {
				return pkts, fmt.Errorf("%w: short interface description block", ErrBadPcap)
			}
			ifaces = append(ifaces, parseIDB(bo, body))
			continue
		case pcapngEPB:
			// interface(4) tsHigh(4) tsLow(4) capLen(4) origLen(4) data options
			if len(body) < 20 {
				return pkts, fmt.Errorf("%w: short enhanced packet block", ErrBadPcap)
			}
			ifaceID = bo.Uint32(body[0:4])
			ts, hasTime = uint64(bo.Uint32(body[4:8]))<<32|uint64(bo.Uint32(body[8:12])), true
			capLen := bo.Uint32(body[12:16])
			if uint64(capLen) > uint64(len(body)-20) {
				return pkts, fmt.Errorf("%w: packet of %d bytes in a block of %d", ErrBadPcap, capLen, length)
			}
			data = body[20 : 20+capLen]
		case pcapngPB:
			// interface(2) drops(2) tsHigh(4) tsLow(4) capLen(4) len(4) data options
			if len(body) < 20 {
				return pkts, fmt.Errorf("%w: short packet block", ErrBadPcap)
			}
			ifaceID = uint32(bo.Uint16(body[0:2]))
			ts, hasTime = uint64(bo.Uint32(body[4:8]))<<32|uint64(bo.Uint32(body[8:12])), true
			capLen := bo.Uint32(body[12:16])
			if uint64(capLen) > uint64(len(body)-20) {
				return pkts, fmt.Errorf("%w: packet of %d bytes in a block of %d", ErrBadPcap, capLen, length)
			}
			data = body[20 : 20+capLen]
		case pcapngSPB:
			// origLen(4) data, on interface 0; captured length is
			// min(origLen, snaplen), as much as the block holds.
			if len(body) < 4 {
				return pkts, fmt.Errorf("%w: short simple packet block", ErrBadPcap)
			}
			n := uint64(bo.Uint32(body[0:4]))
			if len(ifaces) > 0 && ifaces[0].snapLen != 0 {
				n = min(n, uint64(ifaces[0].snapLen))
			}
			data = body[4 : 4+min(n, uint64(len(body)-4))]
		default:
			continue // name resolution, statistics, custom blocks, ...
		}
		if ifaceID >= uint32(len(ifaces)) {
			return pkts, fmt.Errorf("%w: packet on undeclared interface %d", ErrBadPcap, ifaceID)
		}
		if len(data) > maxRecord {
			return pkts, fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, len(data))
		}
		ifc := ifaces[ifaceID]
		if p, ok := decodeFrame(ifc.link, data); ok {
			if hasTime {
				p.Time = ifc.time(ts)
			}
			pkts = append(pkts, p)
		}
	}
}

// parseIDB parses an interface description block's body:
// linkType(2) reserved(2) snapLen(4) options.
func parseIDB(bo binary.ByteOrder, body []byte) pcapngInterface {
	ifc := pcapngInterface{
		link:    uint32(bo.Uint16(body[0:2])),
		snapLen: bo.Uint32(body[4:8]),
		exp:     6, // microseconds unless if_tsresol says otherwise
	}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := bo.Uint16(opts[0:2]), int(bo.Uint16(opts[2:4]))
		if code == optEndOfOpt || 4+n > len(opts) {
			break
		}
		val := opts[4 : 4+n]
		switch {
		case code == optIfTSResol && n >= 1:
			ifc.pow2, ifc.exp = val[0]&0x80 != 0, val[0]&0x7f
		case code == optIfTSOffset && n >= 8:
			ifc.offset = bo.Uint64(val)
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	return ifc
}

// decodeFrame extracts the UDP datagram from one captured frame of link type
// link, copying its payload. ok is false for anything else.
func decodeFrame(link uint32, frame []byte) (p Packet, ok bool) {
	ip, ok := linkPayload(link, frame)
	if !ok {
		return Packet{}, false
	}
	src, dst, payload, ok := udpOverIP(ip)
	if !ok {
		return Packet{}, false
	}
	return Packet{Src: src, Dst: dst, Payload: bytes.Clone(payload)}, true
}

// Ethertypes.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// linkPayload strips the link-layer header and returns the IP packet.
func linkPayload(link uint32, b []byte) ([]byte, bool) {
	be := binary.BigEndian
	var etherType uint16
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return nil, false
		}
		etherType, b = be.Uint16(b[12:14]), b[14:]
		for (etherType == etherVLAN || etherType == etherQinQ || etherType == etherQinQ2) && len(b) >= 4 {
			etherType, b = be.Uint16(b[2:4]), b[4:]
		}
	case linkRaw, linkIPv4, linkIPv6:
		return b, true
	case linkSLL:
		// packetType(2) arphrd(2) addrLen(2) addr(8) protocol(2)
		if len(b) < 16 {
			return nil, false
		}
		etherType, b = be.Uint16(b[14:16]), b[16:]
	case linkSLL2:
		// protocol(2) reserved(2) ifindex(4) arphrd(2) packetType(1) addrLen(1) addr(8)
		if len(b) < 20 {
			return nil, false
		}
		etherType, b = be.Uint16(b[0:2]), b[20:]
	case linkNull, linkLoop:
		// A 4-byte address family: AF_INET is 2 everywhere, AF_INET6 is 10
		// (Linux), 24, 28 or 30 (BSDs). DLT_NULL stores it in the capturing
		// host's byte order, so accept either.
		if len(b) < 4 {
			return nil, false
		}
		family := binary.LittleEndian.Uint32(b[:4])
		if family > 0xffff {
			family = be.Uint32(b[:4])
		}
		switch family {
		case 2:
			etherType = etherIPv4
		case 10, 24, 28, 30:
			etherType = etherIPv6
		}
		b = b[4:]
	default:
		return nil, false
	}
	return b, etherType == etherIPv4 || etherType == etherIPv6
}

// IP protocol numbers.
const (
	protoHopByHop = 0
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
)

// udpOverIP returns the addresses and payload of a UDP datagram in an IPv4 or
// IPv6 packet; ok is false for fragments and anything that is not UDP.
func udpOverIP(b []byte) (src, dst netip.AddrPort, payload []byte, ok bool) {
	be := binary.BigEndian
	var srcIP, dstIP netip.Addr
	var udp []byte
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0x0f) * 4
		total := int(be.Uint16(b[2:4]))
		if ihl < 20 || len(b) < ihl || total < ihl {
			return src, dst, nil, false
		}
		if total <= len(b) {
			b = b[:total] // drop link-layer padding
		}
		if be.Uint16(b[6:8])&0x3fff != 0 || b[9] != protoUDP { // MF flag or offset: a fragment
			return src, dst, nil, false
		}
		srcIP, dstIP = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		udp = b[ihl:]
	case len(b) >= 40 && b[0]>>4 == 6:
		if n := int(be.Uint16(b[4:6])); n != 0 && 40+n <= len(b) {
			b = b[:40+n]
		}
		srcIP, dstIP = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		next, rest := b[6], b[40:]
		for next != protoUDP {
			var n int
			switch next {
			case protoHopByHop, protoRouting, protoDstOpts:
				if len(rest) < 2 {
					return src, dst, nil, false
				}
				n = (int(rest[1]) + 1) * 8
			case protoAH:
				if len(rest) < 2 {
					return src, dst, nil, false
				}
				n = (int(rest[1]) + 2) * 4
			default: // fragment, TCP, ICMPv6, ESP, no next header, ...
				return src, dst, nil, false
			}
			if len(rest) < n {
				return src, dst, nil, false
			}
			next, rest = rest[0], rest[n:]
		}
		udp = rest
	default:
		return src, dst, nil, false
	}
	if len(udp) < 8 {
		return src, dst, nil, false
	}
	payload = udp[8:]
	if n := int(be.Uint16(udp[4:6])); n >= 8 && n <= len(udp) {
		payload = udp[8:n]
	}
	src = netip.AddrPortFrom(srcIP, be.Uint16(udp[0:2]))
	dst = netip.AddrPortFrom(dstIP, be.Uint16(udp[2:4]))
	return src, dst, payload, true
}
