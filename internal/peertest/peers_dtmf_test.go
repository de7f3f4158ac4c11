package peertest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// These tests prove the peer-side tools for DTMF, hold and transfer peer to
// peer, with no PBX in between: SIPp INFO DTMF to a SIPp UAS, RFC 4733,
// in-band and speech captures replayed by SIPp, and baresip's hold, resume
// and blind transfer against a SIPp UAS that accepts REFER. Addresses
// 127.0.0.61-69 are theirs.

const allDigits = "0123456789*#"

// WriteDTMFPcap's captures, read back without any peer: the digits are
// there in the form asked for and only in it, and the timing is as
// documented.
func TestWriteDTMFPcap(t *testing.T) {
	const digits = allDigits + "ABCD"
	for _, tc := range []struct {
		name   string
		inband bool
		each   time.Duration // per digit
	}{
		{"rfc4733", false, 100*time.Millisecond + 11*20*time.Millisecond}, // silence, 8 + 3 end packets
		{"inband", true, peertest.DTMFTone + peertest.DTMFGap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts, dur := readRTPPcap(t, peertest.WriteDTMFPcap(t, media.PCMA, digits, tc.inband))
			events := mediatest.DTMF(pkts, peertest.DTMFPayloadType)
			tones := inbandDigits(mediatest.DecodeAudio(pkts))
			wantEvents, wantTones := digits, ""
			if tc.inband {
				wantEvents, wantTones = "", digits
			}
			if events != wantEvents || tones != wantTones {
				t.Errorf("RFC 4733 %q, in-band %q; want %q, %q", events, tones, wantEvents, wantTones)
			}
			if want := peertest.DTMFLead + time.Duration(len(digits))*tc.each; dur != want {
				t.Errorf("plays %v, want %v", dur, want)
			}
		})
	}
	if _, err := peertest.InbandDTMF("12x"); !errors.Is(err, mediatest.ErrDigit) {
		t.Errorf("InbandDTMF(12x): %v", err)
	}
}

// SIPp UAC → SIPp UAS, DTMF by SIP INFO in the three modes of
// uac_info_dtmf.xml; the UAS must receive one INFO per digit, in order, with
// the body of its mode.
func TestPeersSIPpInfoDTMF(t *testing.T) {
	skipShort(t)
	for _, tc := range []struct {
		name   string
		set    []string // -set NAME VALUE pairs
		digits string
		relay  func(i int) bool // whether the i-th INFO is dtmf-relay
	}{
		{name: "alternate (defaults)", digits: allDigits, relay: func(i int) bool { return i%2 == 0 }},
		{
			name: "dtmf-relay", set: []string{"info_mode", "dtmf-relay", "digits", "5#", "info_gap", "100"},
			digits: "5#", relay: func(int) bool { return true },
		},
		{
			name: "dtmf", set: []string{"info_mode", "dtmf", "digits", "*07", "info_gap", "100"},
			digits: "*07", relay: func(int) bool { return false },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			uas := peertest.SIPp{
				Scenario: "uas_answer_info.xml", IP: "127.0.0.61", Service: "1002",
				Keys:    map[string]string{"pcap": peertest.WriteTonePcap(t, 0, time.Second, media.PCMU, "")},
				Timeout: 15 * time.Second,
			}.Start(t)
			var extra []string
			for i := 0; i+1 < len(tc.set); i += 2 {
				extra = append(extra, "-set", tc.set[i], tc.set[i+1])
			}
			uac := peertest.SIPp{
				Scenario: "uac_info_dtmf.xml", Remote: uas.Addr(), IP: "127.0.0.62", Service: "1002",
				Keys: map[string]string{
					"caller": "1001",
					"pcap":   peertest.WriteTonePcap(t, 1000, time.Second, media.PCMU, ""),
				},
				DurationMS: 200, Timeout: 15 * time.Second, Extra: extra,
			}.Start(t)
			uacRes, uasRes := uac.Wait(ctx), uas.Wait(ctx)
			for name, res := range map[string]peertest.SIPpResult{"uac": uacRes, "uas": uasRes} {
				if res.ExitCode != 0 || res.Err != nil || res.Successful != 1 {
					t.Errorf("%s: %v", name, res)
				}
			}

			var infos []string
			for _, m := range uasRes.ReceivedMessages() {
				if strings.HasPrefix(m, "INFO ") {
					infos = append(infos, m)
				}
			}
			if len(infos) != len(tc.digits) {
				t.Fatalf("UAS received %d INFOs, want %d:\n%s", len(infos), len(tc.digits), strings.Join(infos, "\n"))
			}
			lastCSeq := 1 // the INVITE's
			for i, m := range infos {
				d := tc.digits[i : i+1]
				wantType, wantBody := "application/dtmf", d
				if tc.relay(i) {
					wantType, wantBody = "application/dtmf-relay", "Signal="+d+"\r\nDuration=160\r\n"
				}
				if got := peertest.SIPHeader(m, "Content-Type"); got != wantType {
					t.Errorf("INFO %d: Content-Type %q, want %q", i, got, wantType)
				}
				if got := peertest.SIPBody(m); got != wantBody {
					t.Errorf("INFO %d: body %q, want %q", i, got, wantBody)
				}
				num, method, _ := strings.Cut(peertest.SIPHeader(m, "CSeq"), " ")
				if n := atoi(num); n <= lastCSeq || method != "INFO" {
					t.Errorf("INFO %d: CSeq %q after %d", i, peertest.SIPHeader(m, "CSeq"), lastCSeq)
				} else {
					lastCSeq = n
				}
			}
			if bye, ok := uasRes.FindReceived("BYE "); !ok {
				t.Error("UAS got no BYE")
			} else if num, _, _ := strings.Cut(peertest.SIPHeader(bye, "CSeq"), " "); atoi(num) <= lastCSeq {
				t.Errorf("BYE CSeq %q, not above the last INFO's %d", peertest.SIPHeader(bye, "CSeq"), lastCSeq)
			}
		})
	}
}

