package calls

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ringdesk/ringdesk/media"
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

	mu       sync.Mutex
	calls    map[CallID]*Call
	draining bool
	wg       sync.WaitGroup
}

// NewSwitch returns a switch that routes calls between cfg's extensions.
func NewSwitch(cfg Config, sig Signaling, m Media, obs Observer, log *slog.Logger) (*Switch, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if obs == nil {
		obs = ObserverFunc(func(Event) {})
	}
	s := &Switch{
		cfg: cfg, log: log, sig: sig, media: m, obs: obs,
		ext:   make(map[string]Extension, len(cfg.Extensions)),
		calls: make(map[CallID]*Call),
	}
	for _, e := range cfg.Extensions {
		s.ext[e.Number] = e
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	return s, nil
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
			return nil
		case <-tick.C:
		case <-ctx.Done():
			s.log.Info("grace period over, hanging up", "active", s.Active())
			s.cancel(ErrShutdown)
			<-idle
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
}

func (s *Switch) observe(e Event) {
	s.obs.Observe(e)
}

// partyFor describes the caller: the authenticated extension with its
// configured name, else what the phone sent.
func (s *Switch) partyFor(authUser string, from sip.Party) Party {
	if e, ok := s.ext[authUser]; ok {
		return Party{Extension: e.Number, Name: e.Name, AgentID: e.AgentID, URI: from.URI}
	}
	return Party{Extension: authUser, Name: from.DisplayName, URI: from.URI}
}
