package calls_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
)

// allCauses lists every defined cause.
func allCauses() []calls.Cause {
	var out []calls.Cause
	for c := calls.CauseUnknown; c <= calls.CauseCongestion; c++ {
		out = append(out, c)
	}
	return out
}

// TestCauseTable: each cause maps to the SIP status a caller sees and a
// Reason header (RFC 3326) with its Q.850 value.
func TestCauseTable(t *testing.T) {
	for _, tc := range []struct {
		cause  calls.Cause
		name   string
		status int
		q850   int
	}{
		{calls.CauseUnknown, "unknown", 500, 31},
		{calls.CauseNormal, "normal", 200, 16},
		{calls.CauseCancelled, "cancelled", 487, 16},
		{calls.CauseBusy, "busy", 486, 17},
		{calls.CauseNoAnswer, "no_answer", 480, 19},
		{calls.CauseUnavailable, "unavailable", 480, 20},
		{calls.CauseNotFound, "not_found", 404, 1},
		{calls.CauseDeclined, "declined", 603, 21},
		{calls.CauseIncompatible, "incompatible", 488, 88},
		{calls.CauseMediaTimeout, "media_timeout", 408, 102},
		{calls.CauseSignaling, "signaling", 500, 41},
		{calls.CauseShutdown, "shutdown", 503, 41},
		{calls.CauseInternal, "internal", 500, 41},
		{calls.CauseRejected, "rejected", 480, 21},
		{calls.CauseTransferred, "transferred", 200, 16},
		{calls.CauseCongestion, "congestion", 503, 34},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cause
			if c.String() != tc.name || c.Status() != tc.status || c.Q850() != tc.q850 {
				t.Errorf("%d: %s %d %d, want %s %d %d", int(c), c, c.Status(), c.Q850(), tc.name, tc.status, tc.q850)
			}
			want := fmt.Sprintf("Q.850;cause=%d;text=%q", tc.q850, c.Text())
			if c.Reason() != want {
				t.Errorf("Reason %s, want %s", c.Reason(), want)
			}
			if c.Text() == "" || strings.ContainsAny(c.Text(), "\"\r\n") {
				t.Errorf("Text %q cannot go into a quoted Reason text", c.Text())
			}
			b, err := c.MarshalText()
			if err != nil || string(b) != tc.name {
				t.Errorf("MarshalText %q %v", b, err)
			}
			var back calls.Cause
			if err := back.UnmarshalText(b); err != nil || back != c {
				t.Errorf("UnmarshalText(%q) = %s %v", b, back, err)
			}
		})
	}
}

func TestCauseOutOfRange(t *testing.T) {
	for _, c := range []calls.Cause{-1, calls.CauseCongestion + 1, 1000} {
		if c.String() != "unknown" || c.Status() != 500 {
			t.Errorf("Cause(%d): %s %d, want unknown 500", int(c), c, c.Status())
		}
	}
	var c calls.Cause
	if err := c.UnmarshalText([]byte("on_fire")); err == nil {
		t.Error("UnmarshalText accepted an unknown name")
	}
	names := map[string]bool{}
	for _, c := range allCauses() {
		if names[c.String()] {
			t.Errorf("two causes are named %q", c)
		}
		names[c.String()] = true
	}
}

// TestCauseFromStatus: a callee's final response becomes a cause.
func TestCauseFromStatus(t *testing.T) {
	for code, want := range map[int]calls.Cause{
		200: calls.CauseNormal, 202: calls.CauseNormal,
		486: calls.CauseBusy, 600: calls.CauseBusy,
		603: calls.CauseDeclined, 607: calls.CauseDeclined,
		404: calls.CauseNotFound, 484: calls.CauseNotFound, 604: calls.CauseNotFound,
		488: calls.CauseIncompatible, 606: calls.CauseIncompatible, 415: calls.CauseIncompatible,
		487: calls.CauseCancelled,
		408: calls.CauseUnavailable, 480: calls.CauseUnavailable, 410: calls.CauseUnavailable,
		503: calls.CauseUnavailable, 504: calls.CauseUnavailable,
		403: calls.CauseRejected, 500: calls.CauseRejected, 302: calls.CauseRejected,
	} {
		if got := calls.CauseFromStatus(code); got != want {
			t.Errorf("CauseFromStatus(%d) = %s, want %s", code, got, want)
		}
	}
}

// TestEnumsMarshal: directions, roles and states go into JSON lower-case.
func TestEnumsMarshal(t *testing.T) {
	rec := calls.CallRecord{
		Cause: calls.CauseNoAnswer, HungUpBy: calls.RoleSystem,
		Legs: []calls.LegRecord{{Direction: calls.Outbound, Cause: calls.CauseBusy, Status: 486}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"cause":"no_answer"`, `"hung_up_by":"system"`, `"direction":"outbound"`, `"cause":"busy"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), `"answered"`) {
		t.Errorf("JSON of an unanswered call has an answered time: %s", b)
	}
	for _, s := range []calls.LegState{calls.LegStateTrying, calls.LegStateRinging, calls.LegStateAnswered, calls.LegStateHeld, calls.LegStateEnded} {
		b, _ := s.MarshalText()
		if string(b) != strings.ToLower(s.String()) || string(b) == "" {
			t.Errorf("LegState %d marshals to %q", int(s), b)
		}
	}
}

// TestConfigValidate: NewSwitch refuses configurations Validate refuses.
func TestConfigValidate(t *testing.T) {
	ok := calls.Extension{Number: "1001"}
	for _, tc := range []struct {
		name string
		cfg  calls.Config
		want string // "" if valid
	}{
		{"zero is the defaults", calls.Config{}, ""},
		{"small timeouts", calls.Config{RingTimeout: time.Second, MediaTimeout: time.Second}, ""},
		{"ring timeout under a second", calls.Config{RingTimeout: 500 * time.Millisecond}, "ring_timeout"},
		{"negative ring timeout", calls.Config{RingTimeout: -time.Second}, "ring_timeout"},
		{"media timeout under a second", calls.Config{MediaTimeout: time.Millisecond}, "media_timeout"},
		{"negative grace", calls.Config{ShutdownGrace: -1}, "shutdown_grace"},
		{"extension without number", calls.Config{Extensions: []calls.Extension{ok, {Name: "x"}}}, "no number"},
		{"duplicate extension", calls.Config{Extensions: []calls.Extension{ok, ok}}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error about %s", err, tc.want)
			}
			_, err2 := calls.NewSwitch(tc.cfg, nil, nil, nil, nil)
			if (err == nil) != (err2 == nil) {
				t.Errorf("NewSwitch: %v, Validate: %v", err2, err)
			}
		})
	}
}

// A call record survives a JSON round trip: its enums read back.
func TestCallRecordJSONRoundTrip(t *testing.T) {
	in := calls.CallRecord{
		ID: "c-1", Cause: calls.CauseBusy, HungUpBy: calls.RoleCallee, Status: 486,
		Legs: []calls.LegRecord{{ID: "c-1-1", Direction: calls.Inbound, Cause: calls.CauseNormal}},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out calls.CallRecord
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if out.Cause != in.Cause || out.HungUpBy != in.HungUpBy || out.Legs[0].Direction != calls.Inbound {
		t.Errorf("read back %+v from %s", out, b)
	}
	var d calls.Direction
	if err := d.UnmarshalText([]byte("sideways")); err == nil {
		t.Error("an unknown direction was accepted")
	}
}
