package configs

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ringdesk/ringdesk/configs/sounds"
)

// A41, A44: the dialplan's audio may be a file at a URL. It is fetched at
// load, kept in data_dir/audio-cache, and the copy serves when the URL
// fails later; a URL that answers with something that is not audio is a
// problem at its position.
func TestDialplanAudioFromURL(t *testing.T) {
	welcome, err := fs.ReadFile(sounds.FS, "welcome.wav")
	if err != nil {
		t.Fatal(err)
	}
	var mode atomic.Value // "ok", "down" or "junk"
	mode.Store("ok")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch mode.Load() {
		case "down":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case "junk":
			_, _ = w.Write([]byte("<html>not a wav</html>"))
		default:
			_, _ = w.Write(welcome)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	config := "sip:\n  listen: [\"udp://127.0.0.1:5060\"]\ndata_dir: data\nagents:\n  - {id: alice, extension: \"1001\", sip_password: x}\ndialplan: plan.yaml\n"
	plan := "messages:\n  welcome: {file: \"" + srv.URL + "/welcome.wav\"}\nnumbers:\n  \"500\": {action: queue q}\nqueues:\n  q: {agents: [alice], hold_music: \"" + srv.URL + "/welcome.wav\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func() (*Config, error) {
		t.Helper()
		return Parse(filepath.Join(dir, "ringdesk.yaml"), []byte(config), dir)
	}
	cfg, err := load()
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	w := cfg.Calls.Plan.Numbers()[0].Messages.Welcome
	if w == nil || len(w.Audio) < 8000 || hits.Load() != 1 {
		t.Fatalf("welcome %v after %d requests; want the file, fetched once", w, hits.Load())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "data", AudioCacheDir, "*.wav")); len(m) != 1 {
		t.Errorf("cache holds %q, want one copy", m)
	}

	mode.Store("down")
	if cfg, err = load(); err != nil {
		t.Fatalf("with the URL down and a copy cached: %v", err)
	}
	if w := cfg.Calls.Plan.Numbers()[0].Messages.Welcome; w == nil || len(w.Audio) < 8000 {
		t.Error("the cached copy did not serve")
	}

	mode.Store("junk")
	_, err = load()
	if err == nil || !strings.Contains(err.Error(), "plan.yaml:2:") || !strings.Contains(err.Error(), "not usable audio") {
		t.Errorf("a URL serving HTML: %v, want a problem at plan.yaml:2", err)
	}
	if err != nil && strings.Contains(err.Error(), ".fetch-") {
		t.Errorf("the problem names the temporary file: %v", err)
	}

	if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	mode.Store("down")
	if _, err := load(); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("the URL down and nothing cached: %v, want the server's answer", err)
	}
}

// A41: the PBX's hold music may be a file at a URL too.
func TestHoldMusicFromURL(t *testing.T) {
	music, err := fs.ReadFile(sounds.FS, "hold-music.wav")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/music.wav" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(music)
	}))
	defer srv.Close()
	dir := t.TempDir()
	base := "sip:\n  listen: [\"udp://127.0.0.1:5060\"]\ndata_dir: data\ncalls:\n  hold_music: "
	cfg, err := Parse(filepath.Join(dir, "ringdesk.yaml"), []byte(base+srv.URL+"/music.wav\n"), dir)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	if len(cfg.Calls.HoldMusic) < 8000 {
		t.Errorf("hold music of %d samples", len(cfg.Calls.HoldMusic))
	}
	_, err = Parse(filepath.Join(dir, "ringdesk.yaml"), []byte(base+srv.URL+"/gone.wav\n"), dir)
	if err == nil || !strings.Contains(err.Error(), "ringdesk.yaml:5:15: calls.hold_music: cannot fetch audio") || !strings.Contains(err.Error(), "404") {
		t.Errorf("a URL answering 404: %v", err)
	}
}
