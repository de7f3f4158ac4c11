package main

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
)

// rtpHeader is a 12-byte RTP header.
func rtpHeader(marker bool, seq uint16, ts uint32) []byte {
	b := make([]byte, 12)
	b[0] = 0x80
	if marker {
		b[1] = 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	return b
}

func TestGapsCountsSkippedTicksLossAndSwitches(t *testing.T) {
	var ph phaseFlags
	if err := ph.Set("all=0,1000"); err != nil {
		t.Fatal(err)
	}
	p := ph[0]
	a := analyzer{frame: 0.020, late: 30, promptMin: 5, promptMax: 6}
	key := streamKey{src: 20000, dst: 17000}
	at, seq, ts := 1.0, uint16(65530), uint32(0)
	send := func(marker bool) {
		a.packet(p, at, key, rtpHeader(marker, seq, ts))
		seq++
		ts += 160
		at += 0.020
	}
	for range 10 {
		send(false)
	}
	at += 0.020 // a tick skipped: 40 ms gap, sequence numbers go on
	for range 10 {
		send(false)
	}
	seq++ // a packet lost on the way
	at += 0.020
	for range 10 {
		send(false)
	}
	at += 2 // a pause, then another producer (marked) for 5 frames: a prompt
	send(true)
	for range 4 {
		send(false)
	}
	send(true) // back to the first
	for range 9 {
		send(false)
	}
	var out bytes.Buffer
	a.report(&out, p)
	got := out.String()
	for _, want := range []string{
		"streams=1 ", "pkts=45 ", "expected=47 ", "lost=1 ", "deficit=1 ", "switches=2 ",
		"late_pct=4.7619 ", // 2 of 42 gaps (the two across switches do not count)
		"gap_max_ms=40.0 ", "prompt_runs_pkts=5 ", "prompt_missing_pct=0.0000 ",
		"music_runs_pkts=42 ", "music_missing_pct=4.7619 ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

func TestDTMFCaptureReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "press.pcap")
	if err := dtmfCmd([]string{"-o", path, "-digit", "2"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := gapsCmd([]string{"-phase", "all=0,1e12", path}, &out); err != nil {
		t.Fatal(err)
	}
	// 20 ms of lead, 100 ms of silence, 8 event packets and 3 end packets
	for _, want := range []string{"streams=1 ", "pkts=17 ", "pt_other=11 ", "lost=0 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
