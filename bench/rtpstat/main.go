// Command rtpstat is bench/ivr.sh's RTP tool. It writes the capture SIPp
// replays to press a key (an RFC 4733 event), and it measures what callers
// received from a capture of the RTP Ringdesk sent them (dumpcap -P on the
// loopback interface: on loopback the capture time is the send time).
//
//	rtpstat dtmf -o FILE [-digit 2] [-lead 20ms]
//	rtpstat gaps [-frame 20ms] [-late 30ms] [-prompt MIN-MAX] [-top N] -phase NAME=FROM,TO [-phase ...] FILE.pcap
//
// gaps reads a classic pcap file (either byte order, micro- or nanosecond
// time stamps; link types Ethernet, Linux cooked v1/v2, raw IP, BSD
// loopback) as a stream, so captures of millions of packets need little
// memory. A stream is one UDP source port and destination address and port:
// one Ringdesk RTP session towards one caller. For each phase (a time window
// in Unix seconds) it prints one line of name=value pairs:
//
//	streams, pkts      streams and RTP packets seen in the window
//	expected           packets the callers should have had: per stream and
//	                   run (see switches) the run's length in frames + 1
//	lost               sequence numbers missing within a run (sent, not seen)
//	deficit            frames missing by the clock: a run longer than its
//	                   sequence numbers say (a 20 ms tick skipped, not made up)
//	missing_pct        (lost + deficit) / expected
//	late_pct           packets that came more than -late after the previous
//	                   packet of their stream
//	gap_p50_ms ...     inter-arrival gaps of all streams: median, 99th and
//	                   99.9th percentile, maximum (0.1 ms resolution)
//	jit_avg_ms         RFC 3550 interarrival jitter (§6.4.1, A.8), averaged
//	                   over every packet; jit_p99_ms, jit_max_ms likewise
//	glitch_streams_pct streams with at least one gap over 2 frames (40 ms)
//	switches           packets with the marker bit: Ringdesk starts a new
//	                   run when another producer (a prompt's mixer, the
//	                   shared hold music) takes over the stream, after a
//	                   pause if any; the gap before them is not counted
//	pt_other           packets of payload types other than 0 and 8
//	burst_max_pct      the most streams with a late packet (see -late) within
//	                   one 100 ms slot, % of the streams: near 100 when one
//	                   stall (a shared producer, a GC pause, the machine)
//	                   hit every caller at once, low when late packets are
//	                   scattered; bursts10: slots where over 10 % were late
//	                   (-top N prints the N worst slots: their Unix time)
//	prompt_* music_*   missing_pct (lost + deficit), late_pct, gap_p99_ms and gap_max_ms of
//	                   two kinds of runs: "prompt" runs are complete runs
//	                   (a marked packet at both ends) of -prompt MIN-MAX
//	                   frames (a prompt of known length, played by a mixer,
//	                   with the ticks it skipped); "music" is every other run
//	                   (hold music, and runs cut by the window's ends)
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

func main() {
	os.Exit(run(os.Args[1:])) //nolint:forbidigo // a command (bench/ivr.sh's): its exit status is part of its answer
}

// run runs the command in args and returns the exit status.
func run(args []string) int {
	const usage = "usage: rtpstat dtmf -o FILE [-digit 2] [-lead 20ms]\n" +
		"       rtpstat gaps [-frame 20ms] [-late 30ms] [-prompt MIN-MAX] [-top N] -phase NAME=FROM,TO [-phase ...] FILE.pcap"
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "dtmf":
		err = dtmfCmd(args[1:])
	case "gaps":
		err = gapsCmd(args[1:], os.Stdout)
	default:
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpstat:", err)
		return 1
	}
	return 0
}

// dtmfPT is the telephone-event payload type the bench scenario offers.
const dtmfPT = 101

// dtmfCmd writes a capture for play_pcap_audio: lead of PCMU silence, then
// mediatest.WriteRTPPcap's 100 ms of silence and the event (8 packets and
// 3 end packets), 20 ms apart.
func dtmfCmd(args []string) error {
	fs := flag.NewFlagSet("dtmf", flag.ExitOnError)
	out := fs.String("o", "", "output pcap file")
	digit := fs.String("digit", "2", "the key(s) to press")
	lead := fs.Duration("lead", 20*time.Millisecond, "silence before the first key (beside the 100 ms before each)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("dtmf: -o is required")
	}
	return mediatest.WriteRTPPcap(filepath.Clean(*out), mediatest.Silence(media.SampleRate, *lead), media.PCMU, *digit, dtmfPT)
}

