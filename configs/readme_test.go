package configs

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownKeys asks the loader itself which keys each mapping knows, through the
// list it prints with an unknown key, so the test cannot drift from it.
func knownKeys(t *testing.T) []string {
	t.Helper()
	probe := `zzz: 1
sip:
  zzz: 1
  listen: ["udp://127.0.0.1:5060"]
  tls:
    zzz: 1
  registration:
    zzz: 1
rtp:
  zzz: 1
calls:
  zzz: 1
agents:
  - zzz: 1
trunks:
  - zzz: 1
dialing:
  zzz: 1
routes:
  - zzz: 1
http:
  zzz: 1
departments:
  - zzz: 1
tickets:
  zzz: 1
webhooks:
  - zzz: 1
`
	_, err := Parse("probe.yaml", []byte(probe), t.TempDir())
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("probe config: %v", err)
	}
	known := regexp.MustCompile(`unknown key "zzz" (?:in (\S+)|at the top level) \(known: ([^)]*)\)`)
	index := regexp.MustCompile(`\[\d+\]`)
	var keys []string
	for _, e := range errs {
		m := known.FindStringSubmatch(e.Msg)
		if m == nil {
			continue
		}
		prefix := index.ReplaceAllString(m[1], "[]") // agents[0] -> agents[]
		for _, k := range strings.Split(m[2], ", ") {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			switch path {
			case "sip.tls", "sip.registration", "sip", "rtp", "calls", "agents", "trunks", "dialing", "routes",
				"http", "departments", "tickets", "webhooks":
				continue // sections: their keys are listed
			}
			keys = append(keys, path)
		}
	}
	if len(keys) < 20 {
		t.Fatalf("only %d keys found; the unknown-key message changed? %v", len(keys), errs)
	}
	return keys
}

// retiredKeys are keys the loader no longer accepts, but knows to say where
// they went (numbers: to the dialplan); the README may say so too.
var retiredKeys = []string{"numbers"}

// TestReadmeDocumentsEveryKey checks the README's configuration reference
// against the loader: every key it accepts is documented, and nothing
// documented is unknown to it (but retiredKeys).
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_.\\[\\]0-9]+)` \\|")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented = append(documented, m[1])
	}
	keys := knownKeys(t)
	for _, k := range keys {
		if !slices.Contains(documented, k) {
			t.Errorf("README configuration reference lacks `%s`", k)
		}
	}
	for _, d := range documented {
		if !slices.Contains(keys, d) && !slices.Contains(retiredKeys, d) {
			t.Errorf("README documents `%s`, which the loader does not know", d)
		}
	}
}
