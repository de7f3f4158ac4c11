package jitter

import "time"

// estimator measures how late packets arrive, from their RTP timestamps and
// arrival times, all in samples (timestamp units).
//
// Transit is arrival time minus timestamp (RFC 3550 §6.4.1); only its
// changes matter. Two figures come from it:
//
//   - jitter: the RFC 3550 interarrival jitter, the smoothed mean deviation
//     of transit between consecutive packets (§6.4.1, integer form of §A.8).
//     Reported only.
//   - peak: how much later than the fastest recent packet a packet arrived
//     (its transit minus the smallest transit of the last one to two
//     buckets, so a drifting sender clock does not look like jitter).
//     It rises at once to the worst value seen and decays by an eighth
//     every bucket (half-life about 2.6 s). It drives the target delay.
type estimator struct {
	rate      int
	bucketLen int64 // samples per bucket of the minimum transit
	gap       int64 // an arrival gap longer than this starts a new baseline
	ceiling   int64 // largest peak worth knowing (the maximum delay)

	started bool
	t0      time.Time // arrival times are samples since t0
	refTS   uint32    // highest timestamp seen, and its unwrapped value
	refExt  int64
	last    int64 // latest arrival
	transit int64 // transit of the previous packet
	jitter  int64 // 16 × J, RFC 3550 §A.8

	bucket          int64 // current bucket number (arrival / bucketLen)
	minCur, minPrev int64 // smallest transit in this and the previous bucket
	havePrev        bool
	peak            int64
}

const (
	// bucketDuration is the granularity of the minimum transit and of the
	// peak's decay.
	bucketDuration = 500 * time.Millisecond
	// jitterClamp bounds one transit difference fed to the RFC 3550
	// estimate, in seconds, so absurd input cannot overflow it.
	jitterClamp = 60
)

// reset forgets everything: a new source.
func (e *estimator) reset() {
	e.started = false
	e.jitter = 0
	e.peak = 0
}

// rebase starts a new transit baseline on the next packet (the timestamps
// jumped); what was learnt about the network stays.
func (e *estimator) rebase() { e.started = false }

// update takes one packet that was not a duplicate, whether in time or late.
func (e *estimator) update(ts uint32, now time.Time) {
	if !e.started {
		e.started = true
		e.t0 = now
		e.refTS, e.refExt = ts, 0
		e.last, e.transit = 0, 0
		e.bucket, e.minCur, e.havePrev = 0, 0, false
		return
	}
	arr := toSamples(now.Sub(e.t0), e.rate)
	ext := e.refExt + int64(int32(ts-e.refTS)) //nolint:gosec // serial number arithmetic (RFC 1982)
	if ext > e.refExt {
		e.refTS, e.refExt = ts, ext
	}
	transit := arr - ext

	d := transit - e.transit
	if d < 0 {
		d = -d
	}
	d = min(d, jitterClamp*int64(e.rate))
	e.jitter += d - (e.jitter+8)>>4
	e.transit = transit

	if arr-e.last > e.gap {
		// A long pause (hold, DTX): a sender may not have advanced its
		// clock meanwhile, so the old baseline says nothing.
		e.bucket, e.minCur, e.havePrev = arr/e.bucketLen, transit, false
	}
	e.last = max(e.last, arr)
	if id := arr / e.bucketLen; id > e.bucket {
		steps := id - e.bucket
		e.minPrev, e.havePrev = e.minCur, steps == 1
		e.minCur = transit
		e.bucket = id
		for i := int64(0); i < steps && e.peak > 0; i++ {
			e.peak -= (e.peak + 7) >> 3
		}
	} else if transit < e.minCur {
		e.minCur = transit
	}
	base := e.minCur
	if e.havePrev && e.minPrev < base {
		base = e.minPrev
	}
	if rel := transit - base; rel > e.peak {
		e.peak = min(rel, e.ceiling)
	}
}
