package dialplan

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// minutesPerDay is where the last time range of a day may end (24:00).
const minutesPerDay = 24 * 60

// span is a time range within a day, in minutes since midnight: from is
// in, to is out.
type span struct{ from, to int }

// dateSpan is a range of dates, both ends in, as YYYYMMDD numbers.
type dateSpan struct{ from, to int }

// OpenAt reports whether t, seen in h's time zone, falls in an open time
// range of its weekday and not on a holiday or closed date. A nil Hours is
// always open.
func (h *Hours) OpenAt(t time.Time) bool {
	if h == nil {
		return true
	}
	t = t.In(h.Location)
	y, m, d := t.Date()
	if h.yearly[m]&(1<<d) != 0 {
		return false
	}
	day := y*10000 + int(m)*100 + d
	for _, s := range h.dates {
		if day >= s.from && day <= s.to {
			return false
		}
	}
	hour, minute, _ := t.Clock()
	now := hour*60 + minute
	for _, s := range h.week[t.Weekday()] {
		if now >= s.from && now < s.to {
			return true
		}
	}
	return false
}

// dayNames are the days in time.Weekday order, as the dialplan writes them.
const dayNames = "sun mon tue wed thu fri sat"

// weekday returns the day named s.
func weekday(s string) (time.Weekday, bool) {
	i := strings.Index(dayNames, s)
	if len(s) != 3 || i < 0 || i%4 != 0 {
		return 0, false
	}
	return time.Weekday(i / 4), true
}

// dayName is the name of day d.
func dayName(d time.Weekday) string { return dayNames[4*d : 4*d+3] }

// parseDays returns the days of "mon", "mon-fri" (which may wrap around
// the week, as in "fri-mon") or "daily".
func parseDays(s string) ([]time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "daily" {
		return []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}, true
	}
	first, last, isRange := strings.Cut(s, "-")
	from, ok := weekday(strings.TrimSpace(first))
	if !ok {
		return nil, false
	}
	if !isRange {
		return []time.Weekday{from}, true
	}
	to, ok := weekday(strings.TrimSpace(last))
	if !ok {
		return nil, false
	}
	days := []time.Weekday{from}
	for d := from; d != to; {
		d = (d + 1) % 7
		days = append(days, d)
	}
	return days, true
}

// parseClock parses HH:MM (or H:MM), 00:00 to 24:00, into minutes.
func parseClock(s string) (int, bool) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) || hh[0] == '+' || mm[0] == '+' {
		return 0, false
	}
	return h*60 + m, true
}

// parseSpan parses a time range such as 09:00-18:00.
func parseSpan(s string) (span, error) {
	from, to, ok := strings.Cut(s, "-")
	a, okA := parseClock(from)
	b, okB := parseClock(to)
	switch {
	case !ok || !okA || !okB:
		return span{}, fmt.Errorf("%q is not a time range such as 09:00-18:00 (00:00 to 24:00)", yamlpos.Clip(s))
	case a == minutesPerDay:
		return span{}, fmt.Errorf("%q starts at 24:00, the end of the day; write 00:00", yamlpos.Clip(s))
	case b <= a:
		return span{}, fmt.Errorf("%q ends before it starts; a range cannot run past midnight: end it at 24:00 and open the next day at 00:00", yamlpos.Clip(s))
	}
	return span{a, b}, nil
}

// parseDate parses YYYY-MM-DD into YYYYMMDD.
func parseDate(s string) (int, bool) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.Year()*10000 + int(t.Month())*100 + t.Day(), true
}

// parseMonthDay parses MM-DD (29 February included).
func parseMonthDay(s string) (time.Month, int, bool) {
	mm, dd, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok || len(mm) != 2 || len(dd) != 2 {
		return 0, 0, false
	}
	m, err1 := strconv.Atoi(mm)
	d, err2 := strconv.Atoi(dd)
	if err1 != nil || err2 != nil || m < 1 || m > 12 || d < 1 {
		return 0, 0, false
	}
	// 2024 is a leap year: every month at its longest.
	if d > time.Date(2024, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, 0, false
	}
	return time.Month(m), d, true
}

