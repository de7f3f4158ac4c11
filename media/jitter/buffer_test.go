package jitter

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

const ms = time.Millisecond

// TestInOrder: an in-order stream plays back bit-exact after the prefill,
// for 8 and 16 kHz and packets of 10, 20 and 30 ms.
func TestInOrder(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		n    int // samples per packet
	}{
		{"8k/20ms", Config{}, 160},
		{"8k/10ms", Config{}, 80},
		{"8k/30ms", Config{}, 240},
		{"8k/60ms", Config{}, 480},
		{"8k/12.5ms", Config{}, 100}, // packets not aligned with frames
		{"16k/20ms", Config{ClockRate: 16000}, 320},
		{"16k/10ms", Config{ClockRate: 16000}, 160},
		{"16k/30ms", Config{ClockRate: 16000}, 480},
		{"8k/20ms/min100", Config{MinDelay: 100 * ms}, 160},
		{"8k/10ms frames/20ms", Config{FrameSamples: 80}, 160},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, tt.cfg)
			cfg := tt.cfg.withDefaults()
			ptime := toDuration(int64(tt.n), cfg.ClockRate)
			const ts0 = 123456
			ps := stream(int(10*time.Second/ptime), tt.n, cfg.ClockRate, 1000, ts0, 0xabc, 25*ms, 1)
			last := ps[len(ps)-1].at
			fs := run(t, b, ps, 5*ms, last+time.Second)
			stop := slices.IndexFunc(fs, func(f frame) bool { return f.at > last })
			first := checkSync(t, b, fs, ts0, stop)

			// Prefill: the first frame plays once MinDelay is buffered.
			if wait := fs[first].at - ps[0].at; wait < cfg.MinDelay-ptime || wait > cfg.MinDelay+toDuration(int64(b.frame), b.rate) {
				t.Errorf("first audio %v after the first packet, want about %v", wait, cfg.MinDelay)
			}
			for i, f := range fs[:stop] {
				if want := StatusAudio; i >= first && f.status != want {
					t.Fatalf("frame %d at %v: %v, want %v", i, f.at, f.status, want)
				}
				if i < first && f.status != StatusSilence {
					t.Fatalf("frame %d before the first audio: %v", i, f.status)
				}
				if max := cfg.MinDelay + ptime; f.st.Delay > max {
					t.Fatalf("frame %d: delay %v above %v", i, f.st.Delay, max)
				}
			}
			st := b.Stats()
			if st.Late+st.Duplicates+st.Invalid+st.Resyncs+st.Overflows+st.Stretched+st.Compressed != 0 || st.Underruns != 1 {
				t.Errorf("clean stream, stats %+v", st)
			}
			if st.Accepted != uint64(len(ps)) {
				t.Errorf("accepted %d of %d", st.Accepted, len(ps))
			}
			// After the stream: concealment fades out, then silence.
			tail := countStatus(fs[stop:])
			if tail[StatusConcealed] != concealFrames || tail[StatusSilence] < 10 {
				t.Errorf("after the stream ended: %v", tail)
			}
		})
	}
}

// delayed returns ps with packet i arriving extra[i] later.
func delayed(ps []packet, extra map[int]time.Duration) []packet {
	ps = slices.Clone(ps)
	for i, d := range extra {
		ps[i].at += d
	}
	return ps
}

