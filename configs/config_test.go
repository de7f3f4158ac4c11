package configs

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/configs/sounds"
	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/tickets"
	"github.com/ringdesk/ringdesk/tts"
)

func TestSample(t *testing.T) {
	cfg, err := Sample()
	if err != nil {
		t.Fatalf("Sample: %v", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Source: SampleSource,
		SIP: sip.Config{
			Listen: []sip.Listen{
				{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:5060")},
				{Network: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:5060")},
			},
			Realm:            "ringdesk",
			UserAgent:        "Ringdesk",
			DigestAlgorithms: []string{sip.AlgorithmMD5},
			MinExpires:       60 * time.Second,
			MaxExpires:       time.Hour,
			DefaultExpires:   10 * time.Minute,
			NonceTTL:         5 * time.Minute,
			Users: []sip.User{
				{Name: "1001", Password: "alice-1001"},
				{Name: "1002", Password: "bob-1002"},
			},
		},
		Media: media.Config{
			Address:    netip.MustParseAddr("127.0.0.1"),
			PortMin:    10000,
			PortMax:    20000,
			Quarantine: 2 * time.Second,
		},
		Calls: calls.Config{
			RingTimeout:   30 * time.Second,
			MediaTimeout:  60 * time.Second,
			ShutdownGrace: 30 * time.Second,
			Tones:         "us",
			InbandDTMF:    calls.InbandAuto,
			Extensions: []calls.Extension{
				{Number: "1001", Name: "Alice Example", AgentID: "alice"},
				{Number: "1002", Name: "Bob Example", AgentID: "bob"},
			},
		},
		DataDir: filepath.Join(cwd, "ringdesk-data"),
		Agents: []Agent{
			{ID: "alice", Name: "Alice Example", Extension: "1001", Admin: true},
			{ID: "bob", Name: "Bob Example", Extension: "1002"},
		},
		HTTP: HTTPConfig{Listen: "127.0.0.1:8080", SessionTTL: 12 * time.Hour},
		Departments: []Department{
			{Name: "support", Agents: []string{"alice", "bob"}},
			{Name: "billing", Agents: []string{"bob"}},
		},
		Tickets: defaultTickets(""),
	}
	want.Tickets.Departments = map[string][]string{"support": {"alice", "bob"}, "billing": {"bob"}}
	embedded := checkSamplePlan(t, cfg)
	assertConfig(t, cfg, want)
	if embedded.Source != "embedded:dialplan.yaml" {
		t.Errorf("the embedded sample's dialplan is %q", embedded.Source)
	}

	// The file on disk is the one embedded, and loads the same.
	disk, err := os.ReadFile("ringdesk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(disk) != string(SampleYAML()) {
		t.Error("SampleYAML differs from ringdesk.yaml")
	}
	loaded, err := Load("ringdesk.yaml")
	if err != nil {
		t.Fatalf("Load(ringdesk.yaml): %v", err)
	}
	want.Source = "ringdesk.yaml"
	onDisk := checkSamplePlan(t, loaded)
	assertConfig(t, loaded, want)
	if onDisk.Source != "dialplan.yaml" {
		t.Errorf("ringdesk.yaml's dialplan is %q, want dialplan.yaml", onDisk.Source)
	}
	// The embedded sounds are the files next to dialplan.yaml.
	e, d := embedded.Numbers()[0].Messages.Welcome, onDisk.Numbers()[0].Messages.Welcome
	if e == nil || d == nil || !reflect.DeepEqual(e.Audio, d.Audio) {
		t.Error("the embedded sample's welcome differs from sounds/welcome.wav")
	}
}

// sampleOpen is a time the sample's office hours are open: a Wednesday
// morning in Lisbon.
var sampleOpen = time.Date(2026, time.June, 3, 10, 0, 0, 0, time.UTC)

// checkSamplePlan checks the sample's dialplan and takes it out of cfg
// (for assertConfig): its two numbers, where they go, and the welcome
// message's audio, loaded.
func checkSamplePlan(t *testing.T, cfg *Config) *dialplan.Plan {
	t.Helper()
	plan := cfg.Calls.Plan
	cfg.Calls.Plan = nil
	if plan == nil {
		t.Fatal("the sample has no dialplan")
	}
	var numbers []string
	for _, n := range plan.Numbers() {
		numbers = append(numbers, n.Number)
	}
	if strings.Join(numbers, ",") != "+351210000000,500" {
		t.Fatalf("the sample dialplan's numbers are %q", numbers)
	}
	checkRoutes(t, plan, sampleOpen, map[string]string{"+351210000000": "menu main", "500": "queue support"})
	r, _ := plan.Route("+351210000000", sampleOpen)
	if w := plan.Numbers()[0].Messages.Welcome; w == nil || len(w.Audio) < 8000 || r.Message != w {
		t.Errorf("the sample's welcome message did not load, or does not play first: %v", w != nil)
	}
	if r, _ := plan.Route("500", sampleOpen); r.Message != nil {
		t.Error("the sample's internal number 500 plays a welcome")
	}
	return plan
}

// checkRoutes checks that plan sends each number to the action, as the
// dialplan writes it ("extension 1001"), while open at the time now.
func checkRoutes(t *testing.T, plan *dialplan.Plan, now time.Time, want map[string]string) {
	t.Helper()
	if plan == nil {
		t.Fatalf("no dialplan, want one routing %v", want)
	}
	for number, action := range want {
		r, ok := plan.Route(number, now)
		if !ok || !r.Open || r.Action.String() != action {
			t.Errorf("the dialplan routes %s to %q (found %t, open %t), want %q", number, r.Action, ok, r.Open, action)
		}
	}
	if n := len(plan.Numbers()); n != len(want) {
		t.Errorf("the dialplan has %d numbers, want %d", n, len(want))
	}
}

// TestSampleTrunks uncomments the sample's trunks, dialing and routes,
// which it keeps commented out, and checks that they load.
func TestSampleTrunks(t *testing.T) {
	sample := string(SampleYAML())
	i := strings.Index(sample, "\n# trunks:\n")
	if i < 0 {
		t.Fatal("the sample has no commented-out trunks")
	}
	lines := strings.Split(sample[i+1:], "\n")
	for j, ln := range lines {
		rest, ok := strings.CutPrefix(ln, "# ")
		if ok && (strings.HasPrefix(rest, " ") || strings.HasSuffix(rest, ":")) {
			lines[j] = rest // YAML, not prose
		}
	}
	dir := t.TempDir() // the sample's dialplan, next to the config
	if err := os.CopyFS(filepath.Join(dir, "sounds"), os.DirFS("sounds")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dialplan.yaml"), sampleDialplan, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("sample-trunks.yaml", []byte(sample[:i+1]+strings.Join(lines, "\n")), dir)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	if len(cfg.SIP.Trunks) != 1 || len(cfg.Calls.Trunks) != 1 || len(cfg.Calls.Routes) != 2 ||
		cfg.Calls.Dialing.Country != "PT" {
		t.Errorf("sip trunks %+v\ncalls trunks %+v, routes %+v, dialing %+v",
			cfg.SIP.Trunks, cfg.Calls.Trunks, cfg.Calls.Routes, cfg.Calls.Dialing)
	}
	checkSamplePlan(t, cfg)
}

// TestSampleWebhooks uncomments the sample's webhooks, which it keeps
// commented out, and checks that they load.
func TestSampleWebhooks(t *testing.T) {
	sample := string(SampleYAML())
	i := strings.Index(sample, "\n# webhooks:\n")
	if i < 0 {
		t.Fatal("the sample has no commented-out webhooks")
	}
	block, rest, _ := strings.Cut(sample[i+1:], "\n\n")
	var lines []string
	for ln := range strings.SplitSeq(block, "\n") {
		lines = append(lines, strings.TrimPrefix(ln, "# "))
	}
	cfg, err := Parse(SampleSource, []byte(sample[:i+1]+strings.Join(lines, "\n")+"\n\n"+rest), ".")
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	want := []tickets.Webhook{{URL: "https://example.com/ringdesk", Secret: "change-me-please"}}
	if !reflect.DeepEqual(cfg.Tickets.Webhooks, want) {
		t.Errorf("webhooks %+v, want %+v", cfg.Tickets.Webhooks, want)
	}
}

// TestSampleShipsNoWebPassword: the sample must not give anyone a way into
// the web UI, nor call webhooks.
func TestSampleShipsNoWebPassword(t *testing.T) {
	cfg, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.Agents {
		if a.WebPasswordHash != "" {
			t.Errorf("the sample gives agent %q a web password", a.ID)
		}
	}
	if len(cfg.Tickets.Webhooks) > 0 {
		t.Errorf("the sample has webhooks: %+v", cfg.Tickets.Webhooks)
	}
}

func TestSampleYAMLIsACopy(t *testing.T) {
	b := SampleYAML()
	b[0] ^= 0xff
	if SampleYAML()[0] == b[0] {
		t.Error("SampleYAML returned the embedded bytes, not a copy")
	}
}

// TestParse covers the good paths: defaults stay zero, relative paths
// resolve against baseDir, integers are seconds, and agents become sip.Users
// and calls.Extensions.
func TestParse(t *testing.T) {
	const listen = "sip:\n  listen: [\"udp://0.0.0.0:5060\"]\n"
	base := t.TempDir()
	udp := []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("0.0.0.0:5060")}}
	tests := []struct {
		name     string
		yaml     string
		dialplan string            // written to base/dialplan.yaml
		want     Config            // Source is "test.yaml"; DataDir defaults to base/ringdesk-data; Calls.Plan is left out
		routes   map[string]string // number -> action of the dialplan, when there is one
	}{
		{
			name: "minimal, defaults left zero",
			yaml: listen,
			want: Config{SIP: sip.Config{Listen: udp}},
		},
		{
			name: "empty sections and lists",
			yaml: listen + "rtp:\ncalls:\nagents:\n",
			want: Config{SIP: sip.Config{Listen: udp}},
		},
		{
			name: "integers are seconds",
			yaml: listen + `  nonce_ttl: 120
  registration: {min_expires: 30, max_expires: "7200", default_expires: 900}
rtp:
  quarantine: 0
  media_timeout: 90
calls:
  ring_timeout: 45
  shutdown_grace: 1m30s
  wrap_up: 20
`,
			want: Config{
				SIP: sip.Config{
					Listen: udp, NonceTTL: 2 * time.Minute,
					MinExpires: 30 * time.Second, MaxExpires: 2 * time.Hour, DefaultExpires: 15 * time.Minute,
				},
				Calls:  calls.Config{RingTimeout: 45 * time.Second, MediaTimeout: 90 * time.Second, ShutdownGrace: 90 * time.Second},
				WrapUp: 20 * time.Second,
			},
		},
		{
			name: "wrap_up 0 is none",
			yaml: listen + "calls:\n  wrap_up: 0s\n",
			want: Config{SIP: sip.Config{Listen: udp}},
		},
		{
			name: "relative data_dir resolves against baseDir",
			yaml: listen + "data_dir: var/data\n",
			want: Config{SIP: sip.Config{Listen: udp}, DataDir: filepath.Join(base, "var", "data")},
		},
		{
			name: "absolute data_dir stays",
			yaml: listen + "data_dir: /srv/ringdesk\n",
			want: Config{SIP: sip.Config{Listen: udp}, DataDir: "/srv/ringdesk"},
		},
		{
			name: "sip values",
			yaml: `sip:
  listen:
    - udp://[::1]:5060
    - TCP://127.0.0.1:0
  public_address: pbx.example.com:5080
  realm: example.com
  user_agent: Ringdesk PBX 1.0
  digest_algorithms: [sha-256, md5]
  trace: true
`,
			want: Config{SIP: sip.Config{
				Listen: []sip.Listen{
					{Network: "udp", Addr: netip.MustParseAddrPort("[::1]:5060")},
					{Network: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:0")},
				},
				PublicAddress:    "pbx.example.com:5080",
				Realm:            "example.com",
				UserAgent:        "Ringdesk PBX 1.0",
				DigestAlgorithms: []string{sip.AlgorithmSHA256, sip.AlgorithmMD5},
				Trace:            true,
			}},
		},
		{
			name: "public addresses",
			yaml: `sip:
  listen: ["udp://10.0.0.2:5060"]
  public_address: 2001:db8::1
rtp:
  address: 10.0.0.2
  public_address: 203.0.113.7
  ports: 40000-40003
`,
			want: Config{
				SIP: sip.Config{
					Listen:        []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("10.0.0.2:5060")}},
					PublicAddress: "2001:db8::1",
				},
				Media: media.Config{
					Address:       netip.MustParseAddr("10.0.0.2"),
					PublicAddress: netip.MustParseAddr("203.0.113.7"),
					PortMin:       40000, PortMax: 40003,
				},
			},
		},
		{
			name: "agents with password, ha1 and ha1_sha256",
			yaml: listen + `  digest_algorithms: [SHA-256, MD5]
agents:
  - id: alice
    name: Alice Example
    extension: 1001
    sip_password: "12345"
  - id: bob.b_2-x
    extension: "0102"
    sip_ha1: 0123456789ABCDEF0123456789abcdef
  - id: carol
    extension: "103"
    sip_ha1: 0123456789abcdef0123456789abcdef
    sip_ha1_sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF
  - id: "4dave"
    extension: "104"
    sip_ha1_sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`,
			want: Config{
				SIP: sip.Config{Listen: udp, DigestAlgorithms: []string{sip.AlgorithmSHA256, sip.AlgorithmMD5}, Users: []sip.User{
					{Name: "1001", Password: "12345"},
					{Name: "0102", HA1: "0123456789abcdef0123456789abcdef"},
					{Name: "103", HA1: "0123456789abcdef0123456789abcdef", HA1SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
					{Name: "104", HA1SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
				}},
				Calls: calls.Config{Extensions: []calls.Extension{
					{Number: "1001", Name: "Alice Example", AgentID: "alice"},
					{Number: "0102", AgentID: "bob.b_2-x"},
					{Number: "103", AgentID: "carol"},
					{Number: "104", AgentID: "4dave"},
				}},
				Agents: []Agent{
					{ID: "alice", Name: "Alice Example", Extension: "1001"},
					{ID: "bob.b_2-x", Extension: "0102"},
					{ID: "carol", Extension: "103"},
					{ID: "4dave", Extension: "104"},
				},
			},
		},
		{
			name: "trunk with defaults left zero, numbers read in its country",
			yaml: listen + `agents:
  - {id: alice, extension: "1001", sip_password: x}
trunks:
  - name: t
    host: 192.0.2.1
    country: PT
    password: ""
    ha1: ""
    realm: ""
    caller_id: ""
    caller_name: ""
    tech_prefix: ""
    networks: []
    keepalive: 0
    register: false
    assert_identity: false
    max_calls: "0"
dialing:
routes:
dialplan: dialplan.yaml
`,
			dialplan: `numbers:
  210 000 000: {action: extension 1001}
  "+44 20 7946 0000": {action: extension 1001}
  "500": {action: hangup}
`,
			routes: map[string]string{"+351210000000": "extension 1001", "+442079460000": "extension 1001", "500": "hangup"},
			want: Config{
				SIP: sip.Config{
					Listen: udp,
					Users:  []sip.User{{Name: "1001", Password: "x"}},
					Trunks: []sip.Trunk{{Name: "t", Host: "192.0.2.1"}},
				},
				Calls: calls.Config{
					Extensions: []calls.Extension{{Number: "1001", AgentID: "alice"}},
					Trunks:     []calls.Trunk{{Name: "t", Country: "PT"}},
				},
				Agents: []Agent{{ID: "alice", Extension: "1001"}},
			},
		},
		{
			name: "dialing country over the first trunk's, empty lists",
			yaml: listen + `agents:
  - {id: alice, extension: "1001", sip_password: x}
trunks:
  - {name: t, host: pbx.example.net, country: GB}
dialing: {country: GB, outside_prefix: "9"}
routes: []
dialplan: ./dialplan.yaml
`,
			dialplan: "numbers:\n  \"0 20 7946 0000\": {action: extension 1001}\n",
			routes:   map[string]string{"+442079460000": "extension 1001"},
			want: Config{
				SIP: sip.Config{
					Listen: udp,
					Users:  []sip.User{{Name: "1001", Password: "x"}},
					Trunks: []sip.Trunk{{Name: "t", Host: "pbx.example.net"}},
				},
				Calls: calls.Config{
					Extensions: []calls.Extension{{Number: "1001", AgentID: "alice"}},
					Trunks:     []calls.Trunk{{Name: "t", Country: "GB"}},
					Dialing:    calls.Dialing{Country: "GB", OutsidePrefix: "9"},
				},
				Agents: []Agent{{ID: "alice", Extension: "1001"}},
			},
		},
		{
			name: "flow style, byte order mark, CRLF and a document marker",
			yaml: "\uFEFF---\r\n{sip: {listen: [\"udp://0.0.0.0:5060\"]}}\r\n",
			want: Config{SIP: sip.Config{Listen: udp}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(base, "dialplan.yaml"), []byte(tt.dialplan), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse("test.yaml", []byte(tt.yaml), base)
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			if tt.routes != nil {
				checkRoutes(t, cfg.Calls.Plan, time.Now(), tt.routes)
				cfg.Calls.Plan = nil
			}
			want := tt.want
			want.Source = "test.yaml"
			if want.DataDir == "" {
				want.DataDir = filepath.Join(base, DefaultDataDir)
			}
			fillHelpdeskDefaults(&want)
			assertConfig(t, cfg, &want)
		})
	}
}

// TestParseTrunks loads testdata/trunks/ringdesk.yaml, which sets every
// trunk key, and checks what each composes into.
func TestParseTrunks(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "trunks", "ringdesk.yaml"))
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	ca, err := filepath.Abs(filepath.Join("testdata", "trunks", "provider-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	wantSIP := []sip.Trunk{
		{
			Name: "main", Host: "sip.example.net", Port: 5080, Transport: "tcp",
			Username: "12345", AuthUsername: "auth-12345", Password: "secret", Realm: "sip.example.net",
			Register: true, RegisterUser: "351210000000", Expiry: 5 * time.Minute,
			Networks: []netip.Prefix{
				netip.MustParsePrefix("203.0.113.0/24"),
				netip.MustParsePrefix("2001:db8:5::/48"),
				netip.MustParsePrefix("198.51.100.7/32"),
			},
			Keepalive: 30 * time.Second,
		},
		{
			Name: "backup.tls", Host: "2001:db8::10", Transport: "tls",
			Username: "67890", HA1: "0123456789abcdef0123456789abcdef", Realm: "backup.example.org",
			CAFile: ca,
		},
		{Name: "ip-only", Host: "192.0.2.1"},
	}
	if !reflect.DeepEqual(cfg.SIP.Trunks, wantSIP) {
		t.Errorf("sip trunks\ngot:  %+v\nwant: %+v", cfg.SIP.Trunks, wantSIP)
	}
	wantCalls := calls.Config{
		Extensions: cfg.Calls.Extensions,
		Trunks: []calls.Trunk{
			{
				Name: "main", Country: "PT", NumberFormat: "e164_no_plus", TechPrefix: "12#",
				CallerID: "+351210000000", CallerName: "Example Lda", AssertIdentity: true, MaxCalls: 30, SRTP: true,
			},
			{Name: "backup.tls", Country: "GB", NumberFormat: "national", CallerID: "+442079460000"},
			{Name: "ip-only", Country: "PT"},
		},
		Routes: []calls.Route{
			{Prefix: "+44", Trunks: []string{"backup.tls", "main"}},
			{Prefix: "*", Trunks: []string{"main", "ip-only"}},
		},
		Dialing: calls.Dialing{Country: "PT", OutsidePrefix: "0"},
	}
	plan := cfg.Calls.Plan
	cfg.Calls.Plan = nil
	if !reflect.DeepEqual(cfg.Calls, wantCalls) {
		t.Errorf("calls config\ngot:  %+v\nwant: %+v", cfg.Calls, wantCalls)
	}
	// The numbers of the dialplan next to it, national ones read in the
	// dialing country.
	checkRoutes(t, plan, time.Now(), map[string]string{
		"+351210000000": "extension 1001", "+351210000001": "extension 1002", "+442079460000": "extension 1002",
	})
	if r, _ := plan.Route("+351210000000", time.Now()); r.Action.Kind != dialplan.ExtensionAction || r.Action.Target != "1001" {
		t.Errorf("+351210000000 goes to %+v, want extension 1001", r.Action)
	}
	for _, err := range []error{cfg.SIP.Validate(), cfg.Calls.Validate()} {
		if err != nil {
			t.Errorf("package Validate: %v", err)
		}
	}
}

func TestParseTLS(t *testing.T) {
	dir := t.TempDir()
	testkit.SelfSignedCert(t, filepath.Join(dir, "certs"))
	yaml := `sip:
  listen: ["tls://127.0.0.1:5061", "udp://127.0.0.1:5060"]
  tls:
    cert: certs/cert.pem
    key: ` + filepath.Join(dir, "certs", "key.pem") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ringdesk.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(filepath.Join(dir, "ringdesk.yaml"))
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	if want := filepath.Join(dir, "certs", "cert.pem"); cfg.SIP.TLSCertFile != want {
		t.Errorf("TLSCertFile = %q, want %q", cfg.SIP.TLSCertFile, want)
	}
	if want := filepath.Join(dir, "certs", "key.pem"); cfg.SIP.TLSKeyFile != want {
		t.Errorf("TLSKeyFile = %q, want %q", cfg.SIP.TLSKeyFile, want)
	}

	// A key that does not belong to the certificate is reported at the cert.
	other := filepath.Join(dir, "other")
	testkit.SelfSignedCert(t, other)
	yaml = strings.Replace(yaml, filepath.Join(dir, "certs", "key.pem"), filepath.Join(other, "key.pem"), 1)
	_, err = Parse("mismatch.yaml", []byte(yaml), dir)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("got %v, want one problem", err)
	}
	if e := errs[0]; e.Line != 4 || e.Col != 11 || !strings.Contains(e.Msg, "private key does not match public key") {
		t.Errorf("got %v, want the key mismatch at 4:11", e)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want fs.ErrNotExist", err)
	}
	var errs Errors
	if errors.As(err, &errs) {
		t.Errorf("an unreadable file is not Errors: %v", err)
	}
}

func TestLoadReportsPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringdesk.yaml")
	if err := os.WriteFile(path, []byte("sip:\n  listen: [\"udp://127.0.0.1:5060\"]\n  relm: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:3:3: unknown key "relm" in sip (known: listen, public_address, realm, tls, user_agent, digest_algorithms, registration, nonce_ttl, trace)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestErrorsFormat(t *testing.T) {
	errs := Errors{
		{File: "a.yaml", Line: 1, Col: 2, Msg: "one"},
		{File: "a.yaml", Line: 3, Col: 4, Msg: "two"},
	}
	if got, want := errs.Error(), "a.yaml:1:2: one\na.yaml:3:4: two"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTooLarge(t *testing.T) {
	data := []byte("sip:\n  listen: [\"udp://127.0.0.1:5060\"]\n" + strings.Repeat("#\n", maxConfigSize))
	_, err := Parse("big.yaml", data, ".")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 1 || errs[0].Col != 1 {
		t.Errorf("got %v, want one problem at 1:1", err)
	}
}

// TestPackageValidateAgrees shows that each package's Validate finds nothing
// our own checks missed: on the sample, the good cases and every broken
// testdata file, a section that Validate rejects already has a problem of
// ours, and the good configs pass Validate.
func TestPackageValidateAgrees(t *testing.T) {
	inputs := map[string][]byte{"sample": SampleYAML()}
	for _, f := range testdataConfigs(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = data
	}
	for name, data := range inputs {
		r := parse(name, data, filepath.Dir(name))
		for _, p := range r.missed() {
			t.Errorf("%s: package Validate found what our checks missed: %v", name, p.Error)
		}
		if len(r.own) == 0 && r.cfg == nil {
			t.Errorf("%s: no problems and no config", name)
		}
	}
}

// testdataConfigs returns the config files under testdata: the broken ones
// of TestGolden and the good ones in subdirectories, but not the dialplans
// they name (testdata/dialplans/*, */dialplan.yaml).
func testdataConfigs(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*/*.yaml"} {
		m, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range m {
			if filepath.Base(f) != "dialplan.yaml" && filepath.Base(filepath.Dir(f)) != "dialplans" {
				files = append(files, f)
			}
		}
	}
	return files
}

// fillHelpdeskDefaults fills in what a case of TestParse leaves zero of the
// helpdesk: http.session_ttl's default, and the default tickets settings
// read in the dialing country (or the first trunk's).
func fillHelpdeskDefaults(want *Config) {
	if want.HTTP.SessionTTL == 0 {
		want.HTTP.SessionTTL = DefaultSessionTTL
	}
	if want.Tickets.Language == "" {
		country := want.Calls.Dialing.Country
		if country == "" && len(want.Calls.Trunks) > 0 {
			country = want.Calls.Trunks[0].Country
		}
		want.Tickets = defaultTickets(country)
	}
}

// defaultTickets is Config.Tickets for a file without tickets, departments
// and webhooks.
func defaultTickets(country string) tickets.Settings {
	t := tickets.DefaultSettings()
	t.Country = country
	t.Outcomes = []string{"Resolved", "Callback needed", "Escalated", "No answer"}
	return t
}

func assertConfig(t *testing.T, got, want *Config) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config differs\ngot:  %+v\nwant: %+v", *got, *want)
	}
	for _, err := range []error{got.SIP.Validate(), got.Media.Validate(), got.Calls.Validate()} {
		if err != nil {
			t.Errorf("package Validate: %v", err)
		}
	}
}

func TestHoldMusicAndMediaKeys(t *testing.T) {
	dir := t.TempDir()
	music := filepath.Join(dir, "music.wav")
	if err := os.WriteFile(music, sounds.HoldMusic, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "sip:\n  listen: [\"udp://127.0.0.1:5060\"]\nagents:\n  - {id: a, extension: \"1001\", sip_password: x}\ncalls:\n"
	cfg, err := Parse("t.yaml", []byte(base+"  hold_music: music.wav\n  tones: eu\n  inband_dtmf: never\n  record: true\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Calls.HoldMusic) != 24*8000 || cfg.Calls.Tones != "eu" || cfg.Calls.InbandDTMF != "never" || !cfg.Calls.Record {
		t.Errorf("calls config: %d samples of music, tones %q, inband %q, record %v",
			len(cfg.Calls.HoldMusic), cfg.Calls.Tones, cfg.Calls.InbandDTMF, cfg.Calls.Record)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"  hold_music: missing.wav\n", "t.yaml:6:15: calls.hold_music: \"missing.wav\": "},
		{"  hold_music: broken.wav\n", "t.yaml:6:15: calls.hold_music: \"broken.wav\": "},
		{"  hold_music: \"\"\n", "t.yaml:6:15: calls.hold_music: must not be empty"},
		{"  tones: mars\n", "t.yaml:6:10: calls.tones: \"mars\" is not a tone region"},
		{"  inband_dtmf: sometimes\n", "t.yaml:6:16: calls.inband_dtmf: \"sometimes\" is not auto, always or never"},
	} {
		_, err := Parse("t.yaml", []byte(base+tc.yaml), dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	pcm, err := BuiltinHoldMusic()
	if err != nil || len(pcm) < 10*8000 {
		t.Errorf("built-in music: %d samples, %v", len(pcm), err)
	}
}

// TestDialplanFile loads a dialplan that the config names by a relative
// path: its audio resolves against its own directory, and loading it makes
// nothing in data_dir (text-to-speech starts only for a text).
func TestDialplanFile(t *testing.T) {
	dir := t.TempDir()
	welcome, err := fs.ReadFile(sounds.FS, "welcome.wav")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "plans"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plans", "hello.wav"), welcome, 0o600); err != nil {
		t.Fatal(err)
	}
	config := "sip:\n  listen: [\"udp://127.0.0.1:5060\"]\nagents:\n  - {id: alice, extension: \"1001\", sip_password: x}\ndialplan: plans/main.yaml\n"
	write := func(dialplan string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "plans", "main.yaml"), []byte(dialplan), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("messages: {welcome: {file: hello.wav}}\nnumbers:\n  \"+351210000000\": {action: ring team}\nring_groups:\n  team: {agents: [alice]}\n")
	cfg, err := Parse("ringdesk.yaml", []byte(config), dir)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	plan := cfg.Calls.Plan
	checkRoutes(t, plan, time.Now(), map[string]string{"+351210000000": "ring team"})
	if want := filepath.Join("plans", "main.yaml"); plan.Source != want { // next to the config's name
		t.Errorf("Plan.Source = %q, want %q", plan.Source, want)
	}
	if w := plan.Numbers()[0].Messages.Welcome; w == nil || len(w.Audio) == 0 {
		t.Error("the welcome file next to the dialplan did not load")
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("loading the dialplan made data_dir %s (%v)", cfg.DataDir, err)
	}

	// A text is spoken by espeak-ng, when it is installed, and cached in
	// data_dir.
	write("numbers:\n  \"500\": {messages: {welcome: Thank you for calling.}, action: hangup}\n")
	cfg, err = Parse("ringdesk.yaml", []byte(config), dir)
	if !hasEspeak() {
		if err == nil || !strings.Contains(err.Error(), "espeak-ng") {
			t.Errorf("a text without espeak-ng: got %v, want a problem that names it", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	if w := cfg.Calls.Plan.Numbers()[0].Messages.Welcome; w == nil || w.Text != "Thank you for calling." || len(w.Audio) == 0 {
		t.Error("the welcome text was not spoken")
	}
	if st, err := os.Stat(filepath.Join(cfg.DataDir, TTSCacheDir)); err != nil || !st.IsDir() {
		t.Errorf("no speech cache in data_dir: %v", err)
	}
}

// hasEspeak reports whether espeak-ng, which text-to-speech runs, is
// installed.
func hasEspeak() bool {
	_, err := exec.LookPath(tts.Command)
	return err == nil
}
