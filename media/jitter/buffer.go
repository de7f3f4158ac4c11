package jitter

import (
	"math/bits"
	"sync"
	"time"
)

const (
	// concealFrames is how many frames loss concealment lasts, fading from
	// full level to nothing; silence follows.
	concealFrames = 3
	// seqWindow is how many recent sequence numbers are remembered to
	// recognise duplicates (a power of two, multiple of 64).
	seqWindow = 512
	// maxDropout is the largest forward jump of sequence numbers taken as
	// loss rather than a new numbering (RFC 3550 §A.1).
	maxDropout = 3000
	// lateResync is how many packets in a row behind what was played, late
	// or repeated, show a sender that went back in time.
	lateResync = 4
	// quietLevel is the mean absolute sample value (about -36 dBFS) below
	// which a frame may be merged or stretched without waiting.
	quietLevel = 512
	// windowDuration is the adaptation window: the buffer decides whether
	// to grow or shrink by a frame at most once per window.
	windowDuration = 500 * time.Millisecond
)

// Stats are a Buffer's counters and current state. Every Push is counted in
// exactly one of Accepted, Duplicates, Late and Invalid; every frame Pop
// fills in exactly one of Played, Concealed and Silent.
type Stats struct {
	// Pushed counts Push calls.
	Pushed uint64
	// Accepted counts packets stored, at least in part.
	Accepted uint64
	// Duplicates counts packets whose sequence number, or every sample,
	// had been received already.
	Duplicates uint64
	// Late counts packets dropped because they came after all their
	// samples had been played or concealed, or from the SSRC just
	// replaced.
	Late uint64
	// Invalid counts empty packets and packets longer than MaxDelay.
	Invalid uint64
	// Resyncs counts re-synchronisations: a new SSRC, or timestamps that
	// jumped (more than the ring holds ahead, or backwards).
	Resyncs uint64
	// Overflows counts the times more than MaxDelay was buffered and the
	// oldest audio was dropped down to the target delay.
	Overflows uint64
	// Discarded counts received samples thrown away unplayed, by
	// overflows and re-syncs.
	Discarded uint64

	// Popped counts the frames returned: Played + Concealed + Silent.
	Popped uint64
	// Played counts StatusAudio frames.
	Played uint64
	// Concealed counts StatusConcealed frames.
	Concealed uint64
	// Silent counts StatusSilence frames.
	Silent uint64
	// Underruns counts the times the buffer ran dry while playing.
	Underruns uint64
	// Stretched counts frames inserted to lengthen the delay (they are
	// also in Concealed).
	Stretched uint64
	// Compressed counts pairs of frames merged into one to shorten the
	// delay (also in Played).
	Compressed uint64

	// Delay is the audio buffered now, from the next sample due to the
	// newest received, gaps included.
	Delay time.Duration
	// Target is the playout delay the buffer steers towards.
	Target time.Duration
	// Jitter is the RFC 3550 §6.4.1 interarrival jitter estimate.
	Jitter time.Duration
}

// Buffer is the jitter buffer of one audio input: the RTP reader pushes
// decoded packets, the mixer pops one frame per tick. Push and Pop may be
// called from different goroutines; neither allocates. See the package
// documentation for the algorithm.
type Buffer struct {
	// fixed by New
	rate     int
	frame    int // samples per Pop
	minDelay int // in samples, as every length below
	maxDelay int
	size     int // ring length: a power of two, at least 4 × maxDelay
	mask     uint32
	window   int           // pops per adaptation window (windowDuration)
	guard    time.Duration // how long the previous SSRC is ignored (2 × MaxDelay)
	xfade    int           // samples of the cross-fade from concealment into audio

	mu      sync.Mutex
	ring    []int16  // samples, at timestamp & mask
	have    []uint64 // which ring slots hold received audio
	hist    []int16  // the last frame of audio played, for concealment
	scratch []int16

	// The timeline, in RTP timestamp units (samples), wrapping as RTP
	// does: head is the next sample due, tail is one past the newest
	// sample received. Only slots in [head, tail) may be marked in have.
	synced bool   // a source is known
	ssrc   uint32 // its SSRC
	// the SSRC before, and when it was replaced: its stragglers are late
	prevSSRC uint32
	hasPrev  bool
	switched time.Time
	priming  bool // filling up to the target delay before playing
	settled  bool // audio was played since the sync: head never moves back
	head     uint32
	tail     uint32
	packet   int // samples in the last packet stored
	target   int // target delay
	holds    int // consecutive frames waited for a missing packet

	maxSeq   uint16                 // highest sequence number seen
	badSeq   uint16                 // the number after a jump, to confirm it (RFC 3550 §A.1)
	seen     [seqWindow / 64]uint64 // sequence numbers seen, up to maxSeq
	staleRun int                    // consecutive packets behind head

	est estimator

	haveHist  bool // hist holds audio
	concealed int  // consecutive frames concealed so far
	fadeIn    bool // concealment played: cross-fade into the next audio

	winPops, winMax int  // this adaptation window: pops, highest level
	grow, shrink    bool // a frame is to be inserted or removed
	pending         int  // pops since grow or shrink was decided

	st Stats
}

