package dialer

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/sdp"
)

const (
	// cancelWait is how long, after a CANCEL, we wait for the INVITE's
	// final response (normally 487) before giving up on it.
	cancelWait = 5 * time.Second
	// byeWait bounds the BYE transaction (RFC 3261 Timer F is 32 s).
	byeWait = 5 * time.Second
	// heardBuffer bounds the digits heard that wait to be reported.
	heardBuffer = 64
	// maxAuths is how many challenges in a row the INVITE answers.
	maxAuths = 2
	// dtmfPayloadType is telephone-event's payload type in our offer.
	dtmfPayloadType = 101
)

// Option configures a Dialer.
type Option func(*Dialer) error

// WithProgress makes Run call f with every event as it happens, from
// Run's goroutine, in order: the CLI prints the summary as the call goes.
func WithProgress(f func(Event)) Option {
	return func(d *Dialer) error {
		d.progress = f
		return nil
	}
}

// Dialer places one test call, as a softphone following a Script would.
// Build it with New; Run it once.
type Dialer struct {
	s        Script
	log      *slog.Logger
	progress func(Event)
	used     atomic.Bool
}

// New checks s (see Script.Validate) and prepares a Dialer; log (nil:
// discard) gets the call's lifecycle at info and SIP detail at debug.
func New(s Script, log *slog.Logger, opts ...Option) (*Dialer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dialer{s: s.withDefaults(), log: log}
	for _, o := range opts {
		if err := o(d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Run places the call and returns what happened once it is over: after
// Script.Duration of conversation, when the far end hangs up, when it
// rejects the call, when Script.Timeout passes while ringing (CANCEL), or
// when ctx ends (BYE or CANCEL). An unanswered call is a Result with
// Answered false, not an error; errors are local failures (sockets, the
// recording file) and ErrAnswerUnusable. Every goroutine Run starts has
// ended when it returns.
func (d *Dialer) Run(ctx context.Context) (Result, error) {
	if d.used.Swap(true) {
		return Result{}, ErrUsed
	}
	c := &call{
		s: d.s, log: d.log, progress: d.progress,
		byeCh: make(chan struct{}),
		heard: make(chan heardDigit, heardBuffer),
		sent:  make(chan SentDigit, len(d.s.Digits)),
	}
	return c.run(ctx)
}

// heardDigit is a digit from the far end, waiting to be reported.
type heardDigit struct {
	digit  dtmf.Digit
	method string
	at     time.Time
}

// call is the state of one Run. Its fields belong to Run's goroutine
// unless noted.
type call struct {
	s        Script
	log      *slog.Logger
	progress func(Event)
	res      Result

	rtp *media.Session
	mix *media.Mixer
	src *sender
	tap *listener
	rec *recording
	ph  *phone

	tapOn   bool
	t0      time.Time // the INVITE went out
	tAnswer time.Time

	sdpMu sync.Mutex // guards local and offer (re-INVITEs come on sipgo's goroutines)
	local sdp.Local
	offer *sdp.Offer

	wg      sync.WaitGroup // the recording's writer
	digits  sync.WaitGroup // the digit sender
	byeOnce sync.Once
	byeCh   chan struct{}   // closed when the far end hangs up
	heard   chan heardDigit // from the RTP reader, the mixer and INFO handlers
	sent    chan SentDigit  // from the digit sender
}

func (c *call) run(ctx context.Context) (Result, error) {
	c.res = Result{Target: c.s.Target, Server: c.s.Server, Transport: c.s.Transport}
	err := c.open(ctx)
	if err == nil {
		err = c.call(ctx)
	}
	c.close()
	if c.tapOn || c.rec != nil {
		e := Event{Kind: EventHeard, Heard: c.res.Heard, Path: c.res.Recording}
		if c.rec != nil && c.rec.err != nil {
			e.Error = "recording failed: " + c.rec.err.Error()
			err = errors.Join(err, fmt.Errorf("record %s: %w", c.rec.path, c.rec.err))
		} else if n := c.tap.lost.Load(); n > 0 {
			e.Error = fmt.Sprintf("%d frames lost: the disk was too slow", n)
		}
		c.emit(e)
	}
	return c.res, err
}

// emit records e and reports it.
func (c *call) emit(e Event) {
	c.res.Events = append(c.res.Events, e)
	if c.progress != nil {
		c.progress(e)
	}
}

// open prepares the media (RTP session, mixer, recording) and the SIP user
// agent.
func (c *call) open(ctx context.Context) error {
	host, port, err := splitServer(c.s.Server)
	if err != nil {
		return err
	}
	server, err := resolve(ctx, host, port, c.s.Bind)
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.s.Bind, 0)))
	if err != nil {
		return fmt.Errorf("rtp socket on %s: %w", c.s.Bind, err)
	}
	rtpPort := conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	c.rtp = media.NewSessionConn(conn, netip.AddrPortFrom(c.s.Bind, rtpPort), c.log)
	c.rtp.OnDigit(func(d media.Digit) { c.heardDigit(d.Digit, d.Source) })
	c.mix = media.NewMixer(nil, c.log)
	if _, err = c.mix.Add(c.rtp, media.ParticipantOptions{Channel: media.ChannelCustomer, DetectInband: true}); err != nil {
		return fmt.Errorf("rtp: %w", err)
	}
	c.src = newSender(c.s.Audio, c.s.Tone)
	c.tap = &listener{sess: c.rtp}
	if c.s.Record != "" {
		if c.rec, err = createRecording(c.s.Record, c.log); err != nil {
			return err
		}
		frames := make(chan [media.FrameSamples]int16, recordQueue)
		c.tap.frames = frames
		c.wg.Go(func() { c.rec.write(frames) })
	}
	c.local = sdp.Local{
		Addr: c.s.Bind, Port: rtpPort,
		Codecs: []sdp.Codec{sdp.PCMU, sdp.PCMA}, DTMF: true, DTMFPayloadType: dtmfPayloadType,
		SessionID: sessionID(), Version: 1, Ptime: int(media.FrameDuration / time.Millisecond),
		UserName: "ringdesk-dial",
	}
	c.offer = sdp.NewOffer(c.local)
	c.ph, err = newPhone(ctx, c.s, server, c.log, phoneHandlers{
		bye:       func() { c.byeOnce.Do(func() { close(c.byeCh) }) },
		info:      c.onInfo,
		offer:     c.onOffer,
		ackAnswer: c.onAckAnswer,
	})
	return err
}

