package calls_test

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media/sdp"
)

// reinviter is either end of a call, as siptest has it.
type reinviter interface {
	ReInvite(ctx context.Context, sdp []byte) (int, []byte, error)
}

// reinvite sends a re-INVITE with body from one end of a call and returns
// Ringdesk's answer.
func reinvite(tb testing.TB, who string, d reinviter, body []byte) (sdp.Media, []byte) {
	tb.Helper()
	code, ans, err := d.ReInvite(ctxFor(tb), body)
	if err != nil || code != 200 {
		tb.Fatalf("%s re-INVITE: %d %v", who, code, err)
	}
	return ringdeskMedia(tb, ans), ans
}

// originVersion returns the o= sess-version of an SDP body.
func originVersion(tb testing.TB, body []byte) uint64 {
	tb.Helper()
	for _, ln := range strings.Split(string(body), "\r\n") {
		if f := strings.Fields(ln); len(f) >= 3 && strings.HasPrefix(ln, "o=") {
			v, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				tb.Fatalf("o= line %q: %v", ln, err)
			}
			return v
		}
	}
	tb.Fatalf("no o= line in\n%s", body)
	return 0
}

// TestHold: either party holds with a re-INVITE (sendonly or inactive) and
// resumes. Ringdesk answers locally with the direction RFC 3264 §6.1
// requires, stops sending RTP to the party that holds (§8.4) while that
// party's own packets (music on hold) still reach the other, and reports
// CallHeld and CallResumed; the record sums the holds.
func TestHold(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	up, down := p.up(0), p.down(0)
	up.fill(t, 0x01, 3)
	down.fill(t, 0x02, 3)
	p.calleeRTP.waitPackets(t, 3, nil)
	p.callerRTP.waitPackets(t, 3, nil)
	_, initial, _ := p.call.WaitAnswer(ctxFor(t))
	version := originVersion(t, initial)
	// o= versions per leg: each leg is its own session with Ringdesk.
	versions := map[string]uint64{"caller": version, "callee": originVersion(t, p.ic.SDP)}

	// A session refresh (the same offer again) changes nothing.
	m, body := reinvite(t, "caller", p.call, p.callerRTP.SDP())
	if m.Direction != sdp.SendRecv || m.Port != p.callerSide.Port {
		t.Errorf("refresh answered %s on port %d, want sendrecv on %d", m.Direction, m.Port, p.callerSide.Port)
	}
	if v := originVersion(t, body); v != version {
		t.Errorf("o= version %d after an unchanged re-INVITE, want %d (RFC 3264 §8)", v, version)
	}

	steps := []struct {
		name      string
		holder    string
		offer     string
		answer    sdp.Direction
		holderLeg calls.LegID
	}{
		{"caller sendonly", "caller", "sendonly", sdp.RecvOnly, p.callerLeg},
		{"caller inactive", "caller", "inactive", sdp.Inactive, p.callerLeg},
		{"callee sendonly", "callee", "sendonly", sdp.RecvOnly, p.calleeLeg},
	}
	var total time.Duration
	for i, st := range steps {
		var hd reinviter = p.call
		holderPeer, otherPeer := p.callerRTP, p.calleeRTP
		fromHolder, fromOther := up, down
		if st.holder == "callee" {
			hd = p.ic
			holderPeer, otherPeer = p.calleeRTP, p.callerRTP
			fromHolder, fromOther = down, up
		}

		m, body := reinvite(t, st.name, hd, holderPeer.SDP("PCMU", "telephone-event", st.offer))
		if want := map[string]uint16{"caller": p.callerSide.Port, "callee": p.calleeSide.Port}[st.holder]; m.Port != want {
			t.Errorf("%s: Ringdesk's answer moved its media to port %d from %d", st.name, m.Port, want)
		}
		if m.Direction != st.answer {
			t.Errorf("%s: Ringdesk answered %s, want %s (RFC 3264 §6.1)", st.name, m.Direction, st.answer)
		}
		if v := originVersion(t, body); v <= versions[st.holder] {
			t.Errorf("%s: o= version %d, want more than %d: the session changed", st.name, v, versions[st.holder])
		} else {
			versions[st.holder] = v
		}
		ev := waitNth[calls.CallHeld](t, h.Obs, i+1)[i]
		if ev.By != st.holderLeg {
			t.Errorf("%s: CallHeld by %s, want %s", st.name, ev.By, st.holderLeg)
		}

		// The holder's packets still reach the other party; the other
		// party's do not reach the holder. (Sent after the held ones, the
		// holder's give the relay time to show a leak.)
		held := 0xE0 + byte(i) // sent to the holder during hold i
		n := len(otherPeer.packets())
		fromOther.fill(t, held, 5)
		fromHolder.fill(t, 0x30+byte(i), 5)
		otherPeer.waitPackets(t, n+5, nil)

		// Resume. A held packet the relay reads only after this may go
		// to the holder legitimately: only earlier arrivals count.
		resuming := time.Now()
		if got := matching(holderPeer.packets(), before(resuming, filled(held))); len(got) > 0 {
			t.Errorf("%s: the holder received %d packets sent to it during its hold (RFC 3264 §8.4: no RTP to a sendonly/inactive party)", st.name, len(got))
		}
		m, _ = reinvite(t, st.name+" resume", hd, holderPeer.SDP())
		if m.Direction != sdp.SendRecv {
			t.Errorf("%s: resume answered %s, want sendrecv", st.name, m.Direction)
		}
		res := waitNth[calls.CallResumed](t, h.Obs, i+1)[i]
		if res.By != st.holderLeg || res.HeldFor <= 0 {
			t.Errorf("%s: CallResumed by %s held for %s", st.name, res.By, res.HeldFor)
		}
		if d := res.Time().Sub(ev.Time()); res.HeldFor > d+time.Millisecond || res.HeldFor < d-5*time.Millisecond {
			t.Errorf("%s: HeldFor %s, but CallHeld and CallResumed are %s apart", st.name, res.HeldFor, d)
		}
		total += res.HeldFor

		// After the resume the other party is heard again.
		fromOther.fill(t, 0x40+byte(i), 5)
		holderPeer.waitPackets(t, 5, filled(0x40+byte(i)))
	}
	p.hangup(t)

	rec := h.ended(t)
	if rec.HoldDuration != total {
		t.Errorf("HoldDuration %s, want the sum of the holds %s", rec.HoldDuration, total)
	}
	var callerHeld, calleeHeld time.Duration
	for i, res := range waitNth[calls.CallResumed](t, h.Obs, 3) {
		if steps[i].holder == "caller" {
			callerHeld += res.HeldFor
		} else {
			calleeHeld += res.HeldFor
		}
	}
	if rec.Legs[0].HeldFor != callerHeld || rec.Legs[1].HeldFor != calleeHeld {
		t.Errorf("legs held for %s and %s, want %s and %s", rec.Legs[0].HeldFor, rec.Legs[1].HeldFor, callerHeld, calleeHeld)
	}
	if rec.TalkDuration < rec.HoldDuration {
		t.Errorf("talk %s shorter than hold %s: talk includes hold", rec.TalkDuration, rec.HoldDuration)
	}
}

