// Package jitter is the jitter buffer in front of each audio input of the
// mixer: the RTP reader goroutine pushes decoded packets as they arrive,
// early, late, out of order or twice, and the mixer's ticker goroutine pops
// one frame of 16-bit PCM per tick, on time and in order. It uses only the
// standard library; package media imports it, never the other way round.
//
// Main types: Buffer (one per input), Config, Status (what a popped frame
// holds) and Stats. Push and Pop may run on different goroutines; a mutex
// guards the state, held for a copy of one packet or frame, and neither
// allocates after New.
//
// # Defaults
//
// 8 kHz (ClockRate), 20 ms frames (FrameSamples 160; 320 at 16 kHz), a
// target playout delay adapting between MinDelay 40 ms and MaxDelay 200 ms.
// Packets may hold any number of samples (10, 20, 30 ms, ...), up to
// MaxDelay.
//
// # Timeline
//
// Samples live in a ring indexed by RTP timestamp (one timestamp unit per
// sample), with a bit per slot saying whether it was received. head is the
// timestamp of the next sample due, tail one past the newest received; all
// comparisons are serial-number arithmetic, so 32-bit timestamps and 16-bit
// sequence numbers wrap freely (RFC 3550 §5.1). A packet is copied to its
// place by timestamp, so reordered packets fall into place as long as they
// come before they are due. A packet whose sequence number was seen (the
// last 512 are remembered, RFC 3550 §A.1 style, a jump of 3000 or more
// believed only when the next packet confirms it), or all of whose samples
// are held already, is a duplicate. One entirely behind head is late and
// dropped; one partly behind keeps its newer part.
//
// A new SSRC re-synchronises: the buffer is emptied and fills up again from
// that packet (RFC 3550 §8.2: a sender that restarts picks a new SSRC), and
// the delay estimate starts afresh. So does, keeping the estimate, a
// timestamp further ahead than the ring reaches (four times MaxDelay,
// rounded up to a power of two: about a second by default), further behind
// than that, one ending a frame or more behind head yet newer by sequence
// number, or the fifth packet in a row behind head: the sender's clock
// jumped. Stragglers of a replaced SSRC count as late for twice MaxDelay
// after the switch.
//
// # Playout
//
// After a sync the buffer is priming: Pop returns silence until the target
// delay is buffered (measured from the earliest sample held, which a packet
// reordered ahead of the first may still move back). Then each Pop plays the
// frame at head and moves head on:
//
//   - Frame complete: StatusAudio.
//   - Frame partly received: the gaps are filled by concealment, and it is
//     StatusAudio.
//   - Frame missing, less than the target delay buffered beyond it: the
//     packet may still come, so Pop conceals without moving head (it waits,
//     up to three frames; waiting lengthens the delay).
//   - Frame missing otherwise: it is lost. Pop conceals it and skips the
//     rest of the gap while that leaves at least the target delay buffered,
//     so a burst of loss costs no delay. Once concealment has faded out,
//     missing frames are silence and are skipped the same way.
//   - Less than a frame buffered: the input stopped (hold, DTX, end of a
//     talkspurt) or is late. The buffer counts an underrun, conceals and
//     then returns silence without moving head, and primes again: when
//     packets return it waits for the target delay before playing on.
//     Packets after a pause whose timestamps advanced with the pause land
//     after a gap, which is skipped as above.
//
// Loss concealment continues the last frame played, alternately backwards
// and forwards so that each joint is continuous, with a gain falling
// linearly to zero over three frames (60 ms at 20 ms frames), then silence.
// The first quarter frame (5 ms) of audio after concealment is cross-faded
// from where the concealment would have gone on.
//
// # Adaptive delay
//
// Push measures each packet's transit, arrival time minus timestamp, in
// timestamp units (RFC 3550 §6.4.1). Stats.Jitter is the RFC 3550 estimate
// (§A.8). The target delay comes from the peak relative delay instead: how
// much later than the fastest packet of the last 0.5 to 1 s a packet arrived
// (a short window, so that a drifting sender clock does not read as jitter;
// after a silence longer than twice MaxDelay or 0.5 s, whichever is more,
// the baseline starts again, as a sender may not have advanced its clock). The
// peak rises at once to any larger value, late packets included, and decays
// by an eighth every 0.5 s (half-life about 2.6 s). The target delay is the
// peak plus one packet (or frame, if longer), within MinDelay and MaxDelay.
//
// The buffer steers towards the target one frame at a time. Every 0.5 s it
// compares the highest level seen before a pop, which is what the earliest
// packets leave buffered, with the target. Half a frame or more short, it
// stretches: it inserts a frame that starts as the next one and fades into
// the last one played (StatusConcealed). More than a packet and half a frame
// over, it compresses: it plays two frames as one, cross-fading the first
// into the second (StatusAudio). Both wait for a quiet frame (mean level
// below about -36 dBFS) for up to a quarter second, then act anyway. So the
// delay grows quickly (at once on an underrun or a missing packet, up to a
// frame per 0.5 s otherwise) and shrinks slowly (a frame per 0.5 s at
// most), and follows a sender whose clock runs a few percent fast or slow.
//
// A hard limit backs this up: when more than MaxDelay plus a packet and a
// frame is buffered (a burst, or nobody popping), Push drops the oldest
// audio down to the target delay.
package jitter