// close stops SIP, then the media, and finishes the recording.
func (c *call) close() {
	if c.ph != nil {
		c.ph.close()
	}
	if c.mix != nil {
		c.mix.SetTap(nil)
		c.mix.Close()
	}
	if c.rtp != nil {
		_ = c.rtp.Close()
	}
	if c.tap != nil && c.tap.frames != nil {
		close(c.tap.frames) // the mixer, which wrote them, is closed
	}
	c.wg.Wait()
	if c.tap != nil {
		c.res.Heard = c.tap.Heard()
	}
	if c.rec != nil {
		c.res.Recording = c.rec.path
		c.res.RecordingLength = c.rec.duration()
	}
}

// resolve finds the server's address in the family of bind.
func resolve(ctx context.Context, host string, port uint16, bind netip.Addr) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if ip.Is4() != bind.Is4() {
			return netip.AddrPort{}, fmt.Errorf("%w: server %s and bind address %s are not of the same IP version", ErrBadScript, ip, bind)
		}
		return netip.AddrPortFrom(ip, port), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve server %s: %w", host, err)
	}
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Is4() == bind.Is4() {
			return netip.AddrPortFrom(ip, port), nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("resolve server %s: no address of the IP version of %s", host, bind)
}

// call dials, rings, talks and hangs up.
func (c *call) call(ctx context.Context) error {
	c.emit(Event{Kind: EventDialing, Target: c.s.Target, Server: c.s.Server, Transport: c.s.Transport})
	c.t0 = time.Now()
	tx, inv, err := c.ph.invite(ctx, c.s.Target, c.s.From, c.offer.Marshal())
	if d := c.ph.dialog(); d != nil {
		c.res.SIPCallID = d.callID
		c.log = c.log.With("sip_call_id", d.callID)
	}
	if err != nil {
		c.fail(OutcomeNoResponse, nil, err)
		return err
	}
	c.log.Info("dialing", "target", c.s.Target, "server", c.s.Server, "transport", c.s.Transport)
	answered, err := c.ring(ctx, tx, inv)
	if !answered || err != nil {
		return err
	}
	return c.talk(ctx)
}

