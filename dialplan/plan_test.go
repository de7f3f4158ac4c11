package dialplan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const routeYAML = `
messages:
  welcome: "Hello."
  after_hours: {file: sounds/closed.wav}
hours:
  office:
    time_zone: Europe/Lisbon
    open:
      mon-fri: 09:00-18:00
      sat: [10:00-13:00, 14:00-16:00]
    holidays: [01-01, 04-25, 05-01, 06-10, 12-25, 2026-04-03]
    closed: [2026-08-10..2026-08-14]
numbers:
  "+351 21 000 0000":
    hours: office
    action: queue support
    after_hours: voicemail support
  "500":
    messages: {welcome: "", after_hours: null}
    action: extension 1001
queues:
  support:
    agents: [alice, bob]
    announce_position: true
voicemail:
  support: {}
`

func TestRoute(t *testing.T) {
	p := mustParse(t, routeYAML)
	monday10 := time.Date(2026, time.May, 4, 10, 0, 0, 0, time.UTC)
	monday18 := time.Date(2026, time.May, 4, 18, 0, 0, 0, time.UTC) // 19:00 in Lisbon
	tests := []struct {
		name, number string
		at           time.Time
		ok, open     bool
		action       string
		message      string // Text or File base name; "" for none
	}{
		{"open", "+351210000000", monday10, true, true, "queue support", "Hello."},
		{"closed", "+351210000000", monday18, true, false, "voicemail support", "closed.wav"},
		{"internal, always open", "500", monday18, true, true, "extension 1001", ""},
		{"as written is not routed", "+351 21 000 0000", monday10, false, false, "", ""},
		{"unknown", "+351219999999", monday10, false, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := p.Route(tt.number, tt.at)
			if ok != tt.ok {
				t.Fatalf("Route ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if r.Open != tt.open || r.Action.String() != tt.action || r.Number.Number != tt.number {
				t.Errorf("got open %v, action %q, number %q", r.Open, r.Action, r.Number.Number)
			}
			var msg string
			if m := r.Message; m != nil {
				msg = m.Text + filepath.Base(m.File)
				if m.Text != "" {
					msg = m.Text
				}
			}
			if msg != tt.message {
				t.Errorf("message %q, want %q", msg, tt.message)
			}
		})
	}
}

func TestRouteAllocates(t *testing.T) {
	p := mustParse(t, routeYAML)
	now := time.Date(2026, time.May, 4, 10, 0, 0, 0, time.UTC)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := p.Route("+351210000000", now); !ok {
			t.Fatal("not routed")
		}
	})
	if allocs != 0 {
		t.Errorf("Route allocates %v times, want 0", allocs)
	}
}

// BenchmarkRoute is the per-call lookup: a map lookup and an hours check.
func BenchmarkRoute(b *testing.B) {
	p := mustParse(b, routeYAML)
	now := time.Date(2026, time.May, 4, 10, 0, 0, 0, time.UTC)
	for _, number := range []string{"+351210000000", "500"} {
		b.Run(number, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := p.Route(number, now); !ok {
					b.Fatal("not routed")
				}
			}
		})
	}
}

func TestNumbersInFileOrder(t *testing.T) {
	p := mustParse(t, `
numbers:
  "9": {action: hangup}
  "+351 21 000 0001": {action: hangup}
  "1": {action: hangup}
`)
	var got []string
	for _, n := range p.Numbers() {
		got = append(got, n.Number+"="+n.Written)
	}
	if want := "9=9 +351210000001=+351 21 000 0001 1=1"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	p.Numbers()[0] = nil // a copy
	if p.Numbers()[0] == nil {
		t.Error("Numbers returns the plan's own slice")
	}
}