// SIPp UAC → SIPp UAS replaying WriteDTMFPcap's and WriteSpeechPcap's
// captures; dumpcap proves what arrived: the RFC 4733 digits decode back,
// the in-band digits are heard as dual tones, the speech arrives whole.
func TestPeersSIPpPcapDTMF(t *testing.T) {
	skipShort(t)
	peertest.Require(t, "sipp", "dumpcap")
	const speech = "For billing press one."
	for _, tc := range []struct {
		name  string
		pcap  func(t *testing.T) string
		check func(t *testing.T, got []mediatest.RTPPacket, sent []mediatest.RTPPacket)
	}{
		{
			name: "rfc4733",
			pcap: func(t *testing.T) string {
				t.Helper()
				return peertest.WriteDTMFPcap(t, media.PCMU, allDigits, false)
			},
			check: func(t *testing.T, got, _ []mediatest.RTPPacket) {
				t.Helper()
				if d := mediatest.DTMF(got, peertest.DTMFPayloadType); d != allDigits {
					t.Errorf("RFC 4733 digits %q, want %q", d, allDigits)
				}
				if d := inbandDigits(mediatest.DecodeAudio(got)); d != "" {
					t.Errorf("in-band digits %q in the audio, want none", d)
				}
			},
		},
		{
			name: "inband",
			pcap: func(t *testing.T) string {
				t.Helper()
				return peertest.WriteDTMFPcap(t, media.PCMU, allDigits, true)
			},
			check: func(t *testing.T, got, _ []mediatest.RTPPacket) {
				t.Helper()
				for _, p := range got {
					if p.Header.PayloadType != media.PCMU.PayloadType() {
						t.Fatalf("payload type %d in an in-band capture", p.Header.PayloadType)
					}
				}
				if d := inbandDigits(mediatest.DecodeAudio(got)); d != allDigits {
					t.Errorf("in-band digits %q, want %q", d, allDigits)
				}
			},
		},
		{
			name: "speech",
			pcap: func(t *testing.T) string {
				t.Helper()
				return peertest.WriteSpeechPcap(t, media.PCMU, speech)
			},
			check: func(t *testing.T, got, sent []mediatest.RTPPacket) {
				t.Helper()
				heard, said := mediatest.DecodeAudio(got), mediatest.DecodeAudio(sent)
				if len(heard) != len(said) || len(said) < 8000 {
					t.Fatalf("heard %d samples of %d spoken", len(heard), len(said))
				}
				if r := mediatest.RMS(heard); r < 0.02 || math.Abs(r-mediatest.RMS(said)) > 0.001 {
					t.Errorf("speech RMS %.4f, spoken %.4f", r, mediatest.RMS(said))
				}
				if d := inbandDigits(heard); d != "" {
					t.Errorf("in-band digits %q in speech", d)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pcap := tc.pcap(t)
			sent, dur := readRTPPcap(t, pcap)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			uasIP := "127.0.0.63"
			uasRTP := netip.AddrPortFrom(netip.MustParseAddr(uasIP), uint16(peertest.FreeRTPPort(t, uasIP)))
			capture := peertest.StartCapture(t, fmt.Sprintf("udp and dst host %s and dst port %d", uasRTP.Addr(), uasRTP.Port()))
			uas := peertest.SIPp{
				Scenario: "uas_answer.xml", IP: uasIP, MediaPort: int(uasRTP.Port()), Service: "1002",
				Keys:    map[string]string{"pcap": peertest.WriteTonePcap(t, 0, time.Second, media.PCMU, "")},
				Timeout: 18 * time.Second,
			}.Start(t)
			uac := peertest.SIPp{
				Scenario: "uac_call.xml", Remote: uas.Addr(), IP: "127.0.0.64", Service: "1002",
				Keys:       map[string]string{"caller": "1001", "pcap": pcap},
				DurationMS: int((dur + 500*time.Millisecond).Milliseconds()), Timeout: 18 * time.Second,
			}.Start(t)
			uacRes, uasRes := uac.Wait(ctx), uas.Wait(ctx)
			for name, res := range map[string]peertest.SIPpResult{"uac": uacRes, "uas": uasRes} {
				if res.ExitCode != 0 || res.Err != nil || res.Successful != 1 {
					t.Errorf("%s: %v", name, res)
				}
			}
			pkts, err := mediatest.ReadPcap(capture.Stop())
			if err != nil {
				t.Fatal(err)
			}
			got := mediatest.RTP(pkts, mediatest.To(uasRTP))
			if len(got) != len(sent) {
				t.Errorf("%d RTP packets arrived, the capture has %d", len(got), len(sent))
			}
			tc.check(t, got, sent)
		})
	}
}

// readRTPPcap returns the RTP packets of a capture and how long it plays.
func readRTPPcap(t *testing.T, path string) ([]mediatest.RTPPacket, time.Duration) {
	t.Helper()
	pkts, err := mediatest.ReadPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	rtp := mediatest.RTP(pkts, nil)
	if len(rtp) == 0 {
		t.Fatalf("%s holds no RTP", path)
	}
	return rtp, rtp[len(rtp)-1].Time.Sub(rtp[0].Time) + 20*time.Millisecond
}

// inbandDigits detects DTMF in 8 kHz audio, 20 ms frame by frame (Goertzel
// at the eight Q.23 frequencies): a frame holds a digit when its strongest
// row and column tones carry most of its energy and each beats the runner-up
// of its group by 10 dB. A digit counts once it fills two frames in a row.
func inbandDigits(samples []int16) string {
	const (
		frame   = 160
		keypad  = "123A456B789C*0#D"
		minRMS  = 0.01 // of full scale
		minPart = 0.8  // share of the frame's energy in the two tones
		beat    = 10.0 // power ratio over the runner-up
	)
	var rows, cols [4]float64
	for i := range 4 {
		rows[i], _, _ = peertest.DTMFFrequencies(rune(keypad[4*i]))
		_, cols[i], _ = peertest.DTMFFrequencies(rune(keypad[i]))
	}
	best := func(f []int16, freqs [4]float64) (int, float64, float64) {
		idx, top, second := 0, 0.0, 0.0
		for i, fr := range freqs {
			p := goertzel(f, fr)
			switch {
			case p > top:
				idx, top, second = i, p, top
			case p > second:
				second = p
			}
		}
		return idx, top, second
	}
	var b strings.Builder
	prev, run := byte(0), 0
	for i := 0; i+frame <= len(samples); i += frame {
		f := samples[i : i+frame]
		var energy float64
		for _, s := range f {
			energy += float64(s) * float64(s)
		}
		d := byte(0)
		if math.Sqrt(energy/frame)/32768 >= minRMS {
			r, rp, r2 := best(f, rows)
			c, cp, c2 := best(f, cols)
			if rp+cp >= minPart*energy && rp >= beat*r2 && cp >= beat*c2 {
				d = keypad[4*r+c]
			}
		}
		if d == prev {
			run++
		} else {
			prev, run = d, 1
		}
		if d != 0 && run == 2 {
			b.WriteByte(d)
		}
	}
	return b.String()
}

// goertzel returns the energy of f at freq Hz (8 kHz), scaled so that a
// sine filling the frame at exactly that frequency gives the sine's energy
// (the sum of its squared samples).
func goertzel(f []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range f {
		s1, s2 = float64(x)+coeff*s1-s2, s1
	}
	return (s1*s1 + s2*s2 - coeff*s1*s2) * 2 / float64(len(f))
}

// baresip → SIPp uas_refer.xml: /hold sends a re-INVITE with a=sendonly (the
// UAS answers a=recvonly) and stops baresip's RTP, /resume sends one with
// a=sendrecv and starts it again.
func TestPeersBaresipHoldResume(t *testing.T) {
	skipShort(t)
	peertest.Require(t, "dumpcap")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	uas := peertest.SIPp{
		Scenario: "uas_refer.xml", IP: "127.0.0.66", Service: "1002",
		Keys:    map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 15*time.Second, media.PCMU, "")},
		Timeout: 18 * time.Second,
	}.Start(t)
	uasRTP := netip.AddrPortFrom(netip.MustParseAddr(uas.Config.MediaIP), uint16(uas.Config.MediaPort))
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and dst host %s and dst port %d", uasRTP.Addr(), uasRTP.Port()))
	b := peertest.Baresip{IP: "127.0.0.65", User: "1003", Timeout: 20 * time.Second}.Start(t)
	if err := b.Dial(ctx, "sip:1002@"+uas.Addr()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitEstablished(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// The hold lasts from its ACK to the resume command, a second: long
	// enough to see the RTP stop (50 packets a second).
	var held, resuming time.Time
	for i, step := range []struct {
		name string
		do   func(context.Context) error
		want string // direction offered
	}{
		{"hold", b.Hold, "a=sendonly"},
		{"resume", b.Resume, "a=sendrecv"},
	} {
		if i == 1 {
			resuming = time.Now()
		}
		if err := step.do(ctx); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		reinvite, err := uas.WaitReceived(ctx, "INVITE ", i+2)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if sdp := peertest.SIPBody(reinvite); !strings.Contains(sdp, step.want+"\r\n") {
			t.Errorf("%s: re-INVITE without %s:\n%s", step.name, step.want, reinvite)
		}
		if _, err := uas.WaitReceived(ctx, "ACK ", i+2); err != nil { // its 200 was answered
			t.Fatalf("%s: %v", step.name, err)
		}
		if i == 0 {
			held = time.Now()
		}
		if err := pause(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitTerminated(ctx, 0); err != nil {
		t.Fatal(err)
	}
	res := uas.Wait(ctx)
	if res.ExitCode != 0 || res.Err != nil || res.Successful != 1 {
		t.Errorf("uas: %v", res)
	}
	var answers []string
	for _, m := range res.SentMessages() {
		if strings.HasPrefix(m, "SIP/2.0 200") && strings.HasSuffix(peertest.SIPHeader(m, "CSeq"), " INVITE") {
			answers = append(answers, m)
		}
	}
	if len(answers) != 3 || !strings.Contains(answers[1], "a=recvonly\r\n") || !strings.Contains(answers[2], "a=sendrecv\r\n") {
		t.Errorf("UAS answers to the INVITEs (want sendrecv, recvonly, sendrecv):\n%s", strings.Join(answers, "\n"))
	}

	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	var before, during, after int
	for _, p := range mediatest.RTP(pkts, mediatest.To(uasRTP)) {
		switch {
		case p.Time.Before(held):
			before++
		case p.Time.Before(resuming):
			during++
		default:
			after++
		}
	}
	t.Logf("baresip's RTP: %d packets before the hold, %d on hold, %d after the resume", before, during, after)
	// Packets already on their way when the hold's ACK arrived may trail it.
	if before == 0 || during > 2 || after < 25 {
		t.Errorf("baresip's RTP packets: %d before the hold, %d on hold, %d after the resume; want some, none, 25 or more",
			before, during, after)
	}
}

// pause waits d, or until ctx ends: how long a step of a call lasts, not a
// synchronisation.
func pause(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// baresip → SIPp uas_refer.xml, then /transfer: baresip sends REFER with
// Refer-To: TARGET, and after the final NOTIFY (200 OK, and also 486 Busy
// Here) it sends BYE on its own.
func TestPeersBaresipTransfer(t *testing.T) {
	skipShort(t)
	const target = "sip:1009@127.0.0.69:5099"
	for _, tc := range []struct {
		name, result string // the final NOTIFY's sipfrag status
	}{
		{"accepted", "200 OK"},
		{"failed", "486 Busy Here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			uas := peertest.SIPp{
				Scenario: "uas_refer.xml", IP: "127.0.0.68", Service: "1002",
				Keys:    map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 15*time.Second, media.PCMU, "")},
				Timeout: 18 * time.Second, Extra: []string{"-set", "refer_result", tc.result},
			}.Start(t)
			b := peertest.Baresip{IP: "127.0.0.67", User: "1003", Timeout: 20 * time.Second}.Start(t)
			if err := b.Dial(ctx, "sip:1002@"+uas.Addr()); err != nil {
				t.Fatal(err)
			}
			if _, err := b.WaitEstablished(ctx, 0); err != nil {
				t.Fatal(err)
			}
			off := b.LogOffset()
			if err := b.Transfer(ctx, target); err != nil {
				t.Fatal(err)
			}
			refer, err := uas.WaitReceived(ctx, "REFER ", 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := peertest.SIPHeader(refer, "Refer-To"); got != target {
				t.Errorf("Refer-To %q, want %q", got, target)
			}
			if _, err := b.WaitTerminated(ctx, off); err != nil {
				t.Fatal(err)
			}
			if tc.result != "200 OK" {
				if _, err := b.WaitLog(ctx, `call: transfer failed: `+tc.result); err != nil {
					t.Error(err)
				}
			}
			res := uas.Wait(ctx)
			if res.ExitCode != 0 || res.Err != nil || res.Successful != 1 {
				t.Errorf("uas: %v", res)
			}
			// From the REFER on: 202, NOTIFY 100 Trying, its 200, NOTIFY with
			// the result, its 200, then baresip's BYE and the UAS's 200.
			var ladder []string
			for _, m := range peertest.ParseSIPpMessages(res.Messages) {
				ladder = append(ladder, ladderStep(m))
			}
			want := []string{
				"<- REFER", "-> SIP/2.0 202",
				"-> NOTIFY SIP/2.0 100 Trying", "<- SIP/2.0 200",
				"-> NOTIFY SIP/2.0 " + tc.result, "<- SIP/2.0 200",
				"<- BYE", "-> SIP/2.0 200",
			}
			i := slices.Index(ladder, want[0])
			if i < 0 || !slices.Equal(ladder[i:], want) {
				t.Errorf("SIP ladder at the UAS:\n\t%s\nwant from the REFER on:\n\t%s",
					strings.Join(ladder, "\n\t"), strings.Join(want, "\n\t"))
			}
		})
	}
}

// ladderStep describes a traced message for a call-flow check: "<- " for
// received, "-> " for sent, then the method, the status code of a response,
// or for a NOTIFY its sipfrag's status line.
func ladderStep(m peertest.SIPMessage) string {
	dir := "<- "
	if m.Sent {
		dir = "-> "
	}
	f := strings.Fields(peertest.SIPStartLine(m.Text))
	switch {
	case len(f) < 2:
		return dir + strings.Join(f, " ")
	case f[0] == "SIP/2.0":
		return dir + "SIP/2.0 " + f[1]
	case f[0] == "NOTIFY":
		return dir + "NOTIFY " + peertest.SIPStartLine(peertest.SIPBody(m.Text))
	default:
		return dir + f[0]
	}
}

// atoi is strconv.Atoi with -1 for anything that is not a number.
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}
