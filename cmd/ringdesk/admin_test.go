package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringdesk/ringdesk/acd"
)

// TestAgentCommand: `ringdesk agent` sets and shows presence on a running
// server through its socket, and refuses what it cannot do.
func TestAgentCommand(t *testing.T) {
	pbx := startPBX(t, pbxOptions{RTPPorts: "37200-37299"})
	dir := pbx.dataDir
	code, out, errOut := runCmd(t, "agent", "-data-dir", dir, "offline", "bob")
	if code != 0 || !strings.Contains(out, "offline") {
		t.Errorf("agent offline bob: exit %d, %q %q", code, out, errOut)
	}
	if st, _ := pbx.app.pool.Agent("bob"); st.Status != acd.Offline || st.Available {
		t.Errorf("bob is %+v, want offline", st)
	}
	code, out, _ = runCmd(t, "agent", "-data-dir", dir, "list")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "online") || !strings.Contains(out, "offline") {
		t.Errorf("agent list: exit %d\n%s", code, out)
	}
	// no trunk routes: nowhere to forward to
	code, _, errOut = runCmd(t, "agent", "-data-dir", dir, "forward", "bob", "+351912345678")
	if code != 1 || !strings.Contains(errOut, "no trunk routes") {
		t.Errorf("forward without routes: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "agent", "-data-dir", dir, "online", "zoe")
	if code != 1 || !strings.Contains(errOut, "zoe") {
		t.Errorf("an unknown agent: exit %d, %q", code, errOut)
	}
	if code, _, _ = runCmd(t, "agent", "-data-dir", dir, "dance", "bob"); code != 2 {
		t.Errorf("an unknown agent command: exit %d, want 2", code)
	}
}

// TestCheckDialplan: `ringdesk check` prints the dialplan's problems with
// the dialplan file's name, line and column; `ringdesk routes` prints the
// flow of a good one.
func TestCheckDialplan(t *testing.T) {
	dir := t.TempDir()
	cfg := `sip:
  listen: ["udp://127.0.0.1:5060"]
agents:
  - {id: alice, extension: "1001", sip_password: a}
dialplan: plan.yaml
`
	if err := os.WriteFile(filepath.Join(dir, "ringdesk.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := `numbers:
  "500": {action: menu main}
menus:
  main:
    retries: 11
    options:
      1: {name: Sales, action: queue nowhere}
`
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "check", "-config", filepath.Join(dir, "ringdesk.yaml"))
	for _, want := range []string{"plan.yaml:5:14: ", "plan.yaml:7:32: "} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("check of a broken dialplan: exit %d", code)
	}

	good := `numbers:
  "500": {description: The queue, action: voicemail box}
voicemail:
  box: {}
`
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "routes", "-config", filepath.Join(dir, "ringdesk.yaml"))
	if code != 0 || !strings.Contains(out, "500") || !strings.Contains(out, "voicemail box") {
		t.Errorf("routes: exit %d\n%s", code, out)
	}
}