// New returns an empty buffer for cfg, or the error of cfg.Validate.
// Everything it needs is allocated here.
func New(cfg Config) (*Buffer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	maxDelay := int(toSamples(cfg.MaxDelay, cfg.ClockRate))
	size := 64
	for size < 4*maxDelay {
		size <<= 1
	}
	b := &Buffer{
		rate:     cfg.ClockRate,
		frame:    cfg.FrameSamples,
		minDelay: int(toSamples(cfg.MinDelay, cfg.ClockRate)),
		maxDelay: maxDelay,
		size:     size,
		mask:     uint32(size - 1),
		window:   max(1, int(toSamples(windowDuration, cfg.ClockRate))/cfg.FrameSamples),
		xfade:    max(1, cfg.FrameSamples/4),
		guard:    2 * cfg.MaxDelay,
		ring:     make([]int16, size),
		have:     make([]uint64, size/64),
		hist:     make([]int16, cfg.FrameSamples),
		scratch:  make([]int16, cfg.FrameSamples),
	}
	b.est = estimator{
		rate:      cfg.ClockRate,
		bucketLen: toSamples(bucketDuration, cfg.ClockRate),
		gap:       max(2*int64(maxDelay), int64(cfg.ClockRate/2)),
		ceiling:   int64(maxDelay),
	}
	b.reset()
	return b, nil
}

// FrameSamples is the number of samples each Pop fills.
func (b *Buffer) FrameSamples() int { return b.frame }

// Reset empties the buffer and zeroes its statistics, as if new.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reset()
}

func (b *Buffer) reset() {
	clear(b.have)
	clear(b.hist)
	b.synced, b.ssrc, b.priming, b.settled = false, 0, false, false
	b.prevSSRC, b.hasPrev, b.switched = 0, false, time.Time{}
	b.head, b.tail, b.packet, b.holds = 0, 0, 0, 0
	b.target = b.minDelay
	b.maxSeq, b.badSeq, b.seen, b.staleRun = 0, 0, [seqWindow / 64]uint64{}, 0
	b.est.reset()
	b.haveHist, b.concealed, b.fadeIn = false, 0, false
	b.grow, b.shrink, b.pending = false, false, 0
	b.resetWindow()
	b.st = Stats{}
}

// Stats returns the counters and the current delays.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.st
	st.Delay = toDuration(int64(b.level()), b.rate)
	st.Target = toDuration(int64(b.target), b.rate)
	st.Jitter = toDuration(b.est.jitter>>4, b.rate)
	return st
}