// phase is a time window and its statistics.
type phase struct {
	name     string
	from, to float64 // Unix seconds
	streams  map[streamKey]*stream
	gaps     histogram
	jit      histogram
	pkts     int
	late     int
	switches int
	ptOther  int
	kinds    [2]kindStats  // prompt, music
	slots    map[int64]int // 100 ms slot -> streams with a late packet in it
}

// Kinds of runs.
const (
	kindPrompt = 0
	kindMusic  = 1
)

// kindStats are the statistics of the runs of one kind.
type kindStats struct {
	gaps              histogram
	late              int64
	expected, deficit int64
}

type streamKey struct {
	src     uint16 // UDP source port
	dstAddr [4]byte
	dst     uint16
}

// stream is one RTP stream within a phase.
type stream struct {
	n       int
	started bool
	lastT   float64 // arrival of the last packet, seconds
	lastTS  uint32
	extSeq  int64   // extended sequence number of the last packet
	runT    float64 // arrival of the run's first packet
	runN    int     // packets of the run
	runSeq  int64   // extended sequence number of the run's first packet
	runMark bool    // the run began with a marked packet (not at the window's start)
	runGaps []float32
	// the 100 ms slot (+1) of its last late packet: each stream counts once per slot
	lateSlot int64
	j        float64 // RFC 3550 jitter, seconds
	glitch   bool
	// totals of closed runs
	expected, deficit, lost int64
}

// histogram counts values in 0.1 ms bins up to 2 s; above goes to the last bin.
type histogram struct {
	bins [20001]int64
	n    int64
	max  float64
	sum  float64
}

func (h *histogram) add(ms float64) {
	i := min(int(math.Max(ms, 0)*10+0.5), len(h.bins)-1)
	h.bins[i]++
	h.n++
	h.sum += ms
	h.max = math.Max(h.max, ms)
}

// quantile is the q-quantile in ms (the upper edge of its bin).
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(h.n)))
	var c int64
	for i, b := range h.bins {
		c += b
		if c >= want {
			return float64(i) / 10
		}
	}
	return h.max
}

type phaseFlags []*phase

func (p *phaseFlags) String() string { return fmt.Sprint(len(*p), " phases") }

func (p *phaseFlags) Set(v string) error {
	name, rng, ok := strings.Cut(v, "=")
	from, to, ok2 := strings.Cut(rng, ",")
	if !ok || !ok2 || name == "" {
		return fmt.Errorf("phase %q: want NAME=FROM,TO", v)
	}
	f, err := strconv.ParseFloat(from, 64)
	if err != nil {
		return fmt.Errorf("phase %q: %w", v, err)
	}
	t, err := strconv.ParseFloat(to, 64)
	if err != nil {
		return fmt.Errorf("phase %q: %w", v, err)
	}
	*p = append(*p, &phase{name: name, from: f, to: t, streams: make(map[streamKey]*stream), slots: make(map[int64]int)})
	return nil
}

func gapsCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("gaps", flag.ExitOnError)
	var phases phaseFlags
	fs.Var(&phases, "phase", "NAME=FROM,TO: a window in Unix seconds (repeatable)")
	frame := fs.Duration("frame", media.FrameDuration, "packet interval")
	lateAfter := fs.Duration("late", 30*time.Millisecond, "a packet is late when it comes this long after the previous")
	prompt := fs.String("prompt", "190-200", "MIN-MAX: frames of a complete run that is a prompt")
	top := fs.Int("top", 0, "also print the N 100 ms slots with the most late packets of each phase")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || len(phases) == 0 {
		return errors.New("gaps: one pcap file and at least one -phase")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := newPcapReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	a := analyzer{frame: frame.Seconds(), late: lateAfter.Seconds() * 1000, top: *top}
	if _, err := fmt.Sscanf(*prompt, "%d-%d", &a.promptMin, &a.promptMax); err != nil {
		return fmt.Errorf("gaps: -prompt %q: want MIN-MAX", *prompt)
	}
	for {
		t, data, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		key, rtp, ok := udpOf(r.link, data)
		if !ok || len(rtp) < 12 || rtp[0]>>6 != 2 {
			continue
		}
		for _, p := range phases {
			if t >= p.from && t < p.to {
				a.packet(p, t, key, rtp)
			}
		}
	}
	for _, p := range phases {
		a.report(w, p)
	}
	return nil
}

type analyzer struct {
	frame                float64 // seconds
	late                 float64 // ms
	promptMin, promptMax int64   // frames
	top                  int
}