// TestReorder: packets that arrive out of order, but before they are due,
// play in order, bit-exact.
func TestReorder(t *testing.T) {
	every := func(start, step, count int, d time.Duration) map[int]time.Duration {
		m := map[int]time.Duration{}
		for i := start; i < count; i += step {
			m[i] = d
		}
		return m
	}
	tests := []struct {
		name  string
		cfg   Config
		extra map[int]time.Duration
	}{
		{"first two swapped", Config{}, map[int]time.Duration{0: 21 * ms}},
		{"first three reversed", Config{MinDelay: 100 * ms}, map[int]time.Duration{0: 41 * ms, 1: 21 * ms}},
		{"neighbours swapped", Config{MinDelay: 60 * ms}, every(0, 2, 500, 21*ms)},
		{"displaced by 2", Config{MinDelay: 100 * ms}, every(3, 10, 500, 41*ms)},
		{"displaced by 3", Config{MinDelay: 100 * ms}, every(5, 7, 500, 61*ms)},
		{"displaced by 3 at 16 kHz", Config{ClockRate: 16000, MinDelay: 100 * ms}, every(5, 7, 500, 61*ms)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, tt.cfg)
			const ts0 = 99
			ps := delayed(stream(500, b.frame, b.rate, 7, ts0, 1, 10*ms, 1), tt.extra)
			fs := run(t, b, ps, 5*ms, 11*time.Second)
			first := checkSync(t, b, fs, ts0, 500)
			for i, f := range fs[first:500] {
				if f.status != StatusAudio {
					t.Fatalf("frame %d: %v", first+i, f.status)
				}
			}
			if st := b.Stats(); st.Late != 0 || st.Accepted != 500 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestDuplicates: repeated packets, early or after they played, and the
// same audio under another sequence number, are ignored.
func TestDuplicates(t *testing.T) {
	b := mustNew(t, Config{})
	const ts0 = 5000
	ps := stream(300, 160, 8000, 65000, ts0, 1, 10*ms, 1)
	var all []packet
	for i, p := range ps {
		all = append(all, p)
		if i%3 == 0 {
			again := p
			again.at += ms
			all = append(all, again) // soon after
		}
		if i%5 == 0 {
			again := p
			again.at += 200 * ms // long after it played
			all = append(all, again)
		}
		if i%7 == 0 {
			again := p
			again.seq += 30000 // same samples, another sequence number
			again.at += 2 * ms
			all = append(all, again)
		}
	}
	fs := run(t, b, all, 5*ms, 7*time.Second)
	first := checkSync(t, b, fs, ts0, 300)
	for i, f := range fs[first:300] {
		if f.status != StatusAudio {
			t.Fatalf("frame %d: %v", first+i, f.status)
		}
	}
	st := b.Stats()
	if want := uint64(len(all) - len(ps)); st.Duplicates != want || st.Late != 0 || st.Accepted != uint64(len(ps)) {
		t.Errorf("duplicates %d (want %d), stats %+v", st.Duplicates, want, st)
	}
}

// TestLoss: lost packets are concealed with falling energy, then silence;
// the stream plays on in step afterwards.
func TestLoss(t *testing.T) {
	tests := []struct {
		name      string
		lost      []int
		concealed int
		silent    int
	}{
		{"one", []int{100}, 1, 0},
		{"two apart", []int{100, 103}, 2, 0},
		{"two", []int{100, 101}, 2, 0},
		{"three", []int{100, 101, 102}, 3, 0},
		{"five", []int{100, 101, 102, 103, 104}, 3, 2},
		{"fifty", slices.Collect(func(yield func(int) bool) {
			for i := 100; i < 150 && yield(i); i++ {
			}
		}), 3, 47},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, Config{})
			const ts0 = 1 << 20
			ps := stream(400, 160, 8000, 1, ts0, 1, 10*ms, 1)
			lost := map[uint32]bool{}
			for _, i := range slices.Backward(tt.lost) {
				lost[ps[i].ts] = true
				ps = slices.Delete(ps, i, i+1)
			}
			fs := run(t, b, ps, 5*ms, 9*time.Second)
			first := checkSync(t, b, fs, ts0, 390)
			counts := countStatus(fs[first:390])
			if counts[StatusConcealed] != tt.concealed || counts[StatusSilence] != tt.silent {
				t.Errorf("got %v, want %d concealed, %d silent", counts, tt.concealed, tt.silent)
			}
			// Each concealed frame is quieter than what came before it.
			prev := math.Inf(1)
			for i := first; i < 390; i++ {
				f := fs[i]
				ts := ts0 + uint32((i-first)*160)
				switch f.status {
				case StatusAudio:
					if lost[ts] {
						t.Fatalf("frame %d plays lost packet %d", i, ts)
					}
					prev = energy(f.pcm)
				case StatusConcealed:
					e := energy(f.pcm)
					if e <= 0 || e >= prev {
						t.Fatalf("frame %d concealed with energy %.0f after %.0f", i, e, prev)
					}
					prev = e
				default:
					if energy(f.pcm) != 0 {
						t.Fatalf("frame %d: silence is not zero", i)
					}
				}
			}
			if st := b.Stats(); st.Late != 0 || st.Stretched != 0 || st.Compressed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestContinuity: concealment, the return from it, stretching and
// merging never make the waveform jump: on a low tone (whose period does not
// divide the frame) no step between output samples is much steeper than the
// tone's own.
func TestContinuity(t *testing.T) {
	tests := []struct {
		name  string
		lost  []int
		speed float64 // sender clock against ours
		check func(Stats) bool
	}{
		{"loss", []int{50}, 1, func(st Stats) bool { return st.Concealed == 1 }},
		{"loss of two", []int{50, 51}, 1, func(st Stats) bool { return st.Concealed == 2 }},
		{"loss of five", []int{50, 51, 52, 53, 54}, 1, func(st Stats) bool { return st.Concealed == 3 && st.Silent > 2 }},
		{"stretch", nil, 1.02, func(st Stats) bool { return st.Stretched > 5 }},
		{"merge", nil, 0.98, func(st Stats) bool { return st.Compressed > 5 }},
	}
	const period = 73 // samples: about 110 Hz
	tone := func(ts uint32) int16 { return int16(8000 * math.Sin(float64(ts%period)*2*math.Pi/period)) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, Config{})
			buf := make([]int16, 160)
			out := make([]int16, 160)
			var all []int16
			next := 0
			for k := range 1000 {
				now := time.Duration(k)*20*ms + 5*ms
				for ; time.Duration(float64(time.Duration(next)*20*ms)*tt.speed) <= now; next++ {
					ts := uint32(next * 160)
					for j := range buf {
						buf[j] = tone(ts + uint32(j))
					}
					if !slices.Contains(tt.lost, next) {
						b.Push(uint16(next), ts, 1, buf, t0.Add(now))
					}
				}
				b.Pop(out)
				all = append(all, out...)
			}
			maxStep := 2 * 8000 * 2 * math.Pi / period // twice the tone's steepest
			for i := 1; i < len(all); i++ {
				if d := math.Abs(float64(all[i]) - float64(all[i-1])); d > maxStep {
					t.Fatalf("sample %d (frame %d) jumps by %.0f", i, i/160, d)
				}
			}
			if st := b.Stats(); !tt.check(st) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestLate: a packet that comes after it was due is dropped and counted;
// it was concealed, and everything else plays once, in order. The delay
// grows to absorb such a packet next time.
func TestLate(t *testing.T) {
	b := mustNew(t, Config{})
	const ts0 = 77
	ps := delayed(stream(500, 160, 8000, 1, ts0, 1, 10*ms, 1), map[int]time.Duration{100: 90 * ms})
	fs := run(t, b, ps, 5*ms, 11*time.Second)
	played := checkOrder(t, b, fs, ts0, 4)
	st := b.Stats()
	var missing []int
	for i := range 500 {
		if !slices.Contains(played, i) {
			missing = append(missing, i)
		}
	}
	// Merged frames (shrinking the delay back) hold two each.
	if !slices.Contains(missing, 100) || len(missing) != 1+2*int(st.Compressed) {
		t.Errorf("not played: %v, %d merged", missing, st.Compressed)
	}
	if st.Late != 1 || st.Accepted != 499 {
		t.Errorf("stats %+v", st)
	}
	var grown time.Duration
	for _, f := range fs[100:200] {
		grown = max(grown, f.st.Target)
	}
	if grown < 100*ms {
		t.Errorf("target up to %v after a packet 90 ms late", grown)
	}
	if st.Stretched == 0 || st.Compressed == 0 || st.Target != DefaultMinDelay {
		t.Errorf("the delay did not grow and shrink back: %+v", st)
	}
}

// TestWrap: sequence numbers wrap at 65535 and timestamps at 2^32, with
// reordering across the wrap.
func TestWrap(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		b := mustNew(t, Config{ClockRate: rate})
		ts0 := uint32(math.MaxUint32 - 50*b.frame + 7)
		extra := map[int]time.Duration{}
		for i := 40; i < 60; i += 3 {
			extra[i] = 21 * ms
		}
		ps := delayed(stream(200, b.frame, rate, 65500, ts0, 9, 0, 1), extra)
		fs := run(t, b, ps, 5*ms, 4*time.Second)
		first := checkSync(t, b, fs, ts0, 200)
		if c := countStatus(fs[first:200]); c[StatusAudio] != 200-first {
			t.Errorf("%d Hz: %v", rate, c)
		}
		if st := b.Stats(); st.Late != 0 || st.Resyncs != 0 || st.Accepted != 200 {
			t.Errorf("%d Hz: stats %+v", rate, st)
		}
	}
}

// TestResync: a new SSRC, or timestamps that jump far, start afresh: the
// old audio is dropped, the new plays in step after the prefill, and no
// frame mixes the two.
func TestResync(t *testing.T) {
	tests := []struct {
		name    string
		ssrc    uint32
		seq     int   // of the second part, relative to the first's next
		jump    int64 // timestamp of the second part, relative to the first's next
		resyncs uint64
		late    int // packets dropped before the resync shows
	}{
		{"new ssrc", 2, 40000, 3_000_000_000, 1, 0},
		{"new ssrc, same numbers", 2, 0, 0, 1, 0},
		{"jump ahead 10 s", 1, 0, 80000, 1, 0},
		{"jump back 5 s", 1, 0, -40000, 1, 0},
		{"jump back 250 ms", 1, 0, -2000, 1, 0},
		{"jump back 250 ms, sequence too", 1, -100, -2000, 1, lateResync}, // first taken for duplicates
		{"jump ahead 300 ms", 1, 0, 2400, 0, 0},                           // like a pause: plays on
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, Config{})
			const ts0 = 1000
			a := stream(100, 160, 8000, 1, ts0, 1, 10*ms, 1)
			ts1 := uint32(int64(ts0+100*160) + tt.jump)
			c := stream(100, 160, 8000, uint16(101+tt.seq), ts1, tt.ssrc, 10*ms+2*time.Second, 1)
			fs := run(t, b, append(a, c...), 5*ms, 5*time.Second)
			checkSync(t, b, fs, ts0, 100)
			// From the switch on, the second part plays in step.
			sw := slices.IndexFunc(fs, func(f frame) bool { return f.at >= c[tt.late].at })
			first := sw + checkSync(t, b, fs[sw:], ts1+uint32(tt.late*160), 100-tt.late)
			for i, f := range fs[sw:first] {
				if f.status == StatusAudio {
					t.Fatalf("frame %d: audio from before the switch", sw+i)
				}
			}
			if wait := fs[first].at - c[tt.late].at; wait > 60*ms {
				t.Errorf("second part plays %v after it came", wait)
			}
			st := b.Stats()
			if st.Resyncs != tt.resyncs || st.Accepted != uint64(200-tt.late) || st.Late+st.Duplicates != uint64(tt.late) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestSSRCStragglers: packets of the previous source that arrive after the
// switch are late; they neither mix into the new source nor switch back.
// A source that comes back later is followed again.
func TestSSRCStragglers(t *testing.T) {
	b := mustNew(t, Config{})
	a := stream(50, 160, 8000, 1, 0, 1, 0, 1)
	c := stream(50, 160, 8000, 500, 1<<30, 2, time.Second, 1)
	for i := 47; i < 50; i++ {
		a[i].at = c[2].at + time.Duration(i)*ms // the last three come late
	}
	again := stream(50, 160, 8000, 48, 47*160, 1, 3*time.Second, 1)
	fs := run(t, b, slices.Concat(a, c, again), 5*ms, 5*time.Second)
	checkSync(t, b, fs, 0, 47)
	sw := slices.IndexFunc(fs, func(f frame) bool { return f.at >= c[0].at })
	checkSync(t, b, fs[sw:], 1<<30, 50)
	sw = slices.IndexFunc(fs, func(f frame) bool { return f.at >= again[0].at })
	checkSync(t, b, fs[sw:], 47*160, 50)
	if st := b.Stats(); st.Resyncs != 2 || st.Late != 3 || st.Accepted != 147 {
		t.Errorf("stats %+v", st)
	}
}

// TestInputStops: when packets stop (hold, DTX), concealment fades out to
// silence without consuming anything; when they come back, the buffer
// fills to the target delay again and plays in step.
func TestInputStops(t *testing.T) {
	tests := []struct {
		name string
		gap  time.Duration
		dts  int64 // timestamp of the resumed stream after the last one
	}{
		{"DTX 400 ms", 400 * ms, 3200},
		{"DTX 200 ms", 200 * ms, 1600},
		{"DTX 60 ms", 60 * ms, 480},
		{"hold 3 s", 3 * time.Second, 24000},
		{"hold 3 s, clock stopped", 3 * time.Second, 0},
		{"hold 1 s, clock restarted", time.Second, -1_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, Config{})
			const ts0 = 4242
			a := stream(100, 160, 8000, 1, ts0, 1, 10*ms, 1)
			ts1 := uint32(int64(ts0+100*160) + tt.dts)
			resume := a[99].at + 20*ms + tt.gap
			c := stream(100, 160, 8000, 101, ts1, 1, resume, 1)
			fs := run(t, b, append(a, c...), 5*ms, resume+3*time.Second)
			checkSync(t, b, fs, ts0, 100)
			end := slices.IndexFunc(fs, func(f frame) bool { return f.at > a[99].at && f.status != StatusAudio })
			sw := slices.IndexFunc(fs, func(f frame) bool { return f.at >= resume })
			for i := end; i < sw; i++ {
				want := StatusSilence
				if i-end < concealFrames {
					want = StatusConcealed
				}
				if fs[i].status != want {
					t.Fatalf("frame %d, %v after the stream stopped: %v, want %v", i, fs[i].at-a[99].at, fs[i].status, want)
				}
			}
			first := sw + checkSync(t, b, fs[sw:], ts1, 100)
			if wait := fs[first].at - c[0].at; wait < 20*ms || wait > 60*ms {
				t.Errorf("resumed stream plays %v after it came", wait)
			}
			st := b.Stats()
			if st.Late != 0 || st.Accepted != 200 || st.Discarded != 0 || st.Underruns != 2 { // the pause and the end
				t.Errorf("stats %+v", st)
			}
			if st.Target != DefaultMinDelay {
				t.Errorf("target %v after a pause", st.Target)
			}
		})
	}
}

// TestOverflow: with nobody popping, the buffer holds at most about
// MaxDelay, the newest audio.
func TestOverflow(t *testing.T) {
	b := mustNew(t, Config{})
	const ts0 = 0
	ps := stream(200, 160, 8000, 1, ts0, 1, 0, 1)
	buf := make([]int16, 160)
	for _, p := range ps {
		b.Push(p.seq, p.ts, p.ssrc, fill(buf, p.ts), t0.Add(p.at))
		if d := b.Stats().Delay; d > DefaultMaxDelay+40*ms {
			t.Fatalf("delay %v", d)
		}
	}
	st := b.Stats()
	if st.Overflows == 0 || st.Discarded == 0 || st.Delay > DefaultMaxDelay {
		t.Errorf("stats %+v", st)
	}
	out := make([]int16, 160)
	var got []int
	for range 20 {
		if b.Pop(out) == StatusAudio {
			for j := 0; j < 200; j++ {
				if equalFrom(out, ps[j].ts, 0) {
					got = append(got, j)
				}
			}
		}
	}
	if len(got) == 0 || got[len(got)-1] != 199 || got[0] < 199-int(DefaultMaxDelay/(20*ms)) {
		t.Errorf("played packets %v", got)
	}
}

// TestDrift: a sender clock 1% fast or slow for ten minutes: the delay
// stays bounded, the buffer adds or drops a frame now and then instead of
// running dry or overflowing, and the audio stays in order.
func TestDrift(t *testing.T) {
	tests := []struct {
		name  string
		speed float64
		n     int
	}{
		{"fast", 0.99, 160},
		{"slow", 1.01, 160},
		{"fast 30 ms", 0.99, 240},
		{"slow 10 ms", 1.01, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, Config{})
			count := int(10 * time.Minute / toDuration(int64(tt.n), 8000))
			ps := stream(count, tt.n, 8000, 1, 0, 1, 0, tt.speed)
			fs := run(t, b, ps, 5*ms, 10*time.Minute)
			checkOrder(t, b, fs, 0, 4)
			var maxDelay time.Duration
			for _, f := range fs {
				maxDelay = max(maxDelay, f.st.Delay)
			}
			st := b.Stats()
			if maxDelay > 100*ms {
				t.Errorf("delay reached %v", maxDelay)
			}
			pops := float64(st.Popped)
			if st.Underruns > 2 || st.Overflows != 0 || st.Late != 0 {
				t.Errorf("stats %+v", st)
			}
			// One frame in a hundred must be added or dropped; little more.
			adjusted := float64(st.Stretched + st.Compressed)
			if adjusted < 0.008*pops || adjusted > 0.012*pops {
				t.Errorf("%v stretched, %v compressed of %v frames", st.Stretched, st.Compressed, pops)
			}
			if st.Concealed-st.Stretched > concealFrames { // at the stream's end
				t.Errorf("concealed %d beyond stretching: %+v", st.Concealed, st)
			}
		})
	}
}

