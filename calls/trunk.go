package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringdesk/ringdesk/e164"
	"github.com/ringdesk/ringdesk/sip"
)

// Trunk is how calls use a SIP trunk: which country its numbers belong
// to, how numbers are written towards it, the caller ID presented through
// it and how many calls it carries at once. (sip.Trunk is how Ringdesk
// signals to the provider.)
type Trunk struct {
	// Name is the sip.Trunk's name.
	Name string `yaml:"name"`
	// Country (ISO 3166 alpha-2, e.g. "PT") is the country of numbers the
	// provider sends without a country code, and of the national format.
	Country string `yaml:"country"`
	// NumberFormat is how numbers are written towards the provider: e164
	// (+351210000000, the default), e164_no_plus, national or
	// international (00351210000000).
	NumberFormat string `yaml:"number_format"`
	// TechPrefix is put before every number sent to the provider.
	TechPrefix string `yaml:"tech_prefix"`
	// CallerID is the number (E.164) presented on calls out through the
	// trunk, written in NumberFormat; empty: the caller's extension, which
	// most providers replace with the account's number.
	CallerID string `yaml:"caller_id"`
	// CallerName is the display name presented with it; empty: none.
	CallerName string `yaml:"caller_name"`
	// AssertIdentity adds P-Asserted-Identity (RFC 3325) with the caller ID,
	// for providers that take the caller ID from it.
	AssertIdentity bool `yaml:"assert_identity"`
	// MaxCalls bounds the calls in and out through the trunk at once; 0: no
	// limit.
	MaxCalls int `yaml:"max_calls"`
	// SRTP offers RTP/SAVP with SDES keys (RFC 4568) on calls out, for
	// providers that require encrypted media; an answer without SRTP fails
	// the leg. Calls in follow the provider's offer.
	SRTP bool `yaml:"srtp"`

	style e164.Style
}

// Route sends outside numbers that start with Prefix (E.164, "+351"; "*"
// for any) through Trunks, tried in order: the next one when a trunk is
// full, fails (5xx) or does not respond.
type Route struct {
	Prefix string   `yaml:"prefix"`
	Trunks []string `yaml:"trunks"`
}

// Dialing says how agents dial outside numbers.
type Dialing struct {
	// Country (ISO 3166 alpha-2) is the country of national numbers agents
	// dial; empty: the first trunk's.
	Country string `yaml:"country"`
	// OutsidePrefix, when set, must start every outside number (the "0" or
	// "9" of an outside line); it is not sent on.
	OutsidePrefix string `yaml:"outside_prefix"`
}

// outside is a call to a number outside through trunks.
type outside struct {
	number string   // E.164
	trunks []string // still to try, in order
}

// validateTrunks checks the trunk policies, routes and dialing rules.
func (c *Config) validateTrunks() error {
	names := make(map[string]bool, len(c.Trunks))
	for i := range c.Trunks {
		t := &c.Trunks[i]
		if t.Name == "" {
			return errors.New("calls: a trunk has no name")
		}
		if names[t.Name] {
			return fmt.Errorf("calls: trunk %q appears twice", t.Name)
		}
		names[t.Name] = true
		if err := e164.ValidCountry(t.Country); err != nil {
			return fmt.Errorf("calls: trunk %s: country: %w", t.Name, err)
		}
		format := t.NumberFormat
		if format == "" {
			format = "e164"
		}
		style, err := e164.ParseStyle(format)
		if err != nil {
			return fmt.Errorf("calls: trunk %s: number_format: %w", t.Name, err)
		}
		t.style = style
		if strings.Trim(t.TechPrefix, "0123456789*#") != "" {
			return fmt.Errorf("calls: trunk %s: tech_prefix %q: want digits, * or #", t.Name, t.TechPrefix)
		}
		if t.CallerID != "" {
			n, err := e164.Normalize(t.CallerID, t.Country)
			if err != nil {
				return fmt.Errorf("calls: trunk %s: caller_id: %w", t.Name, err)
			}
			t.CallerID = n
		}
		if strings.ContainsAny(t.CallerName, "\"\r\n\\") {
			return fmt.Errorf("calls: trunk %s: caller_name has a quote, backslash or line break", t.Name)
		}
		if t.MaxCalls < 0 {
			return fmt.Errorf("calls: trunk %s: max_calls %d is negative", t.Name, t.MaxCalls)
		}
	}
	for i, r := range c.Routes {
		if r.Prefix != "*" && (!strings.HasPrefix(r.Prefix, "+") || strings.Trim(r.Prefix[1:], "0123456789") != "") {
			return fmt.Errorf("calls: route %d: prefix %q: want + and digits, or *", i+1, r.Prefix)
		}
		if len(r.Trunks) == 0 {
			return fmt.Errorf("calls: route %s: no trunks", r.Prefix)
		}
		for _, n := range r.Trunks {
			if !names[n] {
				return fmt.Errorf("calls: route %s: no trunk %q", r.Prefix, n)
			}
		}
	}
	if c.Dialing.Country == "" && len(c.Trunks) > 0 {
		c.Dialing.Country = c.Trunks[0].Country
	}
	if c.Dialing.Country != "" {
		if err := e164.ValidCountry(c.Dialing.Country); err != nil {
			return fmt.Errorf("calls: dialing country: %w", err)
		}
	}
	if strings.Trim(c.Dialing.OutsidePrefix, "0123456789") != "" {
		return fmt.Errorf("calls: outside_prefix %q: want digits", c.Dialing.OutsidePrefix)
	}
	return nil
}

// trunk returns the policy of trunk name.
func (s *Switch) trunk(name string) (Trunk, bool) {
	for _, t := range s.cfg.Trunks {
		if t.Name == name {
			return t, true
		}
	}
	return Trunk{}, false
}