// packet adds one RTP packet (header at least) arriving at t to p.
func (a *analyzer) packet(p *phase, t float64, key streamKey, b []byte) {
	marker := b[1]&0x80 != 0
	pt := b[1] & 0x7f
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	p.pkts++
	if pt != 0 && pt != 8 {
		p.ptOther++
	}
	s := p.streams[key]
	if s == nil {
		s = &stream{}
		p.streams[key] = s
	}
	if !s.started {
		s.started = true
		s.extSeq = int64(seq)
		s.runT, s.runN, s.runSeq, s.runMark = t, 1, s.extSeq, false
		s.n, s.lastT, s.lastTS = 1, t, ts
		return
	}
	// extend the sequence number (RFC 3550 A.1): the nearest to the last
	d := int64(int16(seq - uint16(s.extSeq))) //nolint:gosec // serial number arithmetic (RFC 1982)
	s.n++
	gapMS := (t - s.lastT) * 1000
	if marker {
		// another producer took over: close the run, do not count the gap
		p.switches++
		a.closeRun(p, s, true)
		s.extSeq += d
		s.runT, s.runN, s.runSeq, s.runMark = t, 1, s.extSeq, true
	} else {
		s.extSeq += d
		s.runN++
		p.gaps.add(gapMS)
		s.runGaps = append(s.runGaps, float32(gapMS))
		if gapMS > a.late {
			p.late++
			if slot := int64(t * 10); slot+1 != s.lateSlot {
				p.slots[slot]++
				s.lateSlot = slot + 1
			}
		}
		if gapMS > 2*a.frame*1000 {
			s.glitch = true
		}
		// RFC 3550 §6.4.1: D = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16
		dts := float64(int32(ts-s.lastTS)) / media.SampleRate //nolint:gosec // wrapping difference
		dd := math.Abs((t - s.lastT) - dts)
		s.j += (dd - s.j) / 16
		p.jit.add(s.j * 1000)
	}
	s.lastT, s.lastTS = t, ts
}

// closeRun adds the run that ends with the last packet (s.lastT, s.extSeq)
// to the stream's totals and to its kind's; marked: the next run begins
// with a marked packet. A run should have one packet per frame of its
// length: those its sequence numbers say were sent and did not come are
// lost, the frames for which none was sent (ticks skipped) the deficit.
func (a *analyzer) closeRun(p *phase, s *stream, marked bool) {
	want := int64(math.Round((s.lastT-s.runT)/a.frame)) + 1
	sent := max(s.extSeq-s.runSeq+1, int64(s.runN)) // duplicates aside
	lost, deficit := sent-int64(s.runN), max(0, want-sent)
	expected := max(want, sent)
	s.expected += expected
	s.deficit += deficit
	s.lost += lost
	k := &p.kinds[kindMusic]
	if s.runMark && marked && want >= a.promptMin && want <= a.promptMax {
		k = &p.kinds[kindPrompt]
	}
	k.expected += expected
	k.deficit += deficit + lost
	for _, g := range s.runGaps {
		k.gaps.add(float64(g))
		if float64(g) > a.late {
			k.late++
		}
	}
	s.runGaps = s.runGaps[:0]
}

func (a *analyzer) report(w io.Writer, p *phase) {
	var expected, deficit, lost int64
	glitches := 0
	keys := make([]streamKey, 0, len(p.streams))
	for k := range p.streams {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].src < keys[j].src })
	for _, k := range keys {
		s := p.streams[k]
		a.closeRun(p, s, false)
		expected += s.expected
		deficit += s.deficit
		lost += s.lost
		if s.glitch {
			glitches++
		}
	}
	pct := func(x, of int64) float64 {
		if of <= 0 {
			return 0
		}
		return 100 * float64(x) / float64(of)
	}
	jitAvg := 0.0
	if p.jit.n > 0 {
		jitAvg = p.jit.sum / float64(p.jit.n)
	}
	burstMax, bursts := 0, 0
	for _, n := range p.slots {
		burstMax = max(burstMax, n)
		if n*10 > len(p.streams) {
			bursts++
		}
	}
	var kinds strings.Builder
	for i, name := range []string{"prompt", "music"} {
		k := &p.kinds[i]
		fmt.Fprintf(&kinds, " %[1]s_runs_pkts=%[2]d %[1]s_missing_pct=%.4[3]f %[1]s_late_pct=%.4[4]f %[1]s_gap_p99_ms=%.1[5]f %[1]s_gap_max_ms=%.1[6]f",
			name, k.expected, pct(k.deficit, k.expected), pct(k.late, k.gaps.n), k.gaps.quantile(0.99), k.gaps.max)
	}
	fmt.Fprintf(w, "phase=%s from=%.3f to=%.3f streams=%d pkts=%d expected=%d lost=%d deficit=%d missing_pct=%.4f late_pct=%.4f "+
		"gap_p50_ms=%.1f gap_p99_ms=%.1f gap_p999_ms=%.1f gap_max_ms=%.1f jit_avg_ms=%.2f jit_p99_ms=%.1f jit_max_ms=%.1f "+
		"glitch_streams_pct=%.2f switches=%d pt_other=%d burst_max_pct=%.1f bursts10=%d%s\n",
		p.name, p.from, p.to, len(p.streams), p.pkts, expected, lost, deficit, pct(lost+deficit, expected), pct(int64(p.late), int64(p.gaps.n)),
		p.gaps.quantile(0.5), p.gaps.quantile(0.99), p.gaps.quantile(0.999), p.gaps.max, jitAvg, p.jit.quantile(0.99), p.jit.max,
		pct(int64(glitches), int64(len(p.streams))), p.switches, p.ptOther, pct(int64(burstMax), int64(len(p.streams))), bursts, kinds.String())
	if a.top > 0 {
		slots := make([]int64, 0, len(p.slots))
		for t := range p.slots {
			slots = append(slots, t)
		}
		sort.Slice(slots, func(i, j int) bool { return p.slots[slots[i]] > p.slots[slots[j]] })
		for _, t := range slots[:min(a.top, len(slots))] {
			fmt.Fprintf(w, "slot phase=%s at=%.1f late_streams=%d\n", p.name, float64(t)/10, p.slots[t])
		}
	}
}