// Push stores one received packet: its RTP sequence number, timestamp and
// SSRC, its decoded samples (any number, one per timestamp unit) and when
// it arrived. pcm is copied; the caller may reuse it. Push holds the
// buffer's lock for about a copy of the packet.
//
// Samples are placed by timestamp, so reordered packets fall into place
// until their time to play has passed; later they count as Late. Repeated
// sequence numbers, or samples already held, count as Duplicates. A new
// SSRC, a timestamp more than the ring holds ahead, or one behind what was
// played that is not an ordinary late packet re-synchronises: the buffer
// is emptied and fills up again from this packet (RFC 3550 §8.2: a sender
// that restarts picks a new SSRC). Packets of the SSRC just replaced that
// arrive within twice MaxDelay of the switch are late.
func (b *Buffer) Push(seq uint16, ts, ssrc uint32, pcm []int16, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Pushed++
	n := len(pcm)
	if n == 0 || n > b.maxDelay {
		b.st.Invalid++
		return
	}
	if b.synced && ssrc != b.ssrc {
		if b.hasPrev && ssrc == b.prevSSRC && now.Sub(b.switched) < b.guard {
			// A straggler of the source just replaced: too late.
			b.st.Late++
			return
		}
		b.prevSSRC, b.hasPrev, b.switched = b.ssrc, true, now
	}
	if !b.synced || ssrc != b.ssrc {
		b.resync(ssrc, seq, ts, true)
	}
	off := int64(int32(ts - b.head)) //nolint:gosec // serial number arithmetic (RFC 1982)
	end := off + int64(n)
	switch {
	case end > int64(b.size):
		// Further ahead than the ring reaches: the timestamps jumped.
		b.resync(ssrc, seq, ts, false)
		off = 0
	case off < 0 && b.priming && !b.settled && int64(int32(b.tail-ts)) <= int64(b.size/2): //nolint:gosec // serial number arithmetic
		// Reordered ahead of the first packet, and nothing played yet.
		b.head = ts
		off = 0
	case end <= 0:
		// Every sample is behind head: a late packet or a duplicate. But
		// one newer by sequence number, or a run of them, means the
		// sender went back in time.
		if off < -int64(b.size) || (end <= -int64(b.frame) && b.seqNewer(seq)) || b.staleRun >= lateResync {
			b.resync(ssrc, seq, ts, false)
			off = 0
			break
		}
		b.staleRun++
		if b.seqSeen(seq) {
			b.st.Duplicates++
			return
		}
		b.st.Late++
		b.markSeen(seq)
		b.est.update(ts, now)
		b.retarget()
		return
	}
	if b.seqSeen(seq) {
		b.st.Duplicates++
		return
	}
	skip := max(-off, 0)                           // samples behind head: already played
	if b.store(ts+uint32(skip), pcm[skip:]) == 0 { //nolint:gosec // 0 <= skip < n
		// Every sample already here, under another sequence number.
		b.st.Duplicates++
		b.markSeen(seq)
		return
	}
	b.st.Accepted++
	b.markSeen(seq)
	b.staleRun = 0
	if e := ts + uint32(n); int32(e-b.tail) > 0 { //nolint:gosec // serial number arithmetic
		b.tail = e
	}
	b.packet = n
	b.est.update(ts, now)
	b.retarget()
	if lvl := b.level(); lvl > b.maxDelay+max(b.packet, b.frame)+b.frame {
		// More than MaxDelay buffered: the sender's clock runs faster
		// than ours, or a burst arrived. Keep the newest audio.
		if n := b.advance(lvl - b.target); n > 0 {
			b.st.Overflows++
			b.st.Discarded += uint64(n) //nolint:gosec // a count
		}
		b.settled = true
	}
}

// Pop fills dst[:FrameSamples] with the next frame and says what it holds.
// A dst shorter than one frame is zeroed and nothing is consumed
// (StatusUnknown); samples beyond the frame are left alone. Pop holds the
// buffer's lock for about two frames' worth of copying at most.
func (b *Buffer) Pop(dst []int16) Status {
	if len(dst) < b.frame {
		clear(dst)
		return StatusUnknown
	}
	out := dst[:b.frame]
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.pop(out)
	b.st.Popped++
	switch s {
	case StatusAudio:
		b.st.Played++
	case StatusConcealed:
		b.st.Concealed++
	default:
		b.st.Silent++
	}
	return s
}

func (b *Buffer) pop(out []int16) Status {
	if !b.synced {
		return b.conceal(out)
	}
	lvl := b.level()
	if b.priming {
		if lvl < b.target {
			return b.conceal(out)
		}
		b.priming = false
		b.resetWindow()
	}
	f := b.frame
	if lvl < f {
		// Ran dry: nothing, or not a whole frame, is buffered. The input
		// stopped (hold, DTX) or packets are late. Wait until the target
		// delay is buffered again.
		b.st.Underruns++
		b.priming = true
		b.grow, b.shrink = false, false
		return b.conceal(out)
	}
	present := b.countAt(b.head, f)
	if present == 0 {
		if lvl < b.target && b.holds < concealFrames {
			// Audio follows a gap shorter than the target delay: the
			// missing packet may still come. Waiting lengthens the delay.
			b.holds++
			return b.conceal(out)
		}
		// The gap is older than the target delay: lost. Conceal a frame of
		// it while concealment lasts, and skip the rest of it as far as
		// the target delay allows: it would only add delay. The window
		// sees the level without the gap skipped.
		if b.canConceal() {
			b.advance(f)
			b.skipGap(b.target - f)
			b.note(b.level() + f)
			return b.conceal(out)
		}
		b.skipGap(b.target)
		lvl = b.level()
		if present = b.countAt(b.head, f); present == 0 {
			b.advance(f)
			b.note(lvl)
			clear(out)
			return StatusSilence
		}
	}
	b.note(lvl)
	if present < f {
		return b.playPartial(out)
	}
	if !b.fadeIn {
		if b.shrink && b.merge(out) {
			return StatusAudio
		}
		if b.grow && b.stretch(out) {
			return StatusConcealed
		}
	}
	i0, n0, n1 := b.split(b.head, f)
	copy(out, b.ring[i0:i0+n0])
	copy(out[n0:], b.ring[:n1])
	if b.fadeIn {
		b.concealFrame(b.scratch, b.concealed)
		for i := range b.xfade {
			out[i] = mix(b.scratch[i], out[i], b.xfade-i, i, b.xfade)
		}
	}
	b.advance(f)
	b.played(out)
	return StatusAudio
}

