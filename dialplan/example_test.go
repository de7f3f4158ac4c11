package dialplan_test

import (
	"fmt"
	"os"
	"time"

	"github.com/ringdesk/ringdesk/dialplan"
)

func ExampleParse() {
	src := `
hours:
  office:
    time_zone: Europe/Lisbon
    open: {mon-fri: 09:00-18:00}
numbers:
  "+351210000000":
    description: Support
    hours: office
    action: queue support
    after_hours: voicemail support
queues:
  support:
    agents: [alice, bob]
voicemail:
  support:
    max_length: 1m
`
	plan, err := dialplan.Parse("dialplan.yaml", []byte(src), dialplan.Options{
		Agents: map[string]string{"alice": "1001", "bob": "1002"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	friday := time.Date(2026, time.May, 8, 19, 30, 0, 0, time.UTC) // 20:30 in Lisbon
	route, _ := plan.Route("+351210000000", friday)
	fmt.Println("open:", route.Open, "->", route.Action)
	if err := plan.Describe(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// open: false -> voicemail support
	// +351210000000  Support
	// ├─ hours office (Europe/Lisbon): mon-fri 09:00-18:00
	// ├─ open: queue support (longest idle: alice, bob; 20s each; at most 10 callers, wait up to 10m; on hold message every 30s) → full or waited too long: hangup
	// └─ closed: voicemail support (record up to 1m)
}

func ExampleParse_errors() {
	src := `
numbers:
  "500":
    action: queue support
queues:
  support:
    agents: [alice]
    max_callers: 101
`
	_, err := dialplan.Parse("dialplan.yaml", []byte(src), dialplan.Options{})
	fmt.Println(err)
	// Output:
	// dialplan.yaml:7:14: queues.support.agents[0]: no agent "alice" in ringdesk.yaml (there are no agents)
	// dialplan.yaml:8:18: queues.support: max_callers is 101; at most 100
}
