package calls

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/ringdesk/ringdesk/media"
)

// DigitINFO is the DigitReceived source of a SIP INFO keypress.
const DigitINFO = "info"

// sameKeyWindow: the same key reported by a second method (RFC 4733 and
// INFO, say) this soon after the first is one keypress, not two.
const sameKeyWindow = 300 * time.Millisecond

// connected reports whether leg is in the conversation.
func (c *Call) connected(leg *Leg) bool { return slices.Contains(c.parties, leg) }

// listen routes the digits the leg's media detects to the supervisor.
func (c *Call) listen(leg *Leg) {
	leg.rtp.OnDigit(func(d media.Digit) { c.post(leg, d) })
}

// keypress reports one key of a leg, once: the same key from another
// method within sameKeyWindow is the same press.
func (c *Call) keypress(leg *Leg, d byte, source string) {
	now := time.Now()
	last := leg.lastKey
	if last.digit == d && last.source != source && now.Sub(last.at) < sameKeyWindow {
		return
	}
	leg.lastKey = lastDigit{digit: d, source: source, at: now}
	c.log.Debug("digit", "leg_id", string(leg.id), "digit", string(rune(d)), "source", source)
	c.sw.observe(DigitReceived{base: c.base(), Leg: leg.id, Digit: d, Source: source})
	c.flowDigit(leg, d)
}

// canHear: Ringdesk may send to the leg (its phone is not holding).
func (l *Leg) canHear() bool { return l.hasNeg && l.neg.Direction.Sends() && !l.parked }

// heard: the leg's audio goes to the others.
func (l *Leg) heard() bool {
	return !l.holding() && !l.apiHeld && !l.parked && !l.ringback
}

// needsInband: the leg's DTMF can only be heard in its audio.
func (c *Call) needsInband(l *Leg) bool {
	switch c.sw.cfg.InbandDTMF {
	case InbandAlways:
		return true
	case InbandNever:
		return false
	}
	return l.hasNeg && l.neg.DTMF == nil
}

// rewire sets up the media of the connected parties from their state. Two
// parties who hear each other, with nothing tapping the audio, stay on the
// relay fast path; a third party, a recording or in-band DTMF detection
// brings in the mixer. A party held by Ringdesk, or left alone, hears the
// shared hold music; one waiting for a transfer target hears ringback.
func (c *Call) rewire() {
	var active []*Leg
	for _, p := range c.parties {
		if p.heard() {
			active = append(active, p)
		}
	}
	// what each party hears from a shared stream
	want := make(map[*Leg]*media.MusicStream, len(c.parties))
	for _, p := range c.parties {
		switch {
		case !p.canHear(), c.promptFor(p) && p.heard(), p.quiet:
		case p.ringback:
			want[p] = c.sw.ringback
		case p.apiHeld, len(active) == 1 && active[0] == p, len(active) == 0:
			want[p] = c.sw.music
		}
	}
	needMixer := c.recTap() != nil || len(active) > 2 || len(c.playing) > 0
	for _, p := range c.parties {
		if c.needsInband(p) {
			needMixer = true
		}
	}
	// Streams stop first, so no party has two producers for long.
	for _, p := range c.parties {
		if p.stream != nil && want[p] != p.stream {
			p.stream.Remove(p.rtp)
			p.stream = nil
		}
	}
	if needMixer {
		if c.mixer == nil {
			c.mixer = media.NewMixer(nil, c.log)
			c.mixer.SetTap(c.recTap())
		}
		for _, p := range c.parties {
			inband := c.needsInband(p)
			if p.part != nil && p.inband != inband {
				p.part.Remove()
				p.part = nil
			}
			if p.part == nil {
				ch := media.ChannelAgent
				if p == c.caller {
					ch = media.ChannelCustomer
				}
				part, err := c.mixer.Add(p.rtp, media.ParticipantOptions{Channel: ch, DetectInband: inband})
				if err != nil {
					c.log.Error("joining the mixer failed", "leg_id", string(p.id), "error", err)
					continue
				}
				p.part, p.inband = part, inband
			}
			p.part.SetMuted(!p.heard())
			p.part.SetDeaf(!p.canHear() || want[p] != nil)
		}
		c.startPlayback()
	} else {
		if c.mixer != nil {
			c.mixer.Close()
			c.mixer = nil
			for _, p := range c.parties {
				p.part = nil
			}
		}
		for _, p := range c.parties {
			p.rtp.SetPeer(nil)
		}
		if len(active) == 2 {
			media.Bridge(active[0].rtp, active[1].rtp)
		}
	}
	for _, p := range c.parties {
		if w := want[p]; w != nil && p.stream != w {
			w.Add(p.rtp)
			p.stream = w
		}
	}
	c.holdClock(time.Now())
}

// detach takes a leg out of the media of the conversation.
func (c *Call) detach(leg *Leg) {
	if leg.stream != nil {
		leg.stream.Remove(leg.rtp)
		leg.stream = nil
	}
	if leg.part != nil {
		leg.part.Remove()
		leg.part = nil
	}
	if leg.rtp != nil {
		leg.rtp.SetPeer(nil)
		leg.rtp.OnDigit(nil)
	}
	for _, p := range c.parties {
		if p != leg && p.rtp != nil && p.rtp.Peer() == leg.rtp {
			p.rtp.SetPeer(nil)
		}
	}
}

// recTap is the mixer's tap: the recorder, or nil.
func (c *Call) recTap() media.FrameTap {
	switch {
	case c.rec != nil:
		return c.rec
	case c.route != nil && c.route.vmRec != nil:
		return c.route.vmRec
	}
	return nil
}

// startRecording records the call from now on, into
// recordings/YYYY/MM/DD/<call id>.wav.
func (c *Call) startRecording() error {
	if c.rec != nil {
		return nil
	}
	now := time.Now()
	path := filepath.Join(c.sw.cfg.RecordingsDir, now.Format("2006"), now.Format("01"), now.Format("02"), string(c.id)+".wav")
	if c.recording != nil && !c.recording.Deleted {
		// a second recording of the same call (after a stop)
		path = filepath.Join(filepath.Dir(path), string(c.id)+"-"+now.Format("150405")+".wav")
	}
	r, err := media.StartRecorder(path, c.log)
	if err != nil {
		c.log.Error("recording failed to start", "error", err)
		return err
	}
	c.rec = r
	c.recording = &Recording{Path: path}
	if c.mixer != nil {
		c.mixer.SetTap(r)
	}
	c.rewire()
	c.log.Debug("recording", "path", path)
	c.sw.observe(RecordingStarted{base: c.base(), Path: path})
	return nil
}

// stopRecording finishes the recording file, if any.
func (c *Call) stopRecording() {
	if c.rec == nil {
		return
	}
	if c.mixer != nil {
		c.mixer.SetTap(nil)
	}
	res, err := c.rec.Stop()
	if err != nil {
		c.log.Warn("recording incomplete", "path", res.Path, "error", err)
	}
	c.rec = nil
	c.recording = &Recording{Path: res.Path, Duration: res.Duration, Size: res.Size}
}