// takeChannel reserves one of trunk name's channels; false when it is full.
func (s *Switch) takeChannel(name string) bool {
	t, _ := s.trunk(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.MaxCalls > 0 && s.channels[name] >= t.MaxCalls {
		return false
	}
	s.channels[name]++
	return true
}

// releaseChannel gives a trunk channel back.
func (s *Switch) releaseChannel(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channels[name] > 0 {
		s.channels[name]--
	}
}

// TrunkCalls is how many calls each trunk carries now.
func (s *Switch) TrunkCalls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.channels))
	for k, v := range s.channels {
		out[k] = v
	}
	return out
}

// outsideNumber says whether an extension dialed an outside number and
// returns it in E.164 with the trunks to try.
func (s *Switch) outsideNumber(dialed string) (*outside, bool) {
	if len(s.cfg.Routes) == 0 || s.cfg.Dialing.Country == "" {
		return nil, false
	}
	rules := e164.DialRules{Country: s.cfg.Dialing.Country, OutsidePrefix: s.cfg.Dialing.OutsidePrefix}
	number, ok, err := rules.Outside(dialed)
	if err != nil || !ok {
		return nil, false
	}
	return s.routeOutside(number)
}

// routeOutside returns the trunks to try for an E.164 number.
func (s *Switch) routeOutside(number string) (*outside, bool) {
	prefixes := make([]string, len(s.cfg.Routes))
	for i, r := range s.cfg.Routes {
		prefixes[i] = r.Prefix
	}
	i, ok := e164.Best(prefixes, number)
	if !ok {
		return nil, false
	}
	return &outside{number: number, trunks: append([]string(nil), s.cfg.Routes[i].Trunks...)}, true
}

// trunkParty is the caller of a call from a trunk: its number in E.164
// when it parses (as the provider's country), as sent otherwise.
func (s *Switch) trunkParty(in *sip.InboundCall) Party {
	t, _ := s.trunk(in.Trunk)
	number := in.From.User
	if n, err := e164.Normalize(number, t.Country); err == nil {
		number = n
	}
	return Party{Number: number, Name: in.From.DisplayName, URI: in.From.URI, Trunk: in.Trunk}
}

// didOf returns the E.164 number a trunk call was sent to.
func (s *Switch) didOf(in *sip.InboundCall) (string, error) {
	t, _ := s.trunk(in.Trunk)
	return e164.Normalize(in.Dialed, t.Country)
}

// invite builds the INVITE of a call out through trunk t to number.
func (t Trunk) invite(number string, caller Party, sdp []byte) (sip.InviteRequest, error) {
	to, err := e164.Format(number, t.style, t.Country, t.TechPrefix)
	if err != nil {
		return sip.InviteRequest{}, err
	}
	from := sip.Party{User: caller.Extension}
	if t.CallerID != "" {
		if from.User, err = e164.Format(t.CallerID, t.style, t.Country, ""); err != nil {
			return sip.InviteRequest{}, err
		}
		from.DisplayName = t.CallerName
	}
	r := sip.InviteRequest{Trunk: t.Name, To: to, From: from, SDP: sdp}
	if t.AssertIdentity && t.CallerID != "" {
		r.AssertedIdentity = from.User
	}
	return r, nil
}

// ringTrunk sends the call to the next trunk of its outside route that has
// a free channel. It reports false when none is left.
func (c *Call) ringTrunk(ctx context.Context, firstCodec string) bool {
	o := c.out
	for len(o.trunks) > 0 {
		name := o.trunks[0]
		o.trunks = o.trunks[1:]
		t, ok := c.sw.trunk(name)
		if !ok {
			continue
		}
		if !c.sw.takeChannel(name) {
			c.log.Info("trunk full", "trunk", name, "max_calls", t.MaxCalls)
			continue
		}
		c.channels = append(c.channels, name)
		req, err := t.invite(o.number, c.caller.party, nil)
		if err != nil {
			c.log.Warn("number cannot be written for the trunk", "trunk", name, "number", o.number, "error", err)
			c.releaseChannel(name)
			continue
		}
		callee := c.callee
		callee.Trunk = name
		leg := c.originateReq(ctx, req, callee, firstCodec, nil)
		leg.trunk = name
		c.branches = append(c.branches, leg)
		if leg.state != LegStateEnded {
			c.log.Debug("calling out", "trunk", name, "number", o.number, "to", req.To)
			return true
		}
		c.releaseChannel(name)
	}
	return false
}

// releaseChannel gives back the trunk channel a failed leg held.
func (c *Call) releaseChannel(name string) {
	for i, n := range c.channels {
		if n == name {
			c.channels = append(c.channels[:i], c.channels[i+1:]...)
			c.sw.releaseChannel(name)
			return
		}
	}
}

// failover reports whether a trunk's final response lets the call try the
// next trunk: a server failure, no response, or the provider refusing our
// credentials (a 401/407 Ringdesk could not answer), never a busy callee or
// a wrong number.
func failover(code int) bool {
	return code == 408 || code == 401 || code == 407 || (code >= 500 && code < 600)
}

// OutsideNumber checks a number an agent would dial out (a forwarding
// number, say): it returns it in E.164 when the dialing rules take it and
// a route has trunks for it.
func (s *Switch) OutsideNumber(dialed string) (string, error) {
	if len(s.cfg.Routes) == 0 || s.cfg.Dialing.Country == "" {
		return "", errors.New("no trunk routes: outside numbers cannot be called")
	}
	rules := e164.DialRules{Country: s.cfg.Dialing.Country}
	number, ok, err := rules.Outside(dialed)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%q is not an outside number", dialed)
	}
	if _, ok := s.routeOutside(number); !ok {
		return "", fmt.Errorf("no route takes %s", number)
	}
	return number, nil
}
