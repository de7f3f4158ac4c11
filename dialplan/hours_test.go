package dialplan

import (
	"strings"
	"testing"
	"time"
)

// hoursPlan compiles a plan whose number "500" has hours h (YAML lines
// under the hours name).
func hoursOf(t *testing.T, h string) *Hours {
	t.Helper()
	p := mustParse(t, "numbers: {\"500\": {hours: h, action: hangup}}\nhours:\n  h:\n"+h)
	r, ok := p.Route("500", time.Now())
	if !ok || r.Number.Hours == nil {
		t.Fatalf("no hours: %+v", r)
	}
	return r.Number.Hours
}

func TestOpenAt(t *testing.T) {
	office := `    time_zone: Europe/Lisbon
    open:
      mon-fri: 09:00-18:00
      sat: [10:00-13:00, 14:00-16:00]
      sun: 20:00-24:00
    holidays: [12-25, 02-29, 2027-04-02]
    closed: [2026-08-10..2026-08-14, 2026-09-01]
`
	nightOwl := `    time_zone: Europe/Lisbon
    open:
      daily: [01:00-02:00]
`
	tokyo := `    time_zone: Asia/Tokyo
    open: {daily: 00:00-24:00}
    holidays: [12-25]
`
	wrap := `    time_zone: UTC
    open: {fri-mon: 12:00-13:00}
`
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		hours string
		at    string // RFC 3339
		open  bool
	}{
		// Lisbon is UTC+0 in winter (WET) and UTC+1 in summer (WEST).
		{"winter before opening", office, "2026-03-27T08:59:59Z", false},
		{"winter at opening", office, "2026-03-27T09:00:00Z", true},
		{"winter last minute", office, "2026-03-27T17:59:59Z", true},
		{"winter at closing", office, "2026-03-27T18:00:00Z", false},
		{"summer opening is 08:00 UTC", office, "2026-03-30T08:00:00Z", true},
		{"summer 07:59 UTC is 08:59 local", office, "2026-03-30T07:59:00Z", false},
		{"summer closing is 17:00 UTC", office, "2026-03-30T17:00:00Z", false},
		{"time zone of the time given does not matter", office, "2026-03-30T10:30:00+02:00", true},
		{"saturday morning", office, "2026-03-28T12:59:00Z", true},
		{"saturday lunch", office, "2026-03-28T13:30:00Z", false},
		{"saturday afternoon", office, "2026-03-28T14:00:00Z", true},
		{"sunday until 24:00", office, "2026-11-01T23:59:59Z", true},
		{"monday 00:00 after sunday 24:00", office, "2026-11-02T00:00:00Z", false},
		{"christmas every year", office, "2026-12-25T10:00:00Z", false},
		{"christmas 2031", office, "2031-12-25T10:00:00Z", false},
		{"day after christmas", office, "2031-12-26T10:00:00Z", true},
		{"29 february", office, "2028-02-29T10:00:00Z", false},
		{"1 march 2027", office, "2027-03-01T10:00:00Z", true},
		{"holiday once", office, "2027-04-02T10:00:00Z", false},
		{"not the next year", office, "2028-04-03T10:00:00Z", true},
		{"first day closed", office, "2026-08-10T08:00:00Z", false},
		{"last day closed", office, "2026-08-14T16:59:00Z", false},
		{"day before the period", office, "2026-08-07T10:00:00Z", true},
		{"day after the period", office, "2026-08-17T10:00:00Z", true},
		{"closed single day", office, "2026-09-01T10:00:00Z", false},
		{"sunday evening before the period", office, "2026-08-09T22:30:00Z", true},
		// 29 March 2026 01:00 UTC: Lisbon skips from 01:00 to 02:00.
		{"before the skipped hour", nightOwl, "2026-03-29T00:59:00Z", false},
		{"the skipped hour never comes", nightOwl, "2026-03-29T01:00:00Z", false},
		// 25 October 2026 01:00 UTC: Lisbon goes back from 02:00 to 01:00.
		{"first 01:30", nightOwl, "2026-10-25T00:30:00Z", true},
		{"second 01:30", nightOwl, "2026-10-25T01:30:00Z", true},
		{"02:00 after the change", nightOwl, "2026-10-25T02:00:00Z", false},
		{"holiday by the local date", tokyo, "2026-12-24T15:00:00Z", false},
		{"not yet the holiday there", tokyo, "2026-12-24T14:59:00Z", true},
		{"range wrapping the week: friday", wrap, "2026-05-08T12:00:00Z", true},
		{"range wrapping the week: monday", wrap, "2026-05-11T12:00:00Z", true},
		{"range wrapping the week: tuesday", wrap, "2026-05-12T12:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hoursOf(t, tt.hours)
			if got := h.OpenAt(utc(tt.at)); got != tt.open {
				t.Errorf("OpenAt(%s in %s) = %v, want %v", tt.at, h.Location, got, tt.open)
			}
		})
	}
}

func TestNilHoursAlwaysOpen(t *testing.T) {
	var h *Hours
	if !h.OpenAt(time.Now()) {
		t.Error("nil Hours is closed")
	}
}

func TestHoursErrors(t *testing.T) {
	tests := []struct {
		name, hours, want string
	}{
		{"overnight", "    time_zone: UTC\n    open: {mon: 22:00-02:00}\n", "ends before it starts; a range cannot run past midnight"},
		{"empty range", "    time_zone: UTC\n    open: {mon: 09:00-09:00}\n", "ends before it starts"},
		{"24:00 start", "    time_zone: UTC\n    open: {mon: 24:00-24:00}\n", "starts at 24:00"},
		{"past 24:00", "    time_zone: UTC\n    open: {mon: 09:00-24:01}\n", "not a time range"},
		{"bad minutes", "    time_zone: UTC\n    open: {mon: 09:60-10:00}\n", "not a time range"},
		{"bad day", "    time_zone: UTC\n    open: {monday: 09:00-10:00}\n", `unknown day "monday"`},
		{"bad time zone", "    time_zone: Mars/Base\n    open: {mon: 09:00-10:00}\n", `unknown time zone "Mars/Base"`},
		{"bad holiday", "    time_zone: UTC\n    open: {mon: 09:00-10:00}\n    holidays: [04-31]\n", `"04-31" is not a date`},
		{"bad leap day", "    time_zone: UTC\n    open: {mon: 09:00-10:00}\n    holidays: [2027-02-29]\n", `"2027-02-29" is not a date`},
		{"backwards period", "    time_zone: UTC\n    open: {mon: 09:00-10:00}\n    closed: [2026-01-02..2026-01-01]\n", "ends before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := parseErrors(t, "numbers: {\"500\": {hours: h, action: hangup}}\nhours:\n  h:\n"+tt.hours, testOptions("testdata"))
			if len(errs) != 1 || !strings.Contains(errs[0].Msg, tt.want) {
				t.Errorf("got %v, want one problem with %q", errs, tt.want)
			}
		})
	}
}