// TestHoldOverlap: both parties hold, one after the other, then resume; the
// call's hold time is the time anybody held, counted once.
func TestHoldOverlap(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	reinvite(t, "caller hold", p.call, p.callerRTP.SDP("PCMU", "sendonly"))
	first := waitNth[calls.CallHeld](t, h.Obs, 1)[0]
	reinvite(t, "callee hold", p.ic, p.calleeRTP.SDP("PCMU", "sendonly"))
	waitNth[calls.CallHeld](t, h.Obs, 2)
	reinvite(t, "caller resume", p.call, p.callerRTP.SDP())
	waitNth[calls.CallResumed](t, h.Obs, 1)
	reinvite(t, "callee resume", p.ic, p.calleeRTP.SDP())
	last := waitNth[calls.CallResumed](t, h.Obs, 2)[1]
	p.hangup(t)
	rec := h.ended(t)
	if want := last.Time().Sub(first.Time()); rec.HoldDuration > want+time.Millisecond || rec.HoldDuration < want-5*time.Millisecond {
		t.Errorf("HoldDuration %s, want about %s: from the first hold to the last resume", rec.HoldDuration, want)
	}
}

// TestHeldAtHangup: a call that ends on hold counts the hold up to its end.
func TestHeldAtHangup(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	reinvite(t, "caller hold", p.call, p.callerRTP.SDP("PCMU", "inactive"))
	held := waitEvent[calls.CallHeld](t, h.Obs, nil)
	p.hangup(t)
	rec := h.ended(t)
	if want := rec.Ended.Sub(held.Time()); rec.HoldDuration > want+time.Millisecond || rec.HoldDuration < want-5*time.Millisecond {
		t.Errorf("HoldDuration %s, want about %s (hold to end)", rec.HoldDuration, want)
	}
	if rec.Legs[0].HeldFor != rec.HoldDuration {
		t.Errorf("caller leg held for %s, call for %s", rec.Legs[0].HeldFor, rec.HoldDuration)
	}
}