// fail ends an unanswered call with its final response (nil: none).
func (c *call) fail(o Outcome, res *sip.Response, err error) {
	e := Event{Kind: EventFailed, At: time.Since(c.t0), Outcome: o}
	if res != nil {
		e.Status, e.Reason = res.StatusCode, res.Reason
		c.res.Status, c.res.Reason, c.res.From = res.StatusCode, res.Reason, responseFrom(res)
	}
	if err != nil {
		e.Error = err.Error()
	}
	c.res.Outcome = o
	c.log.Info("call not answered", "outcome", o, "status", c.res.Status, "error", e.Error)
	c.emit(e)
}

// ring reads the INVITE's responses until the final one, the timeout or
// the end of ctx. It reports whether the call was answered.
func (c *call) ring(ctx context.Context, tx sip.ClientTransaction, inv *sip.Request) (bool, error) {
	defer func() { tx.Terminate() }()
	timeout := time.NewTimer(c.s.Timeout)
	defer timeout.Stop()
	auths, provisional := 0, false
	for {
		select {
		case res := <-tx.Responses():
			switch {
			case res.IsProvisional():
				provisional = true
				c.provisional(res)
			case (res.StatusCode == 401 || res.StatusCode == 407) && auths < maxAuths && c.s.User != "":
				auths++
				next, req, alg, err := c.ph.authenticate(ctx, inv, res)
				if err != nil {
					c.fail(OutcomeRejected, res, err)
					return false, nil
				}
				c.emit(Event{Kind: EventChallenged, At: time.Since(c.t0), Status: res.StatusCode, Reason: res.Reason, User: c.s.User, Method: alg})
				tx.Terminate()
				tx, inv = next, req
			case res.IsSuccess():
				return true, c.answer(ctx, res)
			default:
				c.fail(OutcomeRejected, res, nil)
				return false, nil
			}
		case <-tx.Done():
			err := tx.Err()
			if err == nil {
				err = ErrNoResponse
			}
			c.fail(OutcomeNoResponse, nil, err)
			return false, nil
		case <-timeout.C:
			return c.giveUp(ctx, tx, inv, OutcomeNoAnswer, provisional)
		case <-ctx.Done():
			return c.giveUp(ctx, tx, inv, OutcomeInterrupted, provisional)
		}
	}
}

// giveUp cancels the INVITE (RFC 3261 §9.1) and waits for its final
// response. Without a provisional response yet, no CANCEL may be sent: the
// transaction is dropped.
func (c *call) giveUp(ctx context.Context, tx sip.ClientTransaction, inv *sip.Request, o Outcome, provisional bool) (bool, error) {
	if !provisional {
		// Nothing came back at all: no CANCEL (RFC 3261 §9.1), and the
		// call did not ring.
		if o == OutcomeNoAnswer {
			o = OutcomeNoResponse
		}
		c.fail(o, nil, nil)
		return false, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelWait)
	defer cancel()
	if code, err := c.ph.cancel(cctx, inv); err != nil || code >= 300 {
		c.log.Warn("CANCEL failed", "status", code, "error", err)
	}
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			var err error
			if res.IsSuccess() {
				// Answered as we gave up: acknowledge, then hang up.
				c.ph.dialog().establish(res)
				_ = c.ph.ack(res.CSeq().SeqNo)
				_, _ = c.ph.bye(cctx)
				err = errors.New("answered as we gave up; hung up at once")
			}
			c.fail(o, res, err)
			return false, nil
		case <-tx.Done():
			c.fail(o, nil, nil)
			return false, nil
		case <-cctx.Done():
			c.fail(o, nil, errors.New("no answer to the CANCEL"))
			return false, nil
		}
	}
}

// provisional handles a 1xx: ringing, and early media when it has SDP.
func (c *call) provisional(res *sip.Response) {
	if res.StatusCode == 100 {
		return
	}
	at := time.Since(c.t0)
	if c.res.Ringing == 0 {
		c.res.Ringing = at
		c.log.Info("ringing", "status", res.StatusCode)
		c.emit(Event{Kind: EventRinging, At: at, Status: res.StatusCode, Reason: res.Reason})
	}
	if c.res.EarlyMedia || !hasSDP(res) {
		return
	}
	codec, err := c.applyAnswer(res.Body())
	if err != nil {
		c.log.Warn("early media SDP unusable", "status", res.StatusCode, "error", err)
		return
	}
	c.res.EarlyMedia, c.res.Codec = true, codec
	c.startTap()
	c.emit(Event{Kind: EventEarlyMedia, At: at, Status: res.StatusCode, Reason: res.Reason, Codec: codec})
}

