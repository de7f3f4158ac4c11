package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckPrintsEveryProblemWithPosition(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broken.yaml")
	broken := `sip:
  listen: ["udp://127.0.0.1:5060"]
  lisen: oops
rtp:
  ports: 20000-10000
agents:
  - id: alice
    extension: "1001"
    sip_password: a
  - id: bob
    extension: "1001"
    sip_password: b
`
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "check", "-config", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	want := []string{
		regexp.QuoteMeta(path) + `:3:3: .*unknown key "lisen"`,
		regexp.QuoteMeta(path) + `:5:10: .*rtp\.ports`,
		regexp.QuoteMeta(path) + `:11:16: .*1001`,
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, w := range want {
		re := regexp.MustCompile("^" + w)
		found := false
		for _, ln := range lines {
			if re.MatchString(ln) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line matching %q in:\n%s", w, out)
		}
	}
	for _, ln := range lines {
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+:\d+: `).MatchString(ln) {
			t.Errorf("line %q is not FILE:LINE:COL: message", ln)
		}
	}
}

func TestCheckSampleIsValid(t *testing.T) {
	code, out, errOut := runCmd(t, "check")
	if code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestServeRefusesBrokenConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(path, []byte("sip:\n  listen: [\"carrier-pigeon://1.2.3.4:5\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "-config", path)
	if code != 1 || !strings.Contains(errOut, path+":2:") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCmd(t, "version"); code != 0 || !strings.HasPrefix(out, "ringdesk ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, out, _ := runCmd(t, "help"); code != 0 || !strings.Contains(out, "ringdesk check") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	if code, _, errOut := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
	if code, out, _ := runCmd(t, "sample-config"); code != 0 || !strings.Contains(out, "agents:") {
		t.Errorf("sample-config: exit %d", code)
	}
}

// TestServeReportsBusyPort: a SIP port another program holds is a clear
// error and exit status 1, not a crash (newApp rolls back what it opened).
func TestServeReportsBusyPort(t *testing.T) {
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "busy.yaml")
	cfg := fmt.Sprintf(`sip:
  listen: ["udp://%s"]
data_dir: %s
agents:
  - {id: a, extension: "1001", sip_password: x}
`, busy.LocalAddr(), dir)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "-config", path)
	if code != 1 || !strings.Contains(errOut, "address already in use") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	// It got as far as creating the database before the port failed.
	if _, err := os.Stat(filepath.Join(dir, "ringdesk.db")); err != nil {
		t.Errorf("no database was created: %v", err)
	}
}

// ringdesk passwd prints a bcrypt hash of the password on stdin, which the
// config accepts as web_password_hash.
func TestPasswdCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := passwdCmd(nil, strings.NewReader("correct horse battery\n"), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery")); err != nil {
		t.Errorf("hash %q: %v", hash, err)
	}
	out.Reset()
	if code := passwdCmd(nil, strings.NewReader("short\n"), &out, &errOut); code == 0 || out.Len() != 0 {
		t.Errorf("a short password: exit %d, printed %q", code, out.String())
	}
}

// ringdesk token creates a token the API takes, lists it without the
// secret, and revokes it.
func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ringdesk.yaml")
	writeFile(t, cfg, "sip:\n  listen: [\"udp://127.0.0.1:0\"]\ndata_dir: "+dir+"\n"+testAgents)
	code, out, errOut := runCmd(t, "token", "-config", cfg, "bob", "laptop")
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "rdk_") {
		t.Fatalf("create: exit %d, %q %q", code, out, errOut)
	}
	code, out, _ = runCmd(t, "token", "-config", cfg, "-list")
	if code != 0 || !strings.Contains(out, "\tbob\tlaptop\t") || strings.Contains(out, tok) {
		t.Errorf("list: exit %d, %q", code, out)
	}
	id := strings.SplitN(out, "\t", 2)[0]
	if code, out, errOut = runCmd(t, "token", "-config", cfg, "-revoke", id); code != 0 {
		t.Errorf("revoke: exit %d, %q %q", code, out, errOut)
	}
	if code, out, _ = runCmd(t, "token", "-config", cfg, "-list", "bob"); code != 0 || out != "" {
		t.Errorf("after revoking: exit %d, %q", code, out)
	}
	if code, _, _ = runCmd(t, "token", "-config", cfg, "nobody"); code != 1 {
		t.Errorf("an unknown agent: exit %d", code)
	}
}