// skipGap drops missing samples at head while more than keep is buffered.
func (b *Buffer) skipGap(keep int) {
	if lvl := b.level(); lvl > keep {
		b.advance(min(b.firstPresent(lvl), lvl-keep))
	}
}

// playPartial plays a frame that is partly missing; concealment fills the
// gaps.
func (b *Buffer) playPartial(out []int16) Status {
	b.concealFrame(b.scratch, b.concealed)
	for i := range out {
		k := int((b.head + uint32(i)) & b.mask) //nolint:gosec // i < frame
		if b.bit(k) {
			out[i] = b.ring[k]
		} else {
			out[i] = b.scratch[i]
		}
	}
	b.advance(b.frame)
	b.played(out)
	return StatusAudio
}

// merge plays the next two frames as one, cross-fading the first into the
// second, to shorten the delay by a frame. It waits, up to half a window,
// for two quiet frames.
func (b *Buffer) merge(out []int16) bool {
	f := b.frame
	second := b.head + uint32(f) //nolint:gosec // frame < 2^31
	b.pending++
	if b.countAt(second, f) < f {
		return false
	}
	if b.pending <= b.window/2 && (!b.quiet(b.head) || !b.quiet(second)) {
		return false
	}
	for i := range out {
		u := uint32(i) //nolint:gosec // i < frame
		out[i] = mix(b.ring[(b.head+u)&b.mask], b.ring[(second+u)&b.mask], f-i, i, f)
	}
	b.advance(2 * f)
	b.played(out)
	b.shrink = false
	b.st.Compressed++
	b.resetWindow()
	return true
}

// stretch inserts a frame before the next one, to lengthen the delay: it
// starts as the next frame and fades into the last one played, whose end
// the next frame continues, so neither joint clicks. It waits, up to half a
// window, for a quiet frame.
func (b *Buffer) stretch(out []int16) bool {
	f := b.frame
	b.pending++
	if !b.haveHist {
		b.grow = false
		return false
	}
	if b.pending <= b.window/2 && !b.quiet(b.head) {
		return false
	}
	for i := range out {
		out[i] = mix(b.ring[(b.head+uint32(i))&b.mask], b.hist[i], f-i, i, f) //nolint:gosec // i < frame
	}
	b.grow = false
	b.st.Stretched++
	b.resetWindow()
	return true
}

// conceal fills out when there is no audio to play: the last audio,
// continued and fading out over concealFrames frames, then silence.
func (b *Buffer) conceal(out []int16) Status {
	if !b.haveHist || b.concealed >= concealFrames {
		clear(out)
		return StatusSilence
	}
	b.concealFrame(out, b.concealed)
	b.concealed++
	b.fadeIn = true
	return StatusConcealed
}

func (b *Buffer) canConceal() bool { return b.haveHist && b.concealed < concealFrames }

// concealFrame writes concealment frame k (from 0) into dst: the last audio
// frame played alternately backwards and forwards, so every joint is
// continuous, with a gain falling linearly from (3-k)/3 to (2-k)/3. Past
// the last concealment frame, or without audio, it is silence.
func (b *Buffer) concealFrame(dst []int16, k int) {
	if !b.haveHist || k >= concealFrames {
		clear(dst)
		return
	}
	f := len(dst)
	den := concealFrames * f
	start := (concealFrames - k) * f
	for i := range dst {
		src := b.hist[i]
		if k%2 == 0 {
			src = b.hist[f-1-i]
		}
		dst[i] = mix(src, 0, start-i, 0, den)
	}
}