// TestBurstyNetwork: random delays of up to 60 ms, seeded. The delay
// adapts up, few frames are concealed, the audio plays in order, and once
// the network calms down the delay comes back down.
func TestBurstyNetwork(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
		mode string
	}{
		{"uniform", 1, "uniform"},
		{"uniform 2", 2, "uniform"},
		{"stalls", 1, "stalls"},
		{"stalls 2", 2, "stalls"},
		{"spikes", 1, "spikes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 99))
			b := mustNew(t, Config{})
			const (
				total = 15000 // 5 minutes
				calm  = 12000 // the last minute has no jitter
			)
			ps := stream(total, 160, 8000, 1, 0, 1, 0, 1)
			ms60 := int64(60 * ms)
			var stallEnd, next time.Duration
			for i := range ps[:calm] {
				send := ps[i].at
				switch tt.mode {
				case "uniform": // any delay from 0 to 60 ms, reordering
					ps[i].at += time.Duration(rng.Int64N(ms60))
				case "stalls": // the path stalls for up to 60 ms every few seconds
					if send >= next {
						stallEnd = send + time.Duration(rng.Int64N(ms60))
						next = send + time.Second + time.Duration(rng.Int64N(int64(3*time.Second)))
					}
					ps[i].at += time.Duration(rng.Int64N(int64(5 * ms)))
					if send < stallEnd {
						ps[i].at = max(ps[i].at, stallEnd)
					}
				case "spikes": // one packet in 50 is up to 60 ms late
					if rng.IntN(50) == 0 {
						ps[i].at += time.Duration(rng.Int64N(ms60))
					}
				}
			}
			fs := run(t, b, ps, 5*ms, total*20*ms)
			played := checkOrder(t, b, fs, 0, 8)
			st := b.Stats()
			var maxTarget time.Duration
			for _, f := range fs[:calm] {
				maxTarget = max(maxTarget, f.st.Target)
			}
			lost := st.Concealed - st.Stretched
			t.Logf("target up to %v, concealed %d (%d stretched), late %d, played %d of %d: %+v",
				maxTarget, st.Concealed, st.Stretched, st.Late, len(played), total, st)
			if maxTarget < 40*ms || maxTarget > DefaultMaxDelay {
				t.Errorf("target reached %v", maxTarget)
			}
			if lost > total/200 || st.Late > total/200 {
				t.Errorf("%d frames lost, %d late: %+v", lost, st.Late, st)
			}
			if float64(len(played)) < 0.99*total {
				t.Errorf("only %d of %d frames played", len(played), total)
			}
			if end := fs[len(fs)-1].st; end.Target != DefaultMinDelay || end.Delay > 60*ms {
				t.Errorf("after a calm minute: target %v, delay %v", end.Target, end.Delay)
			}
		})
	}
}

