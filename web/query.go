package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

// Paging limits of the list endpoints.
const (
	defaultLimit       = 50
	maxLimit           = 500
	maxContactLimit    = 200
	defaultContactList = 50
)

// queryInt is the non-negative integer query parameter name (0 when
// absent).
func queryInt(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "query parameter %s=%q is not a non-negative integer", name, v)
	}
	return n, nil
}

// queryLimit is the limit parameter: def when absent, else 1-maxN.
func queryLimit(q url.Values, def, maxN int) (int, error) {
	if q.Get("limit") == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n < 1 || n > maxN {
		return 0, errorf(http.StatusBadRequest, "query parameter limit=%q must be an integer from 1 to %d", q.Get("limit"), maxN)
	}
	return n, nil
}

// queryTime is the RFC 3339 time query parameter name (zero when absent).
func queryTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errorf(http.StatusBadRequest, "query parameter %s=%q is not an RFC 3339 time like 2026-01-02T15:04:05Z", name, v)
	}
	return t, nil
}

// queryBool is the boolean query parameter name (false when absent).
func queryBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusBadRequest, "query parameter %s=%q is not true or false", name, v)
	}
	return b, nil
}

// ticketFilter reads the ticket list's query: status (repeated or a comma
// list), assignee (me, none or an id), department, contact, q, limit and
// before.
func ticketFilter(q url.Values, p *principal) (tickets.Filter, error) {
	var f tickets.Filter
	for _, v := range q["status"] {
		for st := range strings.SplitSeq(v, ",") {
			st = strings.TrimSpace(st)
			if st == "" {
				continue
			}
			if !tickets.Status(st).Valid() {
				return f, errorf(http.StatusBadRequest, "status %q is not one of new, open, pending, on-hold, solved, closed", st)
			}
			f.Statuses = append(f.Statuses, tickets.Status(st))
		}
	}
	if q.Has("assignee") {
		a := q.Get("assignee")
		switch a {
		case "me":
			a = p.ID
		case "none":
			a = ""
		}
		f.Assignee = &a
	}
	f.Department = q.Get("department")
	f.Text = q.Get("q")
	var err error
	if f.ContactID, err = queryInt(q, "contact"); err != nil {
		return f, err
	}
	if f.Before, err = queryInt(q, "before"); err != nil {
		return f, err
	}
	if f.Limit, err = queryLimit(q, defaultLimit, maxLimit); err != nil {
		return f, err
	}
	f.Visible = p.visibility()
	return f, nil
}

// callFilter reads the call list's query: agent (me or an id), contact,
// ticket, direction, since, until, before and limit.
func callFilter(q url.Values, p *principal) (tickets.CallFilter, error) {
	var f tickets.CallFilter
	f.Agent = q.Get("agent")
	if f.Agent == "me" {
		f.Agent = p.ID
	}
	switch d := tickets.Direction(q.Get("direction")); d {
	case "", tickets.Inbound, tickets.Outbound, tickets.Internal:
		f.Direction = d
	default:
		return f, errorf(http.StatusBadRequest, "direction %q is not one of inbound, outbound, internal", d)
	}
	var err error
	if f.ContactID, err = queryInt(q, "contact"); err != nil {
		return f, err
	}
	if f.TicketID, err = queryInt(q, "ticket"); err != nil {
		return f, err
	}
	if f.Since, err = queryTime(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = queryTime(q, "until"); err != nil {
		return f, err
	}
	if f.Before, err = queryTime(q, "before"); err != nil {
		return f, err
	}
	f.BeforeID = q.Get("before_id")
	if f.Limit, err = queryLimit(q, defaultLimit, maxLimit); err != nil {
		return f, err
	}
	if !p.Admin {
		f.Visible = p.visibility()
	}
	return f, nil
}
