package dtmf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// FuzzParseEvent: any payload parses or fails cleanly, and what parses
// marshals back to its first four bytes (less the reserved bit).
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0x8a, 0x05, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEvent(b)
		if err != nil {
			if len(b) >= EventSize || !errors.Is(err, ErrMalformed) {
				t.Fatalf("%x: %v", b, err)
			}
			return
		}
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if got := e.AppendTo(nil); !bytes.Equal(got, want) {
			t.Fatalf("%x: %+v marshals to %x", b, e, got)
		}
	})
}

// FuzzReceiver feeds a Receiver arbitrary packets and ticks, with timestamps
// drawn from 16 values (base + k·step): it must never panic, report only
// valid digits, and never report more digits than there were distinct
// timestamps. Each record of 7 bytes is: the timestamp index (low nibble),
// the 4-byte payload, the time since the previous record in 5 ms units, and
// flags (bit 0: Tick instead of a packet, bit 1: Flush, bit 7: truncate the
// payload to bits 2-3 bytes).
func FuzzReceiver(f *testing.F) {
	var seed []byte
	for i, p := range Train('5', 100*time.Millisecond, 10, 8000, nil) {
		seed = append(seed, 0)
		seed = append(seed, p.Payload[:]...)
		seed = append(seed, 4, byte(i%2))
	}
	for _, p := range Train('#', 40*time.Millisecond, 10, 8000, nil) {
		seed = append(seed, 1)
		seed = append(seed, p.Payload[:]...)
		seed = append(seed, 4, 0)
	}
	f.Add(uint32(1000), uint32(800), seed)
	f.Add(uint32(0xffffff00), uint32(0xff80), seed)
	f.Add(uint32(0), uint32(0x10000000), []byte{0, 1, 0, 0, 160, 50, 0, 0, 1, 0, 0, 160, 50, 1, 0, 1, 0x80, 0, 160, 0, 0x86})
	f.Fuzz(func(t *testing.T, base, step uint32, data []byte) {
		var r Receiver
		now := time.Unix(1_700_000_000, 0)
		seen := make(map[uint32]bool)
		reports := 0
		check := func(d Digit, ok bool) {
			if !ok {
				return
			}
			if !Valid(d) {
				t.Fatalf("reported invalid digit %q", byte(d))
			}
			reports++
		}
		for ; len(data) >= 7; data = data[7:] {
			rec := data[:7]
			now = now.Add(time.Duration(rec[5]) * 5 * time.Millisecond)
			switch flags := rec[6]; {
			case flags&1 != 0:
				check(r.Tick(now))
			case flags&2 != 0:
				check(r.Flush())
			default:
				ts := base + uint32(rec[0]&0x0f)*step
				seen[ts] = true
				payload := rec[1:5]
				if flags&0x80 != 0 {
					payload = payload[:flags>>2&3]
				}
				check(r.Packet(ts, payload, now))
			}
		}
		check(r.Flush())
		if reports > len(seen) {
			t.Fatalf("%d digits from %d distinct timestamps", reports, len(seen))
		}
	})
}

// FuzzParseInfo: any content type and body parse or fail with one of the
// sentinels, and whatever parses survives InfoBody and ParseInfo again.
func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf-relay", []byte("signal = 11\nDURATION=0\n\n"))
	f.Add("Application/DTMF; x=y", []byte("#\r\n"))
	f.Add("application/sdp", []byte("v=0\r\n"))
	f.Add("application/dtmf-relay", []byte("Signal\r\n=\r\n"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, dur, err := ParseInfo(ct, body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotDTMF) {
				t.Fatalf("%q %q: %v", ct, body, err)
			}
			return
		}
		if !Valid(d) || dur <= 0 || dur > time.Minute || dur%time.Millisecond != 0 {
			t.Fatalf("%q %q: %q, %v", ct, body, byte(d), dur)
		}
		d2, dur2, err := ParseInfo(InfoBody(d, dur))
		if err != nil || d2 != d || dur2 != dur {
			t.Fatalf("%v %v: round trip gave %v, %v, %v", d, dur, d2, dur2, err)
		}
	})
}

// FuzzDetector runs the detector on arbitrary audio (16-bit little-endian
// samples) in arbitrary frames: it must never panic, report only valid
// digits, and report no more than one digit per 30 ms of audio.
func FuzzDetector(f *testing.F) {
	tones := concat(Tone('1', 8000, 60*time.Millisecond, 0.3), silence(8000, 40*time.Millisecond), Tone('#', 8000, 60*time.Millisecond, 0.3))
	b := make([]byte, 2*len(tones))
	for i, s := range tones {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	f.Add(false, uint8(160), b)
	f.Add(true, uint8(7), b)
	f.Add(false, uint8(0), []byte{0x7f, 0xff, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, wide bool, frame uint8, data []byte) {
		rate := 8000
		if wide {
			rate = 16000
		}
		audio := make([]int16, len(data)/2)
		for i := range audio {
			audio[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		d := NewDetector(rate)
		n := max(int(frame), 1)
		digits := 0
		for len(audio) > 0 {
			k := min(n, len(audio))
			if w, ok := d.Process(audio[:k]); ok {
				if !Valid(w) {
					t.Fatalf("invalid digit %q", byte(w))
				}
				digits++
			}
			audio = audio[k:]
		}
		for {
			w, ok := d.Process(nil)
			if !ok {
				break
			}
			if !Valid(w) {
				t.Fatalf("invalid digit %q", byte(w))
			}
			digits++
		}
		if limit := len(data)/2/(rate*30/1000) + 1; digits > limit {
			t.Fatalf("%d digits in %d samples", digits, len(data)/2)
		}
	})
}