func TestActionString(t *testing.T) {
	p := mustParse(t, `
numbers:
  "1": {action: menu m}
  "2": {action: ring g}
  "3": {action: queue q}
  "4": {action: voicemail v}
  "5": {action: extension 1002}
  "6": {action: outside +44 20 7946 0000}
  "7": {action: hangup}
  "8": {action: "  queue   q  "}
menus:
  m:
    prompt: {file: sounds/menu.wav}
    options: {1: {action: repeat}, 2: {action: hangup}}
ring_groups: {g: {agents: [bob]}}
queues: {q: {agents: [bob]}}
voicemail: {v: {}}
`)
	want := []string{"menu m", "ring g", "queue q", "voicemail v", "extension 1002", "outside +442079460000", "hangup", "queue q"}
	for i, n := range p.Numbers() {
		if got := n.Open.String(); got != want[i] {
			t.Errorf("number %s: %q, want %q", n.Number, got, want[i])
		}
	}
	if got := (Action{Kind: Repeat}).String() + " " + (Action{Kind: Back}).String(); got != "repeat back" {
		t.Errorf("got %q", got)
	}
	var zero Action
	if zero.String() != "hangup" {
		t.Errorf("the zero Action is %q, want hangup", zero)
	}
}

func TestReadOut(t *testing.T) {
	var spoken []string
	opts := testOptions("testdata")
	opts.Speak = func(text, voice string) ([]int16, error) {
		spoken = append(spoken, voice+": "+text)
		return make([]int16, len(text)), nil
	}
	p, err := Parse("test.yaml", []byte(`
messages: {voice: en-gb}
numbers: {"500": {action: menu main}}
menus:
  main:
    name: Main
    intro: {file: sounds/welcome.wav}
    read_out: "Press {number} for {menu}."
    options:
      "#": {name: the operator, action: extension 1001}
      0: {name: zero, action: hangup}
      "*": {name: the menu again, action: repeat}
      9: {name: nine, action: hangup}
      1: {name: one, action: hangup}
`), opts)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Route("500", time.Now())
	m := r.Action.Menu
	lines := []string{"Press 1 for one.", "Press 9 for nine.", "Press 0 for zero.", "Press star for the menu again.", "Press pound for the operator."}
	if m.Prompt.Text != strings.Join(lines, " ") {
		t.Errorf("prompt text %q", m.Prompt.Text)
	}
	for i, l := range lines {
		if i >= len(spoken) || spoken[i] != "en-gb: "+l {
			t.Fatalf("spoken %q, want each line in en-gb: %q", spoken, lines)
		}
	}
	wantLen := 80 // sounds/welcome.wav
	for _, l := range lines {
		wantLen += len(l)
	}
	if len(m.Prompt.Audio) != wantLen {
		t.Errorf("prompt audio %d samples, want %d (intro, then each line)", len(m.Prompt.Audio), wantLen)
	}
	var digits string
	for _, o := range m.order {
		digits += string(o.Digit)
	}
	if digits != "190*#" || len(m.Options) != 5 || m.Options['#'].Action.Target != "1001" {
		t.Errorf("options %q %v", digits, m.Options)
	}
	if m.Depth != 1 || m.Timeout != DefaultMenuTimeout || m.Retries != DefaultMenuRetries {
		t.Errorf("depth %d, timeout %v, retries %d", m.Depth, m.Timeout, m.Retries)
	}
}

func TestAudioIsShared(t *testing.T) {
	var loads, speaks atomic.Int32
	opts := testOptions("testdata")
	opts.LoadAudio = func(path string) ([]int16, error) {
		loads.Add(1)
		return fakeLoadAudio(path)
	}
	opts.Speak = func(text, voice string) ([]int16, error) {
		speaks.Add(1)
		return fakeSpeak(text, voice)
	}
	_, err := Parse("test.yaml", []byte(`
messages:
  welcome: {file: sounds/welcome.wav}
  after_hours: {file: ./sounds/../sounds/welcome.wav}
  all_busy: "Busy."
numbers:
  "1": {action: hangup, messages: {agent_unavailable: "Busy."}}
  "2": {action: hangup, messages: {agent_unavailable: {text: "Busy.", voice: en-gb}}}
`), opts)
	if err != nil {
		t.Fatal(err)
	}
	if loads.Load() != 1 || speaks.Load() != 2 {
		t.Errorf("%d loads, %d speaks; want 1 and 2 (one per file, one per text and voice)", loads.Load(), speaks.Load())
	}
}