// TestReInviteWithoutSDP: a re-INVITE with no body gets Ringdesk's offer in
// the 200, and the answer in the ACK is applied: here it moves the caller's
// media to another port, then holds.
func TestReInviteWithoutSDP(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	raw := newRawSIP(t, h.UDP)
	d := callerDialog(t, p.caller, p.call, "1002")

	res := raw.reInvite(t, d, 10, nil)
	if res.code != 200 {
		t.Fatalf("re-INVITE without SDP got %d, want 200", res.code)
	}
	offer := ringdeskMedia(t, res.body)
	if offer.Direction != sdp.SendRecv || offer.Port != p.callerSide.Port || len(offer.Codecs) == 0 {
		t.Errorf("Ringdesk's offer %+v, want sendrecv on the call's port %d", offer, p.callerSide.Port)
	}
	moved := newRTPPeer(t, "caller, moved")
	raw.ack(t, d, 10, moved.SDP())
	// The callee's audio now goes to the new port.
	down := p.down(0)
	deadline := time.Now().Add(waitFor)
	for len(moved.packets()) == 0 && time.Now().Before(deadline) {
		down.fill(t, 0x55, 1) // until the ACK has been applied
		<-time.After(5 * time.Millisecond)
	}
	moved.waitPackets(t, 1, filled(0x55))

	// Once more, answering sendonly in the ACK: that is a hold.
	res = raw.reInvite(t, d, 11, nil)
	if res.code != 200 {
		t.Fatalf("second re-INVITE got %d", res.code)
	}
	raw.ack(t, d, 11, moved.SDP("PCMU", "telephone-event", "sendonly"))
	held := waitEvent[calls.CallHeld](t, h.Obs, nil)
	if held.By != p.callerLeg {
		t.Errorf("CallHeld by %s, want the caller %s", held.By, p.callerLeg)
	}
	// The caller's own CSeq is now below the raw requests', so the callee
	// hangs up.
	if code, err := p.ic.Bye(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("callee BYE: %d %v", code, err)
	}
	waitBye(t, "caller", p.call)
	if rec := h.ended(t); rec.HoldDuration <= 0 {
		t.Errorf("HoldDuration %s after a hold answered in an ACK", rec.HoldDuration)
	}
}

// TestReInviteRefused: an offer Ringdesk cannot take is refused, and the
// call goes on with what it had.
func TestReInviteRefused(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	code, _, err := p.call.ReInvite(ctxFor(t), p.callerRTP.SDP("G722"))
	if err != nil || code != 488 {
		t.Errorf("re-INVITE with only G722: %d %v, want 488", code, err)
	}
	code, _, err = p.ic.ReInvite(ctxFor(t), []byte("v=0\r\nthis is not sdp\r\n"))
	if err != nil || (code != 400 && code != 488) {
		t.Errorf("re-INVITE with garbage SDP: %d %v, want 400 or 488", code, err)
	}
	p.up(0).fill(t, 0x10, 5)
	p.calleeRTP.waitPackets(t, 5, nil)
	p.hangup(t)
	if rec := h.ended(t); rec.Cause != calls.CauseNormal || rec.Legs[0].Codec != "PCMU" {
		t.Errorf("record cause %s codec %s", rec.Cause, rec.Legs[0].Codec)
	}
}

// talker sends a packet on each of its streams every 20 ms until stopped.
type talker struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func talk(tb testing.TB, streams ...*stream) *talker {
	tb.Helper()
	tk := &talker{stop: make(chan struct{})}
	tk.wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tk.stop:
				return
			case <-tick.C:
				for _, s := range streams {
					s.fill(tb, 0x7F, 1)
				}
			}
		}
	})
	tb.Cleanup(tk.halt)
	return tk
}

func (tk *talker) halt() {
	select {
	case <-tk.stop:
	default:
		close(tk.stop)
	}
	tk.wg.Wait()
}

