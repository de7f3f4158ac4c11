package dialplan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// sampleSounds are the audio files configs/sounds has for the sample.
func sampleSounds() []string {
	return []string{
		"welcome.wav", "menu-main.wav", "menu-billing.wav", "on-hold.wav",
		"all-busy.wav", "unavailable.wav", "after-hours.wav", "voicemail.wav",
	}
}

// sampleOptions compiles configs/dialplan.yaml as the embedded sample runs:
// the sample's agents, no text-to-speech, and any of sampleSounds (which
// need not exist yet). loaded collects the files asked for.
func sampleOptions(t *testing.T, loaded *[]string) Options {
	t.Helper()
	sounds, err := filepath.Abs(filepath.Join("..", "configs", "sounds"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	return Options{
		BaseDir:   filepath.Join("..", "configs"),
		Agents:    map[string]string{"alice": "1001", "bob": "1002"},
		Normalize: fakeNormalize,
		LoadAudio: func(path string) ([]int16, error) {
			mu.Lock()
			*loaded = append(*loaded, path)
			mu.Unlock()
			if filepath.Dir(path) != sounds || !slices.Contains(sampleSounds(), filepath.Base(path)) {
				return nil, os.ErrNotExist
			}
			return make([]int16, 800), nil
		},
	}
}

// TestSample keeps configs/dialplan.yaml valid without text-to-speech, and
// its flow as testdata/sample.golden shows it.
func TestSample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "configs", "dialplan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	p, err := Parse("dialplan.yaml", data, sampleOptions(t, &loaded))
	if err != nil {
		t.Fatalf("the sample dialplan does not compile:\n%v", err)
	}
	var used []string
	for _, f := range loaded {
		if !slices.Contains(used, filepath.Base(f)) {
			used = append(used, filepath.Base(f))
		}
	}
	slices.Sort(used)
	want := slices.Sorted(slices.Values(sampleSounds()))
	if !slices.Equal(used, want) {
		t.Errorf("the sample plays %v, want every one of %v", used, want)
	}

	var numbers []string
	for _, n := range p.Numbers() {
		numbers = append(numbers, n.Number)
	}
	if !slices.Equal(numbers, []string{"+351210000000", "500"}) {
		t.Errorf("numbers %v", numbers)
	}
	lisbon, err := time.LoadLocation("Europe/Lisbon")
	if err != nil {
		t.Fatal(err)
	}
	open := time.Date(2026, time.May, 6, 10, 0, 0, 0, lisbon) // a Wednesday
	r, ok := p.Route("+351210000000", open)
	if !ok || !r.Open || r.Action.String() != "menu main" || r.Message == nil {
		t.Errorf("open: %+v %v", r, ok)
	}
	closed := time.Date(2026, time.May, 6, 20, 0, 0, 0, lisbon)
	r, ok = p.Route("+351210000000", closed)
	if !ok || r.Open || r.Action.String() != "voicemail support" || r.Message == nil {
		t.Errorf("closed: %+v %v", r, ok)
	}
	r, ok = p.Route("500", closed)
	if !ok || !r.Open || r.Action.String() != "queue support" || r.Message != nil {
		t.Errorf("500: %+v %v", r, ok)
	}

	var b strings.Builder
	if err := p.Describe(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "sample.golden"), b.String())
}