// answer handles the 2xx: the dialog, the ACK, the SDP answer.
func (c *call) answer(ctx context.Context, res *sip.Response) error {
	c.tAnswer = time.Now()
	c.ph.dialog().establish(res)
	if err := c.ph.ack(res.CSeq().SeqNo); err != nil {
		c.log.Warn("ACK not sent", "error", err)
	}
	c.res.Answered, c.res.Status, c.res.Reason, c.res.From = true, res.StatusCode, res.Reason, responseFrom(res)
	c.res.AnsweredAfter = c.tAnswer.Sub(c.t0)
	var err error
	switch {
	case hasSDP(res):
		var codec string
		if codec, err = c.applyAnswer(res.Body()); err == nil {
			c.res.Codec = codec
		}
	case !c.res.EarlyMedia:
		err = errors.New("the 2xx has no SDP answer")
	}
	c.log.Info("answered", "status", res.StatusCode, "codec", c.res.Codec, "from", c.res.From)
	c.emit(Event{Kind: EventAnswered, At: c.res.AnsweredAfter, Status: res.StatusCode, Reason: res.Reason, From: c.res.From, Codec: c.res.Codec})
	if err == nil {
		return nil
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeWait)
	defer cancel()
	_, _ = c.ph.bye(bctx)
	c.res.Outcome = OutcomeFailed
	c.emit(Event{Kind: EventHungUp, At: time.Since(c.tAnswer), Outcome: OutcomeFailed, Error: err.Error()})
	return fmt.Errorf("%w: %w", ErrAnswerUnusable, err)
}

// talk runs the answered call: audio, digits, then the hang-up.
func (c *call) talk(ctx context.Context) error {
	c.startTap()
	c.mix.Play(c.src, media.ChannelAgent, nil)
	dctx, stopDigits := context.WithCancel(ctx)
	defer stopDigits()
	c.digits.Go(func() { c.sendDigits(dctx) })

	end := time.NewTimer(c.s.Duration)
	defer end.Stop()
	var o Outcome
loop:
	for {
		select {
		case <-end.C:
			o = OutcomeHungUp
			break loop
		case <-c.byeCh:
			o = OutcomeRemoteHungUp
			break loop
		case <-ctx.Done():
			o = OutcomeInterrupted
			break loop
		case sd := <-c.sent:
			c.digitSent(sd)
		case hd := <-c.heard:
			c.reportHeard(hd)
		}
	}
	talk := time.Since(c.tAnswer)
	stopDigits()
	c.waitDigits()
	e := Event{Kind: EventHungUp, At: talk, Outcome: o}
	if o != OutcomeRemoteHungUp {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeWait)
		code, err := c.ph.bye(bctx)
		cancel()
		switch {
		case err != nil:
			e.Error = "BYE: " + err.Error()
		case code >= 300:
			e.Error = "BYE answered " + statusText(code, "")
		}
	}
	c.res.Talk, c.res.Outcome = talk, o
	c.log.Info("hung up", "outcome", o, "talk", talk)
	c.emit(e)
	return nil
}

// waitDigits waits for the digit sender to stop and reports what it and
// the far end sent meanwhile.
func (c *call) waitDigits() {
	c.digits.Wait()
	for {
		select {
		case sd := <-c.sent:
			c.digitSent(sd)
		case hd := <-c.heard:
			c.reportHeard(hd)
		default:
			return
		}
	}
}

// startTap starts hearing (and recording), once.
func (c *call) startTap() {
	if !c.tapOn {
		c.tapOn = true
		c.mix.SetTap(c.tap)
	}
}