// TestPopShortDst: a destination shorter than a frame is zeroed and
// consumes nothing; a longer one is filled up to the frame only.
func TestPopShortDst(t *testing.T) {
	b := mustNew(t, Config{})
	buf := make([]int16, 160)
	for i := range 3 {
		b.Push(uint16(i), uint32(i*160), 1, fill(buf, uint32(i*160)), t0)
	}
	short := []int16{1, 2, 3}
	if s := b.Pop(short); s != StatusUnknown || short[0] != 0 || short[2] != 0 {
		t.Errorf("short: %v %v", s, short)
	}
	long := make([]int16, 200)
	for i := range long {
		long[i] = -1
	}
	if s := b.Pop(long); s != StatusAudio || !equalFrom(long[:160], 0, 0) || long[160] != -1 || long[199] != -1 {
		t.Errorf("long: %v", s)
	}
	if st := b.Stats(); st.Popped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestInvalidPackets: empty packets and packets longer than MaxDelay are
// counted and change nothing.
func TestInvalidPackets(t *testing.T) {
	b := mustNew(t, Config{})
	b.Push(1, 0, 1, nil, t0)
	b.Push(2, 0, 1, make([]int16, 1601), t0)
	b.Push(3, 0, 1, make([]int16, 1600), t0)
	if st := b.Stats(); st.Invalid != 2 || st.Accepted != 1 || st.Pushed != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestReset: Reset forgets the source, the audio and the counters.
func TestReset(t *testing.T) {
	b := mustNew(t, Config{})
	buf := make([]int16, 160)
	out := make([]int16, 160)
	for i := range 10 {
		b.Push(uint16(i), uint32(i*160), 1, fill(buf, uint32(i*160)), t0.Add(time.Duration(i)*20*ms))
		b.Pop(out)
	}
	b.Reset()
	if st := b.Stats(); st != (Stats{Target: DefaultMinDelay}) {
		t.Errorf("after reset: %+v", st)
	}
	if s := b.Pop(out); s != StatusSilence || energy(out) != 0 {
		t.Errorf("pop after reset: %v", s)
	}
	// The same stream again is a new stream, not duplicates.
	fs := run(t, b, stream(50, 160, 8000, 0, 0, 1, 0, 1), 5*ms, time.Second)
	checkSync(t, b, fs, 0, 50)
	if st := b.Stats(); st.Duplicates != 0 || st.Accepted != 50 {
		t.Errorf("stats %+v", st)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"16 kHz", Config{ClockRate: 16000}, true},
		{"48 kHz 10 ms", Config{ClockRate: 48000, FrameSamples: 480}, true},
		{"min equals max", Config{MinDelay: 100 * ms, MaxDelay: 100 * ms}, true},
		{"min one frame", Config{MinDelay: 20 * ms}, true},
		{"min below a frame", Config{MinDelay: 10 * ms}, false},
		{"min above max", Config{MinDelay: 300 * ms}, false},
		{"max too large", Config{MaxDelay: 3 * time.Second}, false},
		{"rate too low", Config{ClockRate: 100}, false},
		{"rate too high", Config{ClockRate: 96000}, false},
		{"negative frame", Config{FrameSamples: -1}, false},
		{"negative min", Config{MinDelay: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate: %v", err)
			}
			b, err := New(tt.cfg)
			if (err == nil) != tt.ok || (b != nil) != tt.ok {
				t.Fatalf("New: %v", err)
			}
			if b != nil && b.FrameSamples() != tt.cfg.withDefaults().FrameSamples {
				t.Errorf("frame %d", b.FrameSamples())
			}
		})
	}
	if b := mustNew(t, Config{ClockRate: 16000}); b.FrameSamples() != 320 || b.Stats().Target != DefaultMinDelay {
		t.Errorf("16 kHz defaults: frame %d", b.FrameSamples())
	}
}