func (c *compiler) compileHours(r *rawHours) *Hours {
	h := &Hours{ID: r.id, Location: time.UTC}
	switch tz := r.timeZone; {
	case !tz.Present:
		c.d.Errorf(r.at, r.path, "time_zone is required: an IANA time zone such as \"Europe/Lisbon\"")
	case !tz.Set:
	default:
		name := strings.TrimSpace(tz.V)
		loc, err := time.LoadLocation(name)
		if err != nil || name == "" || name == "Local" {
			c.d.Errorf(tz.At, r.path+".time_zone", "unknown time zone %q; use an IANA name such as \"Europe/Lisbon\" or \"UTC\"", yamlpos.Clip(tz.V))
		} else {
			h.Location = loc
		}
	}
	c.openDays(r, h)
	for _, v := range r.holidays.V {
		if !v.Set {
			continue
		}
		if m, d, ok := parseMonthDay(v.V); ok {
			h.yearly[m] |= 1 << d
		} else if day, ok := parseDate(v.V); ok {
			h.dates = append(h.dates, dateSpan{day, day})
		} else {
			c.d.Errorf(v.At, r.path+".holidays", "%q is not a date: MM-DD for every year, or YYYY-MM-DD for once", yamlpos.Clip(v.V))
			continue
		}
		h.holidays = append(h.holidays, strings.TrimSpace(v.V))
	}
	for _, v := range r.closed.V {
		if !v.Set {
			continue
		}
		first, last, isRange := strings.Cut(v.V, "..")
		if !isRange {
			last = first
		}
		from, okFrom := parseDate(first)
		to, okTo := parseDate(last)
		switch {
		case !okFrom || !okTo:
			c.d.Errorf(v.At, r.path+".closed", "%q is not a date or period: YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD", yamlpos.Clip(v.V))
			continue
		case to < from:
			c.d.Errorf(v.At, r.path+".closed", "%q ends before it starts", yamlpos.Clip(v.V))
			continue
		}
		h.dates = append(h.dates, dateSpan{from, to})
		h.closed = append(h.closed, strings.TrimSpace(v.V))
	}
	return h
}

// openDays compiles hours.open into h's weekly spans.
func (c *compiler) openDays(r *rawHours, h *Hours) {
	path := r.path + ".open"
	switch {
	case !r.open.Present:
		c.d.Errorf(r.at, r.path, "open is required: the days and hours callers are served, such as mon-fri: 09:00-18:00")
		return
	case len(r.days) == 0:
		c.d.Errorf(r.open.Key, path, "at least one day is required, such as mon-fri: 09:00-18:00")
		return
	}
	for _, e := range r.days {
		days, ok := parseDays(e.days)
		if !ok {
			c.d.Errorf(e.at, path, "unknown day %q; write mon, tue, wed, thu, fri, sat or sun, a range such as mon-fri, or daily", yamlpos.Clip(e.days))
		}
		for _, v := range e.ranges {
			if !v.Set {
				continue
			}
			s, err := parseSpan(v.V)
			if err != nil {
				c.d.Errorf(v.At, yamlpos.Join(path, e.days), "%v", err)
				continue
			}
			for _, d := range days {
				h.week[d] = append(h.week[d], s)
			}
		}
	}
	for d := range h.week {
		h.week[d] = mergeSpans(h.week[d])
	}
}

// mergeSpans sorts spans and joins those that overlap or touch.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && s.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// weekly describes h's week, days with the same hours together:
// "mon-fri 09:00-18:00; sat 10:00-13:00, 14:00-16:00".
func (h *Hours) weekly() string {
	var parts []string
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && slices.Equal(h.week[order[j]], h.week[order[i]]) {
			j++
		}
		if spans := h.week[order[i]]; len(spans) > 0 {
			days := dayName(order[i])
			if j-i > 1 {
				days += "-" + dayName(order[j-1])
			}
			times := make([]string, len(spans))
			for k, s := range spans {
				times[k] = fmt.Sprintf("%02d:%02d-%02d:%02d", s.from/60, s.from%60, s.to/60, s.to%60)
			}
			parts = append(parts, days+" "+strings.Join(times, ", "))
		}
		i = j
	}
	if len(parts) == 0 {
		return "never open"
	}
	return strings.Join(parts, "; ")
}
