package jitter

import (
	"slices"
	"testing"
	"time"
)

// Test streams are simulated: packets carry src, a deterministic noise keyed
// by RTP timestamp, and run drives Push and Pop on a simulated clock.

// t0 is the simulated clock's origin.
var t0 = time.Unix(1_700_000_000, 0)

// src is the test signal: noise of about -16 dBFS, a function of the RTP
// timestamp, so any frame can be checked against the stream.
func src(ts uint32) int16 {
	x := ts*2654435761 + 0x9e3779b9
	x ^= x >> 15
	x *= 2246822519
	x ^= x >> 13
	return int16(int32(x>>16) % 8000)
}

func fill(dst []int16, ts uint32) []int16 {
	for i := range dst {
		dst[i] = src(ts + uint32(i))
	}
	return dst
}

// packet is one RTP packet of a simulated stream and when it arrives.
type packet struct {
	seq  uint16
	ts   uint32
	ssrc uint32
	n    int           // samples
	at   time.Duration // arrival, after t0
}

// stream returns count packets of n samples each from seq0 and ts0, sent
// as the sender's clock at rate dictates, from start on. speed scales the
// send times: 1.01 is a sender whose clock runs 1% slow against ours.
func stream(count, n, rate int, seq0 uint16, ts0, ssrc uint32, start time.Duration, speed float64) []packet {
	ps := make([]packet, count)
	for i := range ps {
		send := time.Duration(float64(time.Duration(i*n)*time.Second/time.Duration(rate)) * speed)
		ps[i] = packet{seq: seq0 + uint16(i), ts: ts0 + uint32(i*n), ssrc: ssrc, n: n, at: start + send}
	}
	return ps
}

// frame is what one Pop returned, and the buffer's state after it.
type frame struct {
	at     time.Duration
	status Status
	pcm    []int16
	st     Stats
}

// run pushes the packets at their arrival times (in any order given) and
// pops a frame every frame duration from phase until end; pushes due at a
// pop's time come first. It checks the buffer's invariants as it goes.
func run(tb testing.TB, b *Buffer, ps []packet, phase, end time.Duration) []frame {
	tb.Helper()
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(x, y packet) int { return int(x.at - y.at) })
	tick := toDuration(int64(b.frame), b.rate)
	var out []frame
	buf := make([]int16, b.maxDelay)
	i := 0
	for at := phase; at < end; at += tick {
		for ; i < len(ps) && ps[i].at <= at; i++ {
			p := ps[i]
			b.Push(p.seq, p.ts, p.ssrc, fill(buf[:p.n], p.ts), t0.Add(p.at))
		}
		pcm := make([]int16, b.frame)
		s := b.Pop(pcm)
		out = append(out, frame{at: at, status: s, pcm: pcm, st: b.Stats()})
		if len(out)%64 == 0 {
			checkInvariants(tb, b)
		}
	}
	checkInvariants(tb, b)
	return out
}

// checkInvariants checks the state that Stats does not show.
func checkInvariants(tb testing.TB, b *Buffer) {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	lvl := b.level()
	if lvl > b.size {
		tb.Fatalf("level %d beyond the ring of %d", lvl, b.size)
	}
	if all, in := b.countBits(0, b.size), b.countAt(b.head, min(lvl, b.size)); all != in {
		tb.Fatalf("%d samples marked, %d of them in [head, tail)", all, in)
	}
	if b.target < b.minDelay || b.target > b.maxDelay {
		tb.Fatalf("target %d outside %d-%d", b.target, b.minDelay, b.maxDelay)
	}
	st := b.st
	if st.Pushed != st.Accepted+st.Duplicates+st.Late+st.Invalid {
		tb.Fatalf("pushed %d != accepted+duplicates+late+invalid: %+v", st.Pushed, st)
	}
	if st.Popped != st.Played+st.Concealed+st.Silent {
		tb.Fatalf("popped %d != played+concealed+silent: %+v", st.Popped, st)
	}
	if st.Stretched > st.Concealed || st.Compressed > st.Played {
		tb.Fatalf("stretched or compressed out of bounds: %+v", st)
	}
}

// equalFrom reports whether pcm[from:] is the stream from ts+from on.
func equalFrom(pcm []int16, ts uint32, from int) bool {
	for i := from; i < len(pcm); i++ {
		if pcm[i] != src(ts+uint32(i)) {
			return false
		}
	}
	return true
}

// skipAfter is how many leading samples of an audio frame after concealment
// or silence may be cross-faded rather than exact.
func skipAfter(b *Buffer, fs []frame, i int) int {
	if i > 0 && fs[i-1].status != StatusAudio {
		return b.xfade
	}
	return 0
}

// checkSync checks that frames play the stream in lockstep: the first
// audio frame is at ts0 and frame i is ts0 + (i-first) frames. It returns
// the index of the first audio frame. Frames from stop on are not checked.
func checkSync(tb testing.TB, b *Buffer, fs []frame, ts0 uint32, stop int) int {
	tb.Helper()
	first := slices.IndexFunc(fs, func(f frame) bool { return f.status == StatusAudio })
	if first < 0 {
		tb.Fatal("no audio")
	}
	for i := first; i < min(stop, len(fs)); i++ {
		f := fs[i]
		ts := ts0 + uint32((i-first)*b.frame)
		if f.status == StatusAudio && !equalFrom(f.pcm, ts, skipAfter(b, fs, i)) {
			tb.Fatalf("frame %d (%v) is not ts %d", i, f.at, ts)
		}
	}
	return first
}

// checkOrder checks that every audio frame is the stream in order, without
// assuming a fixed delay: each audio frame is exactly the stream at a
// timestamp after the previous one's, within maxGap frames, except merged
// frames (at most Compressed). It returns the frame positions played, in
// frames after ts0.
func checkOrder(tb testing.TB, b *Buffer, fs []frame, ts0 uint32, maxGap int) []int {
	tb.Helper()
	var played []int
	pos, first, unmatched := -1, -1, 0
	for i, f := range fs {
		if f.status != StatusAudio {
			continue
		}
		if first < 0 {
			first = i
		}
		skip := skipAfter(b, fs, i)
		found := false
		for j := pos + 1; j <= pos+maxGap; j++ {
			if equalFrom(f.pcm, ts0+uint32(j*b.frame), skip) {
				pos, found = j, true
				played = append(played, j)
				break
			}
		}
		if !found {
			unmatched++
			if pos >= 0 {
				pos++ // a merged frame covers two
			}
		}
	}
	if st := b.Stats(); uint64(unmatched) > st.Compressed {
		tb.Fatalf("%d audio frames are not the stream in order, %d merged", unmatched, st.Compressed)
	}
	return played
}

// energy is the mean square of pcm.
func energy(pcm []int16) float64 {
	var e float64
	for _, v := range pcm {
		e += float64(v) * float64(v)
	}
	return e / float64(len(pcm))
}

func mustNew(tb testing.TB, cfg Config) *Buffer {
	tb.Helper()
	b, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func countStatus(fs []frame) map[Status]int {
	m := map[Status]int{}
	for _, f := range fs {
		m[f.status]++
	}
	return m
}
