package peertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Require skips the test unless every program is found in PATH. With the
// environment variable CI set to "true" a missing program fails the test
// instead, so that a CI machine without the peers cannot pass by skipping.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	var missing []string
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	const hint = "install them with test/peers/install.sh"
	if os.Getenv("CI") == "true" {
		t.Fatalf("peertest: not in PATH: %s (CI=true: missing peers fail the test; %s)", strings.Join(missing, ", "), hint)
		return
	}
	t.Skipf("peertest: not in PATH: %s (%s)", strings.Join(missing, ", "), hint)
}

// PeersDir returns the absolute path of <module root>/test/peers, the module
// root being the nearest folder holding go.mod at or above the working folder
// (a package's folder under go test).
func PeersDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("peertest: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			peers := filepath.Join(dir, "test", "peers")
			if fi, err := os.Stat(peers); err != nil || !fi.IsDir() {
				t.Fatalf("peertest: module root %s has no test/peers folder", dir)
			}
			return peers
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("peertest: no go.mod at or above %s", wd)
		}
	}
}

// peerFile returns PeersDir/rel, failing the test if it does not exist.
func peerFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(PeersDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("peertest: %v", err)
	}
	return p
}