// TestConcurrent: Push and Pop from two goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	b := mustNew(t, Config{})
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]int16, 160)
		for i := range 5000 {
			b.Push(uint16(i), uint32(i*160), 1, fill(buf, uint32(i*160)), t0.Add(time.Duration(i)*20*ms))
		}
	})
	wg.Go(func() {
		out := make([]int16, 160)
		for range 5000 {
			if s := b.Pop(out); s == StatusUnknown {
				t.Error("unknown status")
				return
			}
			_ = b.Stats()
		}
	})
	wg.Wait()
	checkInvariants(t, b)
}

// TestZeroAllocs pins Push and Pop at zero allocations.
func TestZeroAllocs(t *testing.T) {
	b := mustNew(t, Config{})
	buf := make([]int16, 160)
	out := make([]int16, 160)
	fill(buf, 0)
	i := 0
	step := func() {
		// Every 7th packet comes late and out of order, every 50th is
		// lost, so the slower paths run too.
		ts := uint32(i * 160)
		now := t0.Add(time.Duration(i) * 20 * ms)
		switch {
		case i%50 == 0:
		case i%7 == 0:
			b.Push(uint16(i+1), ts+160, 1, buf, now)
			b.Push(uint16(i), ts, 1, buf, now)
		case i%7 == 1:
		default:
			b.Push(uint16(i), ts, 1, buf, now)
		}
		b.Pop(out)
		_ = b.Stats()
		i++
	}
	if n := testing.AllocsPerRun(2000, step); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

// TestLossPartialFrame: with 10 ms packets, a lost packet leaves half a
// frame missing; concealment fills that half and the rest is exact.
func TestLossPartialFrame(t *testing.T) {
	b := mustNew(t, Config{})
	const ts0 = 800
	ps := stream(400, 80, 8000, 1, ts0, 1, 10*ms, 1)
	lostTS := ps[201].ts // the second half of a frame
	ps = slices.Delete(ps, 201, 202)
	fs := run(t, b, ps, 5*ms, 5*time.Second)
	first := slices.IndexFunc(fs, func(f frame) bool { return f.status == StatusAudio })
	i := first + int(lostTS-80-ts0)/160
	checkSync(t, b, fs, ts0, i)
	f := fs[i]
	if f.status != StatusAudio || !equalFrom(f.pcm[:80], lostTS-80, 0) || equalFrom(f.pcm, lostTS-80, 80) || energy(f.pcm[80:]) == 0 {
		t.Errorf("frame %d with its second half lost: %v", i, f.status)
	}
	checkSync(t, b, fs[i+1:], lostTS+80, 190-i)
	if st := b.Stats(); st.Concealed != concealFrames || st.Underruns != 1 || st.Late != 0 {
		t.Errorf("stats %+v", st) // concealment only once the stream ends
	}
}
