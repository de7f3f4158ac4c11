package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

// hash is a made-up bcrypt hash: the right form, no known password.
const hash = "$2b$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"

// TestParseHelpdesk covers the good paths of http, departments, tickets,
// webhooks and the agents' web keys.
func TestParseHelpdesk(t *testing.T) {
	const head = `sip:
  listen: ["udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"]
agents:
  - id: alice
    extension: "1001"
    sip_password: x
    web_password_hash: "` + hash + `"
    admin: true
  - id: bob
    extension: "1002"
    sip_password: x
`
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, cfg *Config)
	}{
		{
			name: "defaults",
			yaml: head,
			check: func(t *testing.T, cfg *Config) {
				t.Helper()
				if want := (HTTPConfig{SessionTTL: DefaultSessionTTL}); cfg.HTTP != want {
					t.Errorf("HTTP = %+v, want %+v", cfg.HTTP, want)
				}
				want := []Agent{
					{ID: "alice", Extension: "1001", WebPasswordHash: hash, Admin: true},
					{ID: "bob", Extension: "1002"},
				}
				if !reflect.DeepEqual(cfg.Agents, want) {
					t.Errorf("Agents = %+v, want %+v", cfg.Agents, want)
				}
				if !reflect.DeepEqual(cfg.Tickets, defaultTickets("")) {
					t.Errorf("Tickets = %+v, want the defaults", cfg.Tickets)
				}
				if cfg.Departments != nil {
					t.Errorf("Departments = %+v, want none", cfg.Departments)
				}
			},
		},
		{
			name: "every key",
			yaml: head + `http:
  listen: "[::1]:0"
  session_ttl: 30m
departments:
  - name: support
    agents: [alice, bob]
  - name: night.shift_2
    agents: []
  - name: billing
tickets:
  same_ticket: false
  missed_calls: false
  voicemail_assignee: bob
  language: PT-br
  outcomes: [Done, "Called back"]
  outbound_new_ticket: false
  outbound_no_ticket: true
  callback_window: 0
  short_call: 30
webhooks:
  - url: https://example.com/ringdesk?x=1
    secret: 0123456789abcdef
  - url: HTTP://hooks.example.net:8080/
    secret: "a secret with spaces"
dialing:
  country: pt
`,
			check: func(t *testing.T, cfg *Config) {
				t.Helper()
				if want := (HTTPConfig{Listen: "[::1]:0", SessionTTL: 30 * time.Minute}); cfg.HTTP != want {
					t.Errorf("HTTP = %+v, want %+v", cfg.HTTP, want)
				}
				wantDeps := []Department{
					{Name: "support", Agents: []string{"alice", "bob"}},
					{Name: "night.shift_2"},
					{Name: "billing"},
				}
				if !reflect.DeepEqual(cfg.Departments, wantDeps) {
					t.Errorf("Departments = %+v, want %+v", cfg.Departments, wantDeps)
				}
				want := tickets.Settings{
					Country:           "PT",
					SameTicket:        false,
					MissedCalls:       false,
					VoicemailAssignee: "bob",
					Language:          "pt-BR",
					Outcomes:          []string{"Done", "Called back"},
					OutboundNew:       false,
					OutboundNone:      true,
					CallbackWindow:    0,
					ShortCall:         30 * time.Second,
					Departments:       map[string][]string{"support": {"alice", "bob"}, "night.shift_2": nil, "billing": nil},
					Webhooks: []tickets.Webhook{
						{URL: "https://example.com/ringdesk?x=1", Secret: "0123456789abcdef"},
						{URL: "HTTP://hooks.example.net:8080/", Secret: "a secret with spaces"},
					},
				}
				if !reflect.DeepEqual(cfg.Tickets, want) {
					t.Errorf("Tickets\ngot:  %+v\nwant: %+v", cfg.Tickets, want)
				}
			},
		},
		{
			name: "empty outcomes allow any text, empty listen and assignee are off",
			yaml: head + "http:\n  listen: \"\"\ntickets:\n  outcomes: []\n  voicemail_assignee: \"\"\n",
			check: func(t *testing.T, cfg *Config) {
				t.Helper()
				if cfg.Tickets.Outcomes != nil || cfg.Tickets.VoicemailAssignee != "" || cfg.HTTP.Listen != "" {
					t.Errorf("Tickets = %+v, HTTP = %+v", cfg.Tickets, cfg.HTTP)
				}
			},
		},
		{
			name: "country from the first trunk, http beside SIP on another port or address",
			yaml: head + `http:
  listen: 127.0.0.2:5060
trunks:
  - name: t
    host: 192.0.2.1
    country: gb
`,
			check: func(t *testing.T, cfg *Config) {
				t.Helper()
				if cfg.Tickets.Country != "GB" || cfg.HTTP.Listen != "127.0.0.2:5060" {
					t.Errorf("Tickets.Country = %q, HTTP = %+v", cfg.Tickets.Country, cfg.HTTP)
				}
			},
		},
		{
			name: "host names and every address",
			yaml: head + "http:\n  listen: localhost:8080\n",
			check: func(t *testing.T, cfg *Config) {
				t.Helper()
				if cfg.HTTP.Listen != "localhost:8080" {
					t.Errorf("HTTP = %+v", cfg.HTTP)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("test.yaml", []byte(tt.yaml), t.TempDir())
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestCheckListenAddr(t *testing.T) {
	good := []string{"127.0.0.1:8080", ":8080", "[::]:443", "localhost:0", "pbx.example.com:65535"}
	bad := []string{"", "8080", "127.0.0.1", "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:65536", "[::1]", "bad_host:80", "1.2.3:80"}
	for _, s := range good {
		if _, err := checkListenAddr(s); err != nil {
			t.Errorf("checkListenAddr(%q): %v", s, err)
		}
	}
	for _, s := range bad {
		if _, err := checkListenAddr(s); err == nil {
			t.Errorf("checkListenAddr(%q): no error", s)
		}
	}
}

func TestHTTPClashesWithSIP(t *testing.T) {
	tests := []struct {
		sip, http string
		clash     bool
	}{
		{"tcp://127.0.0.1:5060", "127.0.0.1:5060", true},
		{"tcp://0.0.0.0:5060", "127.0.0.1:5060", true},
		{"tls://127.0.0.1:5061", ":5061", true},
		{"tcp://[::]:5060", "127.0.0.1:5060", true},
		{"tcp://0.0.0.0:5060", "[::1]:5060", false},
		{"udp://127.0.0.1:5060", "127.0.0.1:5060", false},
		{"tcp://127.0.0.1:5060", "127.0.0.2:5060", false},
		{"tcp://127.0.0.1:5060", "localhost:5060", false}, // host names are not resolved
		{"tcp://127.0.0.1:0", "127.0.0.1:0", false},
	}
	for _, tt := range tests {
		yaml := "sip:\n  listen: [\"" + tt.sip + "\"]\nhttp:\n  listen: \"" + tt.http + "\"\n"
		_, err := Parse("test.yaml", []byte(yaml), t.TempDir())
		if got := err != nil; got != tt.clash {
			t.Errorf("sip %s, http %s: clash %v, want %v (%v)", tt.sip, tt.http, got, tt.clash, err)
		}
	}
}

func TestLanguageTag(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "EN": "en", "pt-br": "pt-BR", "fil": "fil", "es-419": "es-419"} {
		if got, ok := languageTag(in); !ok || got != want {
			t.Errorf("languageTag(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "e", "engl", "en-", "en-B", "en-BRA", "en-41", "en_US", "en-US-x", "1a", "é"} {
		if got, ok := languageTag(in); ok {
			t.Errorf("languageTag(%q) = %q, want not a tag", in, got)
		}
	}
}

func TestCheckBcrypt(t *testing.T) {
	if err := checkBcrypt(hash); err != nil {
		t.Errorf("checkBcrypt(hash): %v", err)
	}
	for _, prefix := range []string{"$2a$04$", "$2y$31$"} {
		if err := checkBcrypt(prefix + hash[7:]); err != nil {
			t.Errorf("checkBcrypt(%s...): %v", prefix, err)
		}
	}
	for _, s := range []string{"", "$2", "$2a$03$" + hash[7:], "$2a$32$" + hash[7:], "$2a$1x$" + hash[7:], "$2a$10x" + hash[7:], hash + "0", hash[:59] + "é"} {
		if err := checkBcrypt(s); err == nil {
			t.Errorf("checkBcrypt(%q): no error", s)
		}
	}
}

// TestSecretsNotQuoted: no problem message repeats a password, a password
// hash or a webhook secret (nor a URL's userinfo).
func TestSecretsNotQuoted(t *testing.T) {
	yaml := `sip:
  listen: ["udp://127.0.0.1:5060"]
agents:
  - id: alice
    extension: "1001"
    sip_password: "pass\tSECRET1"
    web_password_hash: SECRET2
webhooks:
  - url: https://user:SECRET3@example.com/
    secret: SECRET4
  - url: https://example.com/
    secret: "SECRET5-long-enough\u0007"
  - url: "ftp://u:SECRET6@example.com/"
    secret: change-me-please
`
	_, err := Parse("test.yaml", []byte(yaml), t.TempDir())
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse: %v", err)
	}
	if len(errs) != 6 {
		t.Errorf("want 6 problems, got:\n%v", err)
	}
	if regexp.MustCompile(`SECRET\d`).MatchString(err.Error()) {
		t.Errorf("a secret is quoted:\n%v", err)
	}
}

// TestSampleMentionsEveryKey checks that the sample documents every key the
// loader knows, by name, in a comment or as a key.
func TestSampleMentionsEveryKey(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("ringdesk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range knownKeys(t) {
		name := k[strings.LastIndexAny(k, ".]")+1:]
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).Match(sample) {
			t.Errorf("the sample does not mention %s", k)
		}
	}
}