// played records out as the last audio played.
func (b *Buffer) played(out []int16) {
	copy(b.hist, out)
	b.haveHist = true
	b.concealed = 0
	b.fadeIn = false
	b.settled = true
}

// note feeds the level before a pop into the adaptation window (which
// restarts when the buffer starts playing); at the end of a window it
// decides whether to grow or shrink.
//
// The highest level in a window is what the earliest packets leave
// buffered; just enough delay makes it the target. The buffer grows by a
// frame when it is half a frame short or more, and shrinks by one when it
// has more than a packet and a half frame extra: a whole packet arrives at
// once, so being up to a packet over the target is only the packet size
// showing (and filling up to the target overshoots by that much).
func (b *Buffer) note(lvl int) {
	b.winMax = max(b.winMax, lvl)
	b.winPops++
	if b.winPops < b.window {
		return
	}
	excess := b.winMax - b.target
	b.shrink = 2*excess > 2*max(b.packet, b.frame)+b.frame
	b.grow = 2*excess <= -b.frame
	b.pending = 0
	b.resetWindow()
}

func (b *Buffer) resetWindow() {
	b.winPops, b.winMax = 0, 0
}

// retarget sets the target delay from the estimator: a packet's length
// plus the peak lateness, within MinDelay and MaxDelay.
func (b *Buffer) retarget() {
	t := int64(max(b.packet, b.frame)) + b.est.peak
	b.target = int(min(max(t, int64(b.minDelay)), int64(b.maxDelay)))
}

// resync forgets the buffered audio and starts again from a packet at ts.
// A new source also starts the delay estimate afresh.
func (b *Buffer) resync(ssrc uint32, seq uint16, ts uint32, newSource bool) {
	if b.synced {
		b.st.Resyncs++
		b.st.Discarded += uint64(b.advance(b.level())) //nolint:gosec // a count
	}
	b.synced, b.priming, b.settled = true, true, false
	b.ssrc = ssrc
	b.head, b.tail, b.holds = ts, ts, 0
	b.maxSeq, b.badSeq, b.seen, b.staleRun = seq, seq, [seqWindow / 64]uint64{}, 0
	b.grow, b.shrink = false, false
	b.resetWindow()
	b.est.rebase()
	if newSource {
		b.est.reset()
		b.packet = 0
		b.target = b.minDelay
	}
}

// level is how much is buffered from head to tail, gaps included.
func (b *Buffer) level() int {
	if d := int32(b.tail - b.head); d > 0 { //nolint:gosec // serial number arithmetic
		return int(d)
	}
	return 0
}

// advance moves head on by n samples, forgetting them, and returns how
// many of them had been received.
func (b *Buffer) advance(n int) int {
	if n <= 0 {
		return 0
	}
	i0, n0, n1 := b.split(b.head, min(n, b.size))
	c := b.clearBits(i0, i0+n0) + b.clearBits(0, n1)
	b.head += uint32(n)           //nolint:gosec // n <= size
	if int32(b.tail-b.head) < 0 { //nolint:gosec // serial number arithmetic
		b.tail = b.head
	}
	b.holds = 0
	return c
}

// store copies pcm to the ring at timestamp from, keeping samples already
// there, and returns how many it stored.
func (b *Buffer) store(from uint32, pcm []int16) int {
	i0, n0, _ := b.split(from, len(pcm))
	return b.storeAt(i0, pcm[:n0]) + b.storeAt(0, pcm[n0:])
}

func (b *Buffer) storeAt(i int, pcm []int16) int {
	n := len(pcm)
	switch b.countBits(i, i+n) {
	case 0:
		copy(b.ring[i:], pcm)
		b.setBits(i, i+n)
		return n
	case n:
		return 0
	}
	stored := 0
	for j, v := range pcm {
		if k := i + j; !b.bit(k) {
			b.ring[k] = v
			b.have[k>>6] |= 1 << (k & 63)
			stored++
		}
	}
	return stored
}

// quiet reports whether the frame at timestamp at is below quietLevel.
func (b *Buffer) quiet(at uint32) bool {
	sum := 0
	for i := range b.frame {
		v := int(b.ring[(at+uint32(i))&b.mask]) //nolint:gosec // i < frame
		if v < 0 {
			v = -v
		}
		sum += v
	}
	return sum <= quietLevel*b.frame
}

