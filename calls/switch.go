package calls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/tone"
	"github.com/ringdesk/ringdesk/sip"
)

// drainLogEvery is how often a draining switch logs the calls still up.
const drainLogEvery = 5 * time.Second

// ErrShutdown is the cause of the switch context when Ringdesk stops.
var ErrShutdown = errors.New("calls: shutting down")

// Signaling is what the switch needs from the SIP side; *sip.Server has it.
type Signaling interface {
	Bindings(aor string) []sip.Binding
	Invite(ctx context.Context, r sip.InviteRequest, h sip.EventHandler) (*sip.OutboundCall, error)
}

// Media opens RTP sessions; *media.Engine has it.
type Media interface {
	NewSession(log *slog.Logger) (*media.Session, error)
}

var (
	_ Signaling   = (*sip.Server)(nil)
	_ Media       = (*media.Engine)(nil)
	_ sip.Handler = (*Switch)(nil)
)

// Switch is the registry of live calls: it admits new calls, runs each on
// its own supervisor goroutine and drains them on shutdown.
type Switch struct {
	cfg   Config
	log   *slog.Logger
	sig   Signaling
	media Media
	obs   Observer
	ext   map[string]Extension

	ctx    context.Context
	cancel context.CancelCauseFunc

	// shared streams: what held parties hear, and ringback for parties
	// waiting for a transfer
	music, ringback *media.MusicStream
	closeStreams    sync.Once

	plan atomic.Pointer[dialplan.Plan]
	pool *acd.Pool
	beep []int16

	mu       sync.Mutex
	calls    map[CallID]*Call
	channels map[string]int // calls per trunk
	draining bool
	wg       sync.WaitGroup
}

// NewSwitch returns a switch that routes calls between cfg's extensions.
func NewSwitch(cfg Config, sig Signaling, m Media, obs Observer, log *slog.Logger) (*Switch, error) {
	cfg, err := cfg.prepared()
	if err != nil {
		return nil, err
	}
	if cfg.Record && cfg.RecordingsDir == "" {
		return nil, errors.New("calls: record needs a recordings directory")
	}
	if obs == nil {
		obs = ObserverFunc(func(Event) {})
	}
	s := &Switch{
		cfg: cfg, log: log, sig: sig, media: m, obs: obs,
		ext:      make(map[string]Extension, len(cfg.Extensions)),
		calls:    make(map[CallID]*Call),
		channels: make(map[string]int),
	}
	for _, e := range cfg.Extensions {
		s.ext[e.Number] = e
	}
	s.plan.Store(cfg.Plan)
	s.pool = cfg.Agents
	if s.pool == nil {
		s.pool = acd.NewPool(acd.Options{StartOnline: true})
		var agents []acd.AgentInfo
		for _, e := range cfg.Extensions {
			if e.AgentID != "" {
				agents = append(agents, acd.AgentInfo{ID: e.AgentID, Name: e.Name, Extension: e.Number})
			}
		}
		s.pool.SetAgents(agents)
	}
	s.beep = cfg.Beep
	if len(s.beep) == 0 {
		s.beep = beepTone()
	}
	music := cfg.HoldMusic
	if len(music) == 0 {
		music = defaultMusic()
	}
	if s.music, err = media.NewMusicStream("hold music", music, log); err != nil {
		return nil, fmt.Errorf("calls: hold music: %w", err)
	}
	rb, err := tone.Ringback(cfg.Tones)
	if err != nil {
		s.music.Close()
		return nil, fmt.Errorf("calls: %w", err)
	}
	if s.ringback, err = media.NewMusicStream("ringback", media.RenderTone(rb), log); err != nil {
		s.music.Close()
		return nil, fmt.Errorf("calls: ringback: %w", err)
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	return s, nil
}

// defaultMusic is a gentle placeholder for hold music when none is
// configured: a slow arpeggio of soft sine notes, a few seconds long.
func defaultMusic() []int16 {
	notes := []float64{261.63, 329.63, 392.00, 523.25, 392.00, 329.63} // C major
	const noteLen = media.SampleRate / 2
	pcm := make([]int16, len(notes)*noteLen)
	for i, f := range notes {
		for j := range noteLen {
			env := math.Sin(math.Pi * float64(j) / noteLen) // soft attack and release
			pcm[i*noteLen+j] = int16(3000 * env * math.Sin(2*math.Pi*f*float64(j)/media.SampleRate))
		}
	}
	return pcm
}

// stopStreams stops the shared streams once no call needs them.
func (s *Switch) stopStreams() {
	s.closeStreams.Do(func() {
		s.music.Close()
		s.ringback.Close()
	})
}

// HandleInvite implements sip.Handler: it admits a new call, or refuses it
// with 503 while draining.
func (s *Switch) HandleInvite(in *sip.InboundCall) {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		s.log.Info("call refused while shutting down", "sip_call_id", in.CallID, "caller", in.AuthUser)
		_ = in.Reject(CauseShutdown.Status(), CauseShutdown.Reason())
		return
	}
	c := newCall(s, in)
	s.calls[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.forget(c)
		c.run(s.ctx)
	}()
}

func (s *Switch) forget(c *Call) {
	s.mu.Lock()
	delete(s.calls, c.id)
	s.mu.Unlock()
}

// Active is the number of calls in progress.
func (s *Switch) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Shutdown drains the switch: new calls get 503, calls in progress may go on
// until ctx ends (the grace period), then they are hung up. It returns when
// every call's goroutine has finished.
func (s *Switch) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(idle)
	}()
	tick := time.NewTicker(drainLogEvery)
	defer tick.Stop()
	for {
		if n := s.Active(); n > 0 {
			s.log.Info("draining calls", "active", n)
		}
		select {
		case <-idle:
			s.cancel(ErrShutdown)
			s.stopStreams()
			return nil
		case <-tick.C:
		case <-ctx.Done():
			s.log.Info("grace period over, hanging up", "active", s.Active())
			s.cancel(ErrShutdown)
			<-idle
			s.stopStreams()
			return nil
		}
	}
}

// Close hangs up every call at once and waits for them.
func (s *Switch) Close() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.cancel(ErrShutdown)
	s.wg.Wait()
	s.stopStreams()
}

func (s *Switch) observe(e Event) {
	s.obs.Observe(e)
}

// partyFor describes the caller: the authenticated extension with its
// configured name, else what the phone sent.
func (s *Switch) partyFor(in *sip.InboundCall) Party {
	if in.Trunk != "" {
		return s.trunkParty(in)
	}
	authUser, from := in.AuthUser, in.From
	if e, ok := s.ext[authUser]; ok {
		return Party{Extension: e.Number, Name: e.Name, AgentID: e.AgentID, URI: from.URI}
	}
	return Party{Extension: authUser, Name: from.DisplayName, URI: from.URI}
}

// Plan is the dialplan new calls are routed by (nil: none).
func (s *Switch) Plan() *dialplan.Plan { return s.plan.Load() }

// SetPlan replaces the dialplan for new calls; calls in progress finish
// on the plan they started with.
func (s *Switch) SetPlan(p *dialplan.Plan) { s.plan.Store(p) }

// Agents is the agents' presence the switch rings by.
func (s *Switch) Agents() *acd.Pool { return s.pool }