// sendDigits sends the Script's digits at their times after the answer.
func (c *call) sendDigits(ctx context.Context) {
	for _, sd := range c.s.Digits {
		if wait := time.Until(c.tAnswer.Add(sd.At)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		at := time.Since(c.tAnswer)
		err := c.sendDigit(ctx, sd.Digit)
		if err != nil && ctx.Err() != nil {
			return // hung up while the digit went out
		}
		msg := SentDigit{Digit: sd.Digit.String(), At: at, Method: c.s.DTMF}
		if err != nil {
			msg.Error = err.Error()
		}
		c.sent <- msg // room for every digit: never blocks
	}
}

// sendDigit sends one digit with the Script's method and returns once it
// has gone out.
func (c *call) sendDigit(ctx context.Context, d dtmf.Digit) error {
	switch c.s.DTMF {
	case MethodInband:
		if !c.src.press(d) {
			return fmt.Errorf("%w: %q", dtmf.ErrMalformed, byte(d))
		}
		t := time.NewTimer(DigitDuration + inbandPause)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	case MethodInfo:
		ct, body := dtmf.InfoBody(d, DigitDuration)
		res, err := c.ph.do(ctx, sip.INFO, ct, body)
		if err != nil {
			return err
		}
		if res.StatusCode >= 300 {
			return fmt.Errorf("INFO answered %s", statusText(res.StatusCode, res.Reason))
		}
		return nil
	default:
		return c.rtp.SendDigit(ctx, d, DigitDuration)
	}
}

func (c *call) digitSent(sd SentDigit) {
	c.res.DigitsSent = append(c.res.DigitsSent, sd)
	c.emit(Event{Kind: EventDigitSent, At: sd.At, Digit: sd.Digit, Method: sd.Method.String(), Error: sd.Error})
}

// heardDigit queues a digit from the far end; called from the RTP reader,
// the mixer or an INFO handler, it never blocks.
func (c *call) heardDigit(d dtmf.Digit, method string) {
	select {
	case c.heard <- heardDigit{digit: d, method: method, at: time.Now()}:
	default:
	}
}

func (c *call) reportHeard(hd heardDigit) {
	at := hd.at.Sub(c.tAnswer)
	c.res.DigitsHeard = append(c.res.DigitsHeard, HeardDigit{Digit: hd.digit.String(), At: at, Method: hd.method})
	c.emit(Event{Kind: EventDigitHeard, At: at, Digit: hd.digit.String(), Method: hd.method})
}

// onInfo reports a digit the far end sent by SIP INFO.
func (c *call) onInfo(contentType string, body []byte) {
	if d, _, err := dtmf.ParseInfo(contentType, body); err == nil {
		c.heardDigit(d, MethodInfo.String())
	}
}

// applyAnswer applies an SDP answer to our offer and returns the codec.
func (c *call) applyAnswer(body []byte) (string, error) {
	ans, err := sdp.ParseAnswer(body)
	if err != nil {
		return "", err
	}
	c.sdpMu.Lock()
	offer := c.offer
	c.sdpMu.Unlock()
	n, err := ans.Negotiate(offer)
	if err != nil {
		return "", err
	}
	c.apply(n)
	return n.Codec.Name, nil
}

// apply sets the negotiated stream on the RTP session (as calls.Leg does).
func (c *call) apply(n sdp.Negotiated) {
	p := media.Params{
		Remote:      n.Remote,
		Send:        n.Direction.Sends(),
		Codec:       media.G711FromName(n.Codec.Name),
		PayloadType: n.Codec.PayloadType,
		SRTP:        n.SRTP,
	}
	if n.DTMF != nil {
		p.DTMFPayloadType = n.DTMF.PayloadType
	}
	for pt, codec := range n.RecvPayloadTypes {
		if strings.EqualFold(codec.Name, "telephone-event") {
			p.Recv = append(p.Recv, media.Payload{PayloadType: pt, DTMF: true})
			continue
		}
		if g := media.G711FromName(codec.Name); g != media.G711Unknown {
			p.Recv = append(p.Recv, media.Payload{PayloadType: pt, Codec: g})
		}
	}
	c.rtp.SetParams(p)
}

// onOffer answers a re-INVITE (RFC 3264 §8): its offer with our answer, or
// with our new offer when it has none.
func (c *call) onOffer(body []byte) ([]byte, error) {
	c.sdpMu.Lock()
	c.local.Version++
	local := c.local
	if len(body) == 0 {
		c.offer = sdp.NewOffer(local)
		out := c.offer.Marshal()
		c.sdpMu.Unlock()
		return out, nil
	}
	c.sdpMu.Unlock()
	off, err := sdp.ParseOffer(body)
	if err != nil {
		return nil, err
	}
	ans, n, err := off.Answer(local)
	if err != nil {
		return nil, err
	}
	c.apply(n)
	return ans.Marshal(), nil
}

// onAckAnswer applies the answer an ACK carries to our offer in a 2xx to a
// re-INVITE without offer.
func (c *call) onAckAnswer(body []byte) {
	if _, err := c.applyAnswer(body); err != nil {
		c.log.Warn("SDP answer in ACK unusable", "error", err)
	}
}

// sessionID is a random o= session id (RFC 4566 §5.2), below 2^62 so that
// it prints as a plain number everywhere.
func sessionID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 2
}