func TestPositionAudio(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var texts []string
	opts := testOptions("testdata")
	opts.Speak = func(text, voice string) ([]int16, error) {
		calls.Add(1)
		mu.Lock()
		texts = append(texts, voice+": "+text)
		mu.Unlock()
		return make([]int16, 10), nil
	}
	p, err := Parse("test.yaml", []byte(`
numbers: {"500": {action: queue q}}
queues:
  q:
    agents: [alice]
    max_callers: 3
    announce_position: true
    position_message: "You are caller {position}."
    voice: en-gb
`), opts)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Route("500", time.Now())
	q := r.Action.Queue
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for pos := 1; pos <= 5; pos++ {
				pcm, err := p.PositionAudio(q, pos)
				if err != nil || len(pcm) != 10 {
					t.Errorf("position %d: %d samples, %v", pos, len(pcm), err)
				}
			}
		})
	}
	wg.Wait()
	// Positions 1-3 are kept (max_callers); 4 and 5 are spoken each time.
	if n := calls.Load(); n < 3+2*8 || n > 3*8+2*8 {
		t.Errorf("Speak called %d times", n)
	}
	before := calls.Load()
	if _, err := p.PositionAudio(q, 2); err != nil || calls.Load() != before {
		t.Errorf("position 2 spoken again (%v)", err)
	}
	mu.Lock()
	found := false
	for _, s := range texts {
		found = found || s == "en-gb: You are caller 2."
	}
	mu.Unlock()
	if !found {
		t.Errorf("spoken %q, want \"en-gb: You are caller 2.\"", texts)
	}
	if _, err := p.PositionAudio(q, 0); err == nil {
		t.Error("position 0: no error")
	}
	if _, err := p.PositionAudio(nil, 1); err == nil {
		t.Error("nil queue: no error")
	}

	opts.Speak = nil
	p = mustParseWith(t, "numbers: {\"500\": {action: queue q}}\nqueues: {q: {agents: [alice]}}\n", opts)
	r, _ = p.Route("500", time.Now())
	if _, err := p.PositionAudio(r.Action.Queue, 1); !errors.Is(err, ErrNoSpeech) {
		t.Errorf("without Speak: %v, want ErrNoSpeech", err)
	}
}