// firstPresent is the offset from head of the first received sample within
// n samples, or n.
func (b *Buffer) firstPresent(n int) int {
	i0, n0, n1 := b.split(b.head, n)
	if j := b.firstBit(i0, i0+n0); j < i0+n0 {
		return j - i0
	}
	return n0 + b.firstBit(0, n1)
}

// split maps n samples from timestamp from onto the ring: [i0, i0+n0) and,
// when they wrap, [0, n1).
func (b *Buffer) split(from uint32, n int) (i0, n0, n1 int) {
	i0 = int(from & b.mask)
	n0 = min(n, b.size-i0)
	return i0, n0, n - n0
}

// countAt counts the received samples among n from timestamp from.
func (b *Buffer) countAt(from uint32, n int) int {
	i0, n0, n1 := b.split(from, n)
	return b.countBits(i0, i0+n0) + b.countBits(0, n1)
}

func (b *Buffer) bit(k int) bool { return b.have[k>>6]&(1<<(k&63)) != 0 }

// wordMask selects bits [o, o+l) of a word, 0 <= o < 64, 0 < l <= 64-o.
func wordMask(o, l int) uint64 { return ^uint64(0) >> (64 - l) << o }

func (b *Buffer) countBits(lo, hi int) int {
	c := 0
	for lo < hi {
		o := lo & 63
		l := min(64-o, hi-lo)
		c += bits.OnesCount64(b.have[lo>>6] & wordMask(o, l))
		lo += l
	}
	return c
}

func (b *Buffer) setBits(lo, hi int) {
	for lo < hi {
		o := lo & 63
		l := min(64-o, hi-lo)
		b.have[lo>>6] |= wordMask(o, l)
		lo += l
	}
}

// clearBits clears [lo, hi) and returns how many were set.
func (b *Buffer) clearBits(lo, hi int) int {
	c := 0
	for lo < hi {
		o := lo & 63
		l := min(64-o, hi-lo)
		m := wordMask(o, l)
		c += bits.OnesCount64(b.have[lo>>6] & m)
		b.have[lo>>6] &^= m
		lo += l
	}
	return c
}

// firstBit returns the first set bit in [lo, hi), or hi.
func (b *Buffer) firstBit(lo, hi int) int {
	for lo < hi {
		o := lo & 63
		l := min(64-o, hi-lo)
		if x := b.have[lo>>6] & wordMask(o, l); x != 0 {
			return lo - o + bits.TrailingZeros64(x)
		}
		lo += l
	}
	return hi
}

// seqSeen reports whether seq was received recently: RFC 3550 §A.1 keeps
// the highest sequence number, this also remembers the seqWindow below it.
func (b *Buffer) seqSeen(seq uint16) bool {
	if d := b.maxSeq - seq; d >= seqWindow {
		return false // newer than the highest, or too old to tell
	}
	i := int(seq) & (seqWindow - 1)
	return b.seen[i>>6]&(1<<(i&63)) != 0
}

// seqNewer reports whether seq is ahead of the highest sequence number by
// an ordinary gap.
func (b *Buffer) seqNewer(seq uint16) bool {
	d := seq - b.maxSeq
	return d != 0 && d < maxDropout
}

// markSeen records seq as received. As in RFC 3550 §A.1, a jump of
// maxDropout or more is believed only when the next packet follows it;
// until then the packet is not remembered.
func (b *Buffer) markSeen(seq uint16) {
	switch d := seq - b.maxSeq; {
	case d == 0 || b.maxSeq-seq < seqWindow: // the highest, or a recent older one
	case d < maxDropout:
		if d >= seqWindow {
			b.seen = [seqWindow / 64]uint64{}
		} else {
			for s := b.maxSeq + 1; s != seq; s++ {
				i := int(s) & (seqWindow - 1)
				b.seen[i>>6] &^= 1 << (i & 63)
			}
		}
		b.maxSeq = seq
	case b.badSeq == seq:
		// Two in a row after a jump: the sender's numbering moved.
		b.seen = [seqWindow / 64]uint64{}
		b.maxSeq = seq
	default:
		b.badSeq = seq + 1
		return
	}
	i := int(seq) & (seqWindow - 1)
	b.seen[i>>6] |= 1 << (i & 63)
}

// mix returns (a×wa + b×wb) / n, for wa + wb <= n.
func mix(a, b int16, wa, wb, n int) int16 {
	return int16((int64(a)*int64(wa) + int64(b)*int64(wb)) / int64(n)) //nolint:gosec // |result| <= max(|a|, |b|)
}