// TestMediaTimeout: a party that sends no RTP for MediaTimeout ends the
// call; both phones get BYE with the cause.
func TestMediaTimeout(t *testing.T) {
	const timeout = time.Second
	for _, tc := range []struct {
		name           string
		caller, callee bool // who talks
	}{
		{"nobody sends", false, false},
		{"only the caller sends", true, false},
		{"only the callee sends", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withCalls(func(c *calls.Config) { c.MediaTimeout = timeout }))
			p := h.connect(t, nil, nil)
			var streams []*stream
			if tc.caller {
				streams = append(streams, p.up(0))
			}
			if tc.callee {
				streams = append(streams, p.down(0))
			}
			tk := talk(t, streams...)
			answered := time.Now()
			byeCaller := waitBye(t, "caller", p.call)
			waitBye(t, "callee", p.ic)
			took := time.Since(answered)
			tk.halt()
			if took < timeout-50*time.Millisecond || took > timeout+time.Second {
				t.Errorf("BYE %s after the answer, want about the media timeout %s", took, timeout)
			}
			if r := byeCaller.Header("Reason"); !strings.Contains(r, "cause=102") {
				t.Errorf("BYE Reason %q, want Q.850 cause 102", r)
			}
			rec := h.ended(t)
			if rec.Cause != calls.CauseMediaTimeout || rec.HungUpBy != calls.RoleSystem || rec.Status != 200 {
				t.Errorf("record cause %s hung up by %s status %d; want media_timeout system 200", rec.Cause, rec.HungUpBy, rec.Status)
			}
		})
	}
}

// TestMediaTimeoutSuspendedOnHold: a hold longer than the media timeout does
// not end the call; after the resume the watchdog is armed again.
func TestMediaTimeoutSuspendedOnHold(t *testing.T) {
	const timeout = time.Second
	h := newHarness(t, withCalls(func(c *calls.Config) { c.MediaTimeout = timeout }))
	p := h.connect(t, nil, nil)
	callEnded := func() bool { return count[calls.CallEnded](h.Obs) > 0 }

	reinvite(t, "caller hold", p.call, p.callerRTP.SDP("PCMU", "sendonly"))
	<-time.After(timeout + timeout/5) // a silent hold, longer than the timeout
	if callEnded() {
		t.Fatalf("the call ended during a hold: %+v", h.ended(t))
	}
	reinvite(t, "caller resume", p.call, p.callerRTP.SDP())
	resumed := time.Now()
	tk := talk(t, p.up(0), p.down(0))
	<-time.After(timeout + timeout/10) // talking after the resume
	if callEnded() {
		t.Fatalf("the call ended while both parties talked after a resume: %+v", h.ended(t))
	}
	tk.halt()
	silent := time.Now()
	waitBye(t, "caller", p.call)
	waitBye(t, "callee", p.ic)
	if d := time.Since(silent); d > timeout+500*time.Millisecond {
		t.Errorf("media timeout %s after the parties fell silent, want about %s", d, timeout)
	}
	rec := h.ended(t)
	if rec.Cause != calls.CauseMediaTimeout {
		t.Errorf("cause %s, want media_timeout", rec.Cause)
	}
	if rec.HoldDuration < timeout || rec.Ended.Sub(resumed) < timeout {
		t.Errorf("hold %s, %s after resume", rec.HoldDuration, rec.Ended.Sub(resumed))
	}
}

// TestHoldRFC2543: the old way to hold, c=0.0.0.0 (RFC 3264 §8.4), is a
// hold too; RTP to the holder stops until it gives an address again, and
// the other party hears Ringdesk's hold music, not the holder.
func TestHoldRFC2543(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	zero := netip.AddrPortFrom(netip.IPv4Unspecified(), p.callerRTP.Addr.Port())
	m, _ := reinvite(t, "caller hold", p.call, phoneSDP(zero))
	if m.Direction != sdp.RecvOnly && m.Direction != sdp.Inactive {
		t.Errorf("answer to a c=0.0.0.0 offer is %s, want recvonly (or inactive)", m.Direction)
	}
	held := waitEvent[calls.CallHeld](t, h.Obs, nil)
	if held.By != p.callerLeg {
		t.Errorf("CallHeld by %s, want %s", held.By, p.callerLeg)
	}
	down := p.down(0)
	down.fill(t, 0xEE, 5)
	p.up(0).fill(t, 0x02, 5)            // gives the relay time to show a leak
	p.calleeRTP.waitPackets(t, 25, nil) // hold music
	if n := len(matching(p.calleeRTP.packets(), filled(0x02))); n > 0 {
		t.Errorf("%d packets of the holding party reached the held one", n)
	}
	resuming := time.Now()
	if n := len(matching(p.callerRTP.packets(), before(resuming, filled(0xEE)))); n > 0 {
		t.Errorf("%d packets relayed to a party on hold", n)
	}
	reinvite(t, "caller resume", p.call, p.callerRTP.SDP())
	waitEvent[calls.CallResumed](t, h.Obs, nil)
	down.fill(t, 0x01, 5)
	p.callerRTP.waitPackets(t, 5, filled(0x01))
	p.hangup(t)
}