func mustParseWith(t *testing.T, src string, opts Options) *Plan {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src), opts)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	p := mustParse(t, `
numbers: {"500": {action: menu m}}
menus:
  m:
    prompt: ""
    options: {1: {action: ring g}, 2: {action: queue q}, 3: {action: voicemail v}}
ring_groups: {g: {agents: [alice]}}
queues: {q: {agents: [alice]}}
voicemail: {v: }
`)
	r, _ := p.Route("500", time.Now())
	m := r.Action.Menu
	g, q, v := m.Options['1'].Action.RingGroup, m.Options['2'].Action.Queue, m.Options['3'].Action.Voicemail
	checks := []struct {
		name      string
		got, want any
	}{
		{"menu prompt", m.Prompt, (*Message)(nil)},
		{"menu name", m.Name, "m"},
		{"menu no input", m.NoInput.Kind, Hangup},
		{"group strategy", g.Strategy, Sequential},
		{"group interval", g.RingInterval, DefaultRingInterval},
		{"group cycles", g.Cycles, DefaultCycles},
		{"queue strategy", q.Strategy, LongestIdle},
		{"queue interval", q.RingInterval, DefaultRingInterval},
		{"queue max callers", q.MaxCallers, DefaultMaxCallers},
		{"queue announce", q.AnnounceEvery, DefaultAnnounce},
		{"queue position text", q.PositionText, DefaultPositionMessage},
		{"queue voice", q.Voice, DefaultVoice},
		{"queue max wait", q.MaxWait, DefaultMaxWait},
		{"queue fallback", q.Fallback.Kind, Hangup},
		{"voicemail max length", v.MaxLength, DefaultMaxLength},
		{"voicemail greeting", v.Greeting, (*Message)(nil)},
		{"closed", r.Number.Closed.Kind, Hangup},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestQueueTakesRingGroupAgents(t *testing.T) {
	p := mustParse(t, `
numbers: {"500": {action: queue q}}
ring_groups: {g: {agents: [carol, alice]}}
queues: {q: {ring_group: g}}
`)
	r, _ := p.Route("500", time.Now())
	if got := strings.Join(r.Action.Queue.Agents, ","); got != "carol,alice" {
		t.Errorf("agents %q", got)
	}
}

func TestAgentLimit(t *testing.T) {
	opts := testOptions("testdata")
	opts.Agents = make(map[string]string)
	var ids []string
	for i := range MaxAgents + 1 {
		id := fmt.Sprintf("a%03d", i)
		opts.Agents[id] = fmt.Sprint(2000 + i)
		ids = append(ids, id)
	}
	src := "numbers: {\"500\": {action: ring g}}\nring_groups: {g: {agents: [%s]}}\n"
	if _, err := Parse("test.yaml", []byte(fmt.Sprintf(src, strings.Join(ids[:MaxAgents], ", "))), opts); err != nil {
		t.Fatalf("%d agents: %v", MaxAgents, err)
	}
	errs := parseErrors(t, fmt.Sprintf(src, strings.Join(ids, ", ")), opts)
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "101 agents; at most 100") {
		t.Errorf("got %v", errs)
	}
}

func TestNormalize(t *testing.T) {
	opts := testOptions("testdata")
	opts.Normalize = nil
	p := mustParseWith(t, `
numbers:
  "+351 21 000 0000": {action: outside 00 44 20 7946 0000}
  "210000000": {action: hangup}
  "123456": {action: hangup}
`, opts)
	var got []string
	for _, n := range p.Numbers() {
		got = append(got, n.Number+" "+n.Open.String())
	}
	want := "+351210000000 outside 00442079460000|210000000 hangup|123456 hangup"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", got, want)
	}
	errs := parseErrors(t, "numbers: {\"+351-21\": {action: hangup}}\n", opts)
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "not a phone number") {
		t.Errorf("got %v", errs)
	}
}

