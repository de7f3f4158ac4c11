package calls_test

import (
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// promptHz is the tone of every prompt of the test plans: text is
// "spoken" as 300 ms of it, so prompts are short and recognisable.
const planPromptHz = 1400

// testPlan compiles a dialplan for the harness's extensions: text is
// spoken as 300 ms of a 1400 Hz tone (no hold music has it) and audio files are not read.
func testPlan(tb testing.TB, yaml string) *dialplan.Plan {
	tb.Helper()
	agents := make(map[string]string)
	for _, e := range testExtensions() {
		agents[e.AgentID] = e.Number
	}
	speak := func(string, string) ([]int16, error) {
		return mediatest.Sine(planPromptHz, 0.3, 8000, 300*time.Millisecond), nil
	}
	p, err := dialplan.Parse("test-dialplan.yaml", []byte(yaml), dialplan.Options{Agents: agents, Speak: speak})
	if err != nil {
		tb.Fatalf("test dialplan: %v", err)
	}
	return p
}