// pcapReader reads a classic pcap file record by record.
type pcapReader struct {
	r    io.Reader
	bo   binary.ByteOrder
	nano bool
	link uint32
	hdr  [16]byte
	buf  []byte
}

const maxRecord = 256 << 10

func newPcapReader(r io.Reader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	p := &pcapReader{r: r}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == 0xa1b2c3d4:
		p.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(h[:]) == 0xa1b2c3d4:
		p.bo = binary.BigEndian
	case binary.LittleEndian.Uint32(h[:]) == 0xa1b23c4d:
		p.bo, p.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:]) == 0xa1b23c4d:
		p.bo, p.nano = binary.BigEndian, true
	default:
		return nil, errors.New("not a classic pcap file (write it with dumpcap -P)")
	}
	p.link = p.bo.Uint32(h[20:]) & 0x0fffffff
	return p, nil
}

// next returns the next record's time (Unix seconds) and captured bytes,
// valid until the following call.
func (p *pcapReader) next() (float64, []byte, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, io.EOF // a capture cut short by its writer's end
		}
		return 0, nil, err
	}
	sec, frac := p.bo.Uint32(p.hdr[0:]), p.bo.Uint32(p.hdr[4:])
	n := p.bo.Uint32(p.hdr[8:])
	if n > maxRecord {
		return 0, nil, fmt.Errorf("record of %d bytes", n)
	}
	if cap(p.buf) < int(n) {
		p.buf = make([]byte, n)
	}
	b := p.buf[:n]
	if _, err := io.ReadFull(p.r, b); err != nil {
		return 0, nil, io.EOF
	}
	t := float64(sec)
	if p.nano {
		t += float64(frac) / 1e9
	} else {
		t += float64(frac) / 1e6
	}
	return t, b, nil
}

// udpOf finds the IPv4 UDP datagram in a captured frame.
func udpOf(link uint32, b []byte) (streamKey, []byte, bool) {
	var ip []byte
	switch link {
	case 1: // Ethernet
		if len(b) < 14 || binary.BigEndian.Uint16(b[12:]) != 0x0800 {
			return streamKey{}, nil, false
		}
		ip = b[14:]
	case 113: // Linux cooked v1
		if len(b) < 16 || binary.BigEndian.Uint16(b[14:]) != 0x0800 {
			return streamKey{}, nil, false
		}
		ip = b[16:]
	case 276: // Linux cooked v2
		if len(b) < 20 || binary.BigEndian.Uint16(b[0:]) != 0x0800 {
			return streamKey{}, nil, false
		}
		ip = b[20:]
	case 0, 108: // BSD loopback
		if len(b) < 4 {
			return streamKey{}, nil, false
		}
		ip = b[4:]
	case 101, 228: // raw IP
		ip = b
	default:
		return streamKey{}, nil, false
	}
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
		return streamKey{}, nil, false
	}
	ihl := int(ip[0]&0x0f) * 4
	if len(ip) < ihl+8 {
		return streamKey{}, nil, false
	}
	u := ip[ihl:]
	k := streamKey{src: binary.BigEndian.Uint16(u[0:]), dst: binary.BigEndian.Uint16(u[2:])}
	copy(k.dstAddr[:], ip[16:20])
	return k, u[8:], true
}