func TestBrokenDependencies(t *testing.T) {
	src := `
messages: {welcome: "Hi.", after_hours: {file: sounds/welcome.wav}}
numbers: {"500": {action: hangup}}
`
	opts := testOptions("testdata")
	opts.Speak = func(string, string) ([]int16, error) { return nil, errors.New("espeak-ng crashed") }
	opts.LoadAudio = nil
	errs := parseErrors(t, src, opts)
	want := []string{
		`messages.welcome: text-to-speech failed on "Hi.": espeak-ng crashed`,
		`messages.after_hours: cannot load audio file "sounds/welcome.wav": audio files cannot be loaded here (no audio loader)`,
	}
	if len(errs) != 2 || errs[0].Msg != want[0] || errs[1].Msg != want[1] {
		t.Errorf("got %v\nwant %q", errs, want)
	}
	opts = testOptions("testdata")
	opts.LoadAudio = func(string) ([]int16, error) { return nil, nil }
	opts.Speak = func(string, string) ([]int16, error) { return nil, nil }
	errs = parseErrors(t, src, opts)
	if len(errs) != 2 || !strings.Contains(errs[0].Msg, "no audio came out") || !strings.Contains(errs[1].Msg, "it holds no audio") {
		t.Errorf("got %v", errs)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sounds"), 0o755); err != nil {
		t.Fatal(err)
	}
	wav, err := os.ReadFile(filepath.Join("testdata", "sounds", "welcome.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sounds", "hi.wav"), wav, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "dialplan.yaml")
	src := "messages: {welcome: {file: sounds/hi.wav}}\nnumbers: {\"500\": {action: hangup}}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := testOptions("")
	p, err := Load(file, opts)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Route("500", time.Now())
	if p.Source != file || r.Message == nil || r.Message.File != filepath.Join(dir, "sounds", "hi.wav") {
		t.Errorf("source %q, message %+v", p.Source, r.Message)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"), opts)
	var errs Errors
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &errs) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseTooLarge(t *testing.T) {
	data := []byte("# " + strings.Repeat("x", maxFileSize) + "\n")
	errs := parseErrors(t, string(data), testOptions("testdata"))
	if len(errs) != 1 || errs[0].Line != 1 || !strings.Contains(errs[0].Msg, "more than the 1048576 a dialplan may have") {
		t.Errorf("got %v", errs)
	}
}

func TestErrorsSortedAndFormatted(t *testing.T) {
	_, err := Parse("x.yaml", []byte("queues: {q: {agents: [zed]}}\nnumbers: {\"500\": {action: queue nope}}\n"), testOptions("testdata"))
	want := "x.yaml:1:23: queues.q.agents[0]: no agent \"zed\" in ringdesk.yaml (agents: alice, bob, carol)\n" +
		"x.yaml:2:27: numbers[\"500\"].action: no queue named \"nope\" (known: q)"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// A41, A44: a message or hold music may be a file in the cloud, named by
// its http(s) URL; each URL is fetched once, and a failure is reported at
// its position.
func TestAudioFromURL(t *testing.T) {
	var fetched []string
	opts := testOptions("testdata")
	opts.FetchAudio = func(u string) ([]int16, error) {
		fetched = append(fetched, u)
		if strings.Contains(u, "missing") {
			return nil, errors.New("404 Not Found")
		}
		return make([]int16, 8000), nil
	}
	p := mustParseWith(t, `
messages:
  welcome: {file: "https://cdn.example.com/welcome.wav"}
  on_hold: {file: "https://cdn.example.com/welcome.wav"}
numbers:
  "1": {action: queue q}
queues:
  q: {agents: [bob], hold_music: "HTTPS://cdn.example.com/music.wav"}
`, opts)
	r, ok := p.Route("1", time.Now())
	if !ok || r.Number.Messages.Welcome == nil || r.Number.Messages.Welcome.File != "https://cdn.example.com/welcome.wav" || len(r.Number.Messages.Welcome.Audio) != 8000 {
		t.Fatalf("welcome %+v", r.Number.Messages.Welcome)
	}
	if q := r.Action.Queue; q == nil || len(q.HoldMusic) != 8000 {
		t.Errorf("queue hold music %+v", q)
	}
	if len(fetched) != 2 {
		t.Errorf("fetched %q, want each URL once", fetched)
	}

	_, err := Parse("test.yaml", []byte(`
messages:
  welcome: {file: "https://cdn.example.com/missing.wav"}
  on_hold: {file: "https://user:secret@cdn.example.com/x.wav"}
numbers:
  "1": {action: hangup}
`), opts)
	msg := fmt.Sprint(err)
	for _, want := range []string{`test.yaml:3:19: messages.welcome: cannot fetch audio from "https://cdn.example.com/missing.wav": 404 Not Found`, "test.yaml:4:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("a password in a URL is printed:\n%s", msg)
	}
	opts.FetchAudio = nil
	if _, err := Parse("test.yaml", []byte("messages:\n  welcome: {file: \"http://x.example/a.wav\"}\nnumbers:\n  \"1\": {action: hangup}\n"), opts); err == nil {
		t.Error("a URL without a fetcher was accepted")
	}
}
