package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

func ids(ts []tickets.Ticket) []int64 {
	out := make([]int64, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestDepartmentVisibility(t *testing.T) {
	e := newEnv(t)
	support := e.ticket("Printer jam", "support", "")
	billing := e.ticket("Invoice wrong", "billing", "")
	nobody := e.ticket("No department", "", "")
	mine := e.ticket("Billing but mine", "billing", "alice")
	alice, root := e.token("alice"), e.token("root")

	billingPath := fmt.Sprintf("/api/v1/tickets/%d", billing.ID)
	r := e.ok(http.StatusForbidden, nil, http.MethodGet, billingPath, nil, alice)
	if !strings.Contains(r.errMsg(), "department") {
		t.Errorf("403 message %q does not say why", r.errMsg())
	}
	e.ok(http.StatusForbidden, nil, http.MethodPatch, billingPath, map[string]string{"status": "open"}, alice)
	e.ok(http.StatusForbidden, nil, http.MethodPost, billingPath+"/comments", map[string]string{"body": "hi"}, alice)
	e.ok(http.StatusForbidden, nil, http.MethodGet, billingPath+"/files", nil, alice)
	e.ok(http.StatusForbidden, nil, http.MethodPost, fmt.Sprintf("/api/v1/tickets/%d/merge", support.ID), map[string]int64{"into": billing.ID}, alice)
	e.ok(http.StatusForbidden, nil, http.MethodPost, "/api/v1/tickets", map[string]string{"subject": "x", "department": "billing"}, alice)
	if v, _ := e.svc.Ticket(context.Background(), billing.ID); v.Status != tickets.StatusNew || len(v.Timeline) != 0 {
		t.Errorf("a refused request changed the ticket: %+v", v)
	}

	var list []tickets.Ticket
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tickets", nil, alice)
	if got, want := ids(list), []int64{mine.ID, nobody.ID, support.ID}; !slices.Equal(got, want) {
		t.Errorf("alice lists %v, want %v", got, want)
	}
	e.ok(http.StatusOK, nil, http.MethodGet, fmt.Sprintf("/api/v1/tickets/%d", mine.ID), nil, alice)

	e.ok(http.StatusOK, nil, http.MethodGet, billingPath, nil, root)
	e.ok(http.StatusOK, nil, http.MethodPatch, billingPath, map[string]string{"status": "open"}, root)
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tickets", nil, root)
	if len(list) != 4 {
		t.Errorf("root lists %v, want all 4", ids(list))
	}
	e.ok(http.StatusOK, nil, http.MethodGet, billingPath, nil, e.token("bob"))
	e.ok(http.StatusNotFound, nil, http.MethodGet, "/api/v1/tickets/999", nil, alice)
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t) // MaxBody 4096
	tok := e.token("alice")
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		want        int
		msg         string
	}{
		{"bad JSON", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":`, http.StatusBadRequest, "invalid JSON"},
		{"syntax error", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject" "x"}`, http.StatusBadRequest, "invalid JSON"},
		{"unknown field", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":"x","bogus":1}`, http.StatusBadRequest, `"bogus"`},
		{"wrong type", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":5}`, http.StatusBadRequest, `"subject"`},
		{"trailing data", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":"x"} {}`, http.StatusBadRequest, "after the first JSON value"},
		{"empty body", http.MethodPost, "/api/v1/tickets", "application/json", ``, http.StatusBadRequest, "empty"},
		{"too large", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":"` + strings.Repeat("a", 5000) + `"}`, http.StatusRequestEntityTooLarge, "4096"},
		{"too large after the value", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":"x"}` + strings.Repeat(" ", 5000), http.StatusRequestEntityTooLarge, "4096"},
		{"wrong content type", http.MethodPost, "/api/v1/tickets", "text/plain", `{"subject":"x"}`, http.StatusUnsupportedMediaType, "application/json"},
		{"no content type", http.MethodPost, "/api/v1/tickets", "", `{"subject":"x"}`, http.StatusUnsupportedMediaType, "application/json"},
		{"charset is fine", http.MethodPost, "/api/v1/tickets", "application/json; charset=utf-8", `{"subject":"x"}`, http.StatusCreated, ""},
		{"wrong method", http.MethodDelete, "/api/v1/tickets", "", ``, http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"unknown route", http.MethodGet, "/api/v1/nothing", "", ``, http.StatusNotFound, "no such endpoint"},
		{"not an id", http.MethodGet, "/api/v1/tickets/abc", "", ``, http.StatusBadRequest, "positive integer"},
		{"invalid in tickets", http.MethodPost, "/api/v1/tickets", "application/json", `{"subject":"  "}`, http.StatusBadRequest, "subject"},
		{"bad status query", http.MethodGet, "/api/v1/tickets?status=lost", "", ``, http.StatusBadRequest, "lost"},
		{"bad limit", http.MethodGet, "/api/v1/tickets?limit=0", "", ``, http.StatusBadRequest, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := []cred{tok}
			var body any
			if tt.body != "" || tt.contentType != "" {
				body = tt.body
			}
			r := e.do(tt.method, tt.path, body, append(creds, func(r *http.Request) {
				if tt.contentType == "" {
					r.Header.Del("Content-Type")
				} else {
					r.Header.Set("Content-Type", tt.contentType)
				}
			})...)
			if r.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.want, r.body)
			}
			if ct := r.Header.Get("Content-Type"); ct != jsonContentType {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if tt.msg != "" && !strings.Contains(r.errMsg(), tt.msg) {
				t.Errorf("error %q does not mention %q", r.errMsg(), tt.msg)
			}
			if tt.want == http.StatusMethodNotAllowed && r.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestSearchContacts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, in := range []tickets.ContactInput{
		{Name: "Margaret Smith"},
		{Name: "John Doe", Company: "Marcom"},
		{Name: "Ann Lee", Address: "12 Martin Road"},
		{Name: "Peter Pan", Company: "Neverland", Address: "1 Lost Street"},
	} {
		if _, err := e.svc.CreateContact(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	tok := e.token("alice")
	var cs []tickets.Contact
	e.ok(http.StatusOK, &cs, http.MethodGet, "/api/v1/contacts?q=Mar", nil, tok)
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	slices.Sort(names) // the order is tickets' (the words matched)
	if want := []string{"Ann Lee", "John Doe", "Margaret Smith"}; !slices.Equal(names, want) {
		t.Errorf("q=Mar found %q, want %q", names, want)
	}
	e.ok(http.StatusOK, &cs, http.MethodGet, "/api/v1/contacts?limit=2", nil, tok)
	if len(cs) != 2 {
		t.Errorf("limit=2 gave %d contacts", len(cs))
	}
	e.ok(http.StatusOK, &cs, http.MethodGet, "/api/v1/contacts", nil, tok)
	if len(cs) != 4 {
		t.Errorf("no query gave %d contacts, want all 4", len(cs))
	}
}

func TestContactRoundTrip(t *testing.T) {
	e := newEnv(t)
	tok := e.token("alice")
	var c tickets.Contact
	e.ok(http.StatusCreated, &c, http.MethodPost, "/api/v1/contacts", tickets.ContactInput{Name: "Maria", Phones: []tickets.Phone{{Number: "912 345 678", Label: "mobile"}}}, tok)
	if len(c.Phones) != 1 || c.Phones[0].Number != "+351912345678" {
		t.Errorf("created %+v", c)
	}
	path := fmt.Sprintf("/api/v1/contacts/%d", c.ID)
	e.ok(http.StatusOK, &c, http.MethodPatch, path, tickets.ContactInput{Name: "Maria Silva", Emails: []string{"maria@example.com"}}, tok)
	if c.Name != "Maria Silva" || len(c.Phones) != 0 || len(c.Emails) != 1 {
		t.Errorf("after PATCH %+v", c)
	}
	e.ok(http.StatusOK, &c, http.MethodGet, path, nil, tok)
	e.ok(http.StatusBadRequest, nil, http.MethodPatch, path, tickets.ContactInput{Phones: []tickets.Phone{{Number: "not a number"}}}, tok)
	e.ok(http.StatusNotFound, nil, http.MethodGet, "/api/v1/contacts/999", nil, tok)
	e.ok(http.StatusNotFound, nil, http.MethodGet, "/api/v1/contacts/999/tickets", nil, tok)

	e.ok(http.StatusCreated, nil, http.MethodPost, "/api/v1/tickets", tickets.TicketInput{Subject: "Mine", Department: "support", ContactID: c.ID}, tok)
	e.ok(http.StatusCreated, nil, http.MethodPost, "/api/v1/tickets", tickets.TicketInput{Subject: "Billing", Department: "billing", ContactID: c.ID}, e.token("root"))
	var ts []tickets.Ticket
	e.ok(http.StatusOK, &ts, http.MethodGet, path+"/tickets", nil, tok)
	if len(ts) != 1 || ts[0].Subject != "Mine" {
		t.Errorf("alice sees the contact's tickets %+v, want only Mine", ts)
	}
}

func TestTicketRoundTrip(t *testing.T) {
	e := newEnv(t)
	alice := e.token("alice")
	var c tickets.Contact
	e.ok(http.StatusCreated, &c, http.MethodPost, "/api/v1/contacts", tickets.ContactInput{Name: "Maria"}, alice)

	var v tickets.TicketView
	e.ok(http.StatusCreated, &v, http.MethodPost, "/api/v1/tickets",
		tickets.TicketInput{Subject: "Printer jammed", Department: "support", ContactID: c.ID, Comment: "Paper stuck in tray 2"}, alice)
	if v.ID == 0 || v.Status != tickets.StatusNew || len(v.Timeline) != 1 || v.Timeline[0].Author != "alice" {
		t.Fatalf("created %+v", v)
	}
	path := fmt.Sprintf("/api/v1/tickets/%d", v.ID)
	e.ok(http.StatusOK, &v, http.MethodGet, path, nil, alice)
	if v.Subject != "Printer jammed" || v.ContactID != c.ID {
		t.Errorf("got %+v", v)
	}

	e.ok(http.StatusOK, &v, http.MethodPatch, path, map[string]any{"status": "pending", "assignee": "alice"}, alice)
	if v.Status != tickets.StatusPending || v.Assignee != "alice" {
		t.Errorf("after PATCH %+v", v)
	}
	e.ok(http.StatusBadRequest, nil, http.MethodPatch, path, map[string]any{"status": "lost"}, alice)

	var entry tickets.Entry
	e.ok(http.StatusCreated, &entry, http.MethodPost, path+"/comments", map[string]any{"body": "Replaced the roller", "public": true}, alice)
	if !entry.Public || entry.Author != "alice" || entry.TicketID != v.ID {
		t.Errorf("comment %+v", entry)
	}
	e.ok(http.StatusBadRequest, nil, http.MethodPost, path+"/comments", map[string]any{"body": ""}, alice)

	var other tickets.TicketView
	e.ok(http.StatusCreated, &other, http.MethodPost, "/api/v1/tickets", tickets.TicketInput{Subject: "Toner low", Department: "support", Status: tickets.StatusOpen}, alice)
	e.ok(http.StatusCreated, nil, http.MethodPost, "/api/v1/tickets", tickets.TicketInput{Subject: "Wifi down", Status: tickets.StatusSolved}, alice)

	list := func(query string) []int64 {
		t.Helper()
		var ts []tickets.Ticket
		e.ok(http.StatusOK, &ts, http.MethodGet, "/api/v1/tickets?"+query, nil, alice)
		return ids(ts)
	}
	for _, tt := range []struct {
		query string
		want  []int64
	}{
		{"status=pending", []int64{v.ID}},
		{"status=pending,open", []int64{other.ID, v.ID}},
		{"status=pending&status=open", []int64{other.ID, v.ID}},
		{"assignee=me", []int64{v.ID}},
		{"assignee=none&department=support", []int64{other.ID}},
		{"contact=" + fmt.Sprint(c.ID), []int64{v.ID}},
		{"q=" + url.QueryEscape("roll"), []int64{v.ID}},
		{"q=" + url.QueryEscape("print jam"), []int64{v.ID}},
		{"q=toner", []int64{other.ID}},
		{"q=nothing", []int64{}},
		{"limit=1", []int64{other.ID + 1}},
		{"before=" + fmt.Sprint(other.ID), []int64{v.ID}},
	} {
		if got := list(tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("?%s = %v, want %v", tt.query, got, tt.want)
		}
	}

	var merged tickets.TicketView
	e.ok(http.StatusOK, &merged, http.MethodPost, fmt.Sprintf("/api/v1/tickets/%d/merge", other.ID), map[string]int64{"into": v.ID}, alice)
	if merged.ID != v.ID || merged.Timeline[len(merged.Timeline)-1].Kind != tickets.EntryMerge {
		t.Errorf("merge returned %+v", merged)
	}
	e.ok(http.StatusOK, &other, http.MethodGet, fmt.Sprintf("/api/v1/tickets/%d", other.ID), nil, alice)
	if other.MergedInto != v.ID || other.Status != tickets.StatusClosed {
		t.Errorf("merged ticket %+v", other)
	}
	e.ok(http.StatusConflict, nil, http.MethodPost, path+"/merge", map[string]int64{"into": v.ID}, alice)
	e.ok(http.StatusBadRequest, nil, http.MethodPost, path+"/merge", map[string]int64{"into": 0}, alice)
	e.ok(http.StatusBadRequest, nil, http.MethodPost, path+"/merge", map[string]int64{"into": 999}, alice)
}

func TestFileAudio(t *testing.T) {
	e := newEnv(t)
	wav := make([]byte, 1000)
	for i := range wav {
		wav[i] = byte(i)
	}
	inside := e.dataDir + "/recordings/c1.wav"
	mkdir(t, e.dataDir+"/recordings")
	writeFile(t, inside, wav)
	e.call("c1", "+351912345678", "support", "alice", inside, int64(len(wav)))

	outsideDir := t.TempDir()
	outside := outsideDir + "/secret.wav"
	writeFile(t, outside, wav)
	e.call("c2", "+351912000001", "support", "alice", outside, int64(len(wav)))

	link := e.dataDir + "/recordings/link.wav"
	symlink(t, outside, link)
	e.call("c3", "+351912000002", "support", "alice", link, int64(len(wav)))

	e.call("c4", "+351912000003", "support", "alice", e.dataDir+"/recordings", 0)

	files := map[string]tickets.File{}
	ctx := context.Background()
	for id := int64(1); id <= 4; id++ {
		f, err := e.svc.File(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		files[f.CallID] = f
	}
	alice, bob, root := e.token("alice"), e.token("bob"), e.token("root")
	audio := func(call string) string { return fmt.Sprintf("/api/v1/files/%d/audio", files[call].ID) }

	var meta tickets.File
	e.ok(http.StatusOK, &meta, http.MethodGet, fmt.Sprintf("/api/v1/files/%d", files["c1"].ID), nil, alice)
	if meta.Size != 1000 || meta.Kind != tickets.FileRecording {
		t.Errorf("metadata %+v", meta)
	}
	var list []tickets.File
	e.ok(http.StatusOK, &list, http.MethodGet, fmt.Sprintf("/api/v1/tickets/%d/files", files["c1"].TicketID), nil, alice)
	if len(list) != 1 || list[0].ID != files["c1"].ID {
		t.Errorf("ticket files %+v", list)
	}

	r := e.ok(http.StatusPartialContent, nil, http.MethodGet, audio("c1"), nil, alice, header("Range", "bytes=0-99"))
	if len(r.body) != 100 || r.body[99] != 99 || r.Header.Get("Content-Type") != "audio/wav" || r.Header.Get("Content-Range") != "bytes 0-99/1000" {
		t.Errorf("range: %d bytes, %q, %q", len(r.body), r.Header.Get("Content-Type"), r.Header.Get("Content-Range"))
	}
	r = e.ok(http.StatusOK, nil, http.MethodGet, audio("c1"), nil, alice)
	if len(r.body) != 1000 || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("whole file: %d bytes, Cache-Control %q", len(r.body), r.Header.Get("Cache-Control"))
	}
	e.ok(http.StatusForbidden, nil, http.MethodGet, audio("c1"), nil, bob)

	for _, call := range []string{"c2", "c3", "c4"} {
		r := e.ok(http.StatusForbidden, nil, http.MethodGet, audio(call), nil, root)
		if strings.Contains(string(r.body), "\x01\x02\x03") {
			t.Errorf("%s: served the file", call)
		}
	}

	// delete: bob may not, the ticket's assignee (alice) may; then 410
	e.ok(http.StatusForbidden, nil, http.MethodDelete, fmt.Sprintf("/api/v1/files/%d", files["c1"].ID), nil, bob)
	e.ok(http.StatusOK, &meta, http.MethodDelete, fmt.Sprintf("/api/v1/files/%d", files["c1"].ID), nil, alice)
	if !meta.Deleted {
		t.Errorf("after DELETE %+v", meta)
	}
	e.ok(http.StatusGone, nil, http.MethodGet, audio("c1"), nil, alice)
	if fileExists(inside) {
		t.Error("the audio file is still there")
	}
	// a path outside the data directory is not deleted either
	e.ok(http.StatusForbidden, nil, http.MethodDelete, fmt.Sprintf("/api/v1/files/%d", files["c2"].ID), nil, root)
	if !fileExists(outside) {
		t.Error("a file outside the data directory was deleted")
	}
}

func TestCallsVisibility(t *testing.T) {
	e := newEnv(t)
	e.call("s1", "+351912000001", "support", "alice", "", 0)
	e.clk.Add(time.Minute)
	e.call("b1", "+351912000002", "billing", "bob", "", 0)
	alice, bob, root := e.token("alice"), e.token("bob"), e.token("root")

	callIDs := func(cred cred, query string) []string {
		t.Helper()
		var cs []tickets.CallRecord
		e.ok(http.StatusOK, &cs, http.MethodGet, "/api/v1/calls"+query, nil, cred)
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	if got := callIDs(alice, ""); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("alice lists %v", got)
	}
	if got := callIDs(root, ""); !slices.Equal(got, []string{"b1", "s1"}) {
		t.Errorf("root lists %v", got)
	}
	if got := callIDs(root, "?agent=bob&direction=inbound"); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("root lists bob's %v", got)
	}
	var c tickets.CallRecord
	e.ok(http.StatusOK, &c, http.MethodGet, "/api/v1/calls/s1", nil, alice)
	if len(c.Legs) != 1 || len(c.Events) == 0 {
		t.Errorf("call %+v: want legs and events", c)
	}
	e.ok(http.StatusForbidden, nil, http.MethodGet, "/api/v1/calls/b1", nil, alice)
	e.ok(http.StatusNotFound, nil, http.MethodGet, "/api/v1/calls/nope", nil, alice)
	e.ok(http.StatusBadRequest, nil, http.MethodGet, "/api/v1/calls?since=yesterday", nil, alice)

	var sum tickets.Summary
	e.ok(http.StatusOK, &sum, http.MethodPut, "/api/v1/calls/s1/summary",
		tickets.SummaryInput{Outcome: "solved", Notes: "reset the router", Task: &tickets.TaskInput{Title: "Call back"}}, alice)
	if sum.Agent != "alice" || sum.Task == nil || sum.Task.Agent != "alice" {
		t.Errorf("summary %+v", sum)
	}
	e.ok(http.StatusForbidden, nil, http.MethodPut, "/api/v1/calls/s1/summary", tickets.SummaryInput{Notes: "x"}, bob)
	var sums []tickets.Summary
	e.ok(http.StatusOK, &sums, http.MethodGet, "/api/v1/calls/s1/summary", nil, root)
	if len(sums) != 1 || sums[0].Notes != "reset the router" {
		t.Errorf("summaries %+v", sums)
	}
	// the call has ended: choosing a ticket or contact now conflicts
	e.ok(http.StatusConflict, nil, http.MethodPost, "/api/v1/calls/s1/ticket", tickets.TicketChoice{New: true}, alice)
	e.ok(http.StatusBadRequest, nil, http.MethodPost, "/api/v1/calls/s1/ticket", tickets.TicketChoice{}, alice)
	e.ok(http.StatusBadRequest, nil, http.MethodPost, "/api/v1/calls/s1/contact", map[string]int64{"contact_id": 0}, alice)
	e.ok(http.StatusConflict, nil, http.MethodPost, "/api/v1/calls/s1/contact", map[string]int64{"contact_id": c.ContactID}, alice)
}

func TestTasks(t *testing.T) {
	e := newEnv(t)
	alice, bob, root := e.token("alice"), e.token("bob"), e.token("root")
	var task tickets.Task
	e.ok(http.StatusCreated, &task, http.MethodPost, "/api/v1/tasks", map[string]any{"title": "Call Maria back"}, alice)
	if task.Agent != "alice" {
		t.Errorf("task %+v", task)
	}
	e.ok(http.StatusForbidden, nil, http.MethodPost, "/api/v1/tasks", map[string]any{"title": "x", "agent": "bob"}, alice)
	e.ok(http.StatusCreated, nil, http.MethodPost, "/api/v1/tasks", map[string]any{"title": "For bob", "agent": "bob"}, root)
	e.ok(http.StatusBadRequest, nil, http.MethodPost, "/api/v1/tasks", map[string]any{"title": "x", "agent": "mallory"}, root)

	path := fmt.Sprintf("/api/v1/tasks/%d", task.ID)
	e.ok(http.StatusForbidden, nil, http.MethodPatch, path, map[string]any{"done": true}, bob)
	e.ok(http.StatusOK, &task, http.MethodPatch, path, map[string]any{"done": true}, alice)
	if !task.Done || task.Title != "Call Maria back" {
		t.Errorf("after PATCH %+v", task)
	}
	var ts []tickets.Task
	e.ok(http.StatusOK, &ts, http.MethodGet, "/api/v1/tasks", nil, alice)
	if len(ts) != 0 {
		t.Errorf("open tasks %+v", ts)
	}
	e.ok(http.StatusOK, &ts, http.MethodGet, "/api/v1/tasks?done=true", nil, alice)
	if len(ts) != 1 {
		t.Errorf("all of alice's tasks %+v", ts)
	}
	e.ok(http.StatusForbidden, nil, http.MethodGet, "/api/v1/tasks?agent=bob", nil, alice)
	e.ok(http.StatusOK, &ts, http.MethodGet, "/api/v1/tasks?done=true", nil, root)
	if len(ts) != 2 {
		t.Errorf("root sees %+v", ts)
	}
	billing := e.ticket("Invoice", "billing", "")
	e.ok(http.StatusForbidden, nil, http.MethodPatch, path, map[string]any{"ticket_id": billing.ID}, alice)
	e.ok(http.StatusBadRequest, nil, http.MethodPatch, path, map[string]any{"ticket_id": 999}, alice)
}

// TestAudioDataDirSymlink: a data directory reached through a symlink
// (/var/lib/ringdesk -> /srv/data) still serves the files under it.
func TestAudioDataDirSymlink(t *testing.T) {
	target := t.TempDir()
	link := t.TempDir() + "/data"
	symlink(t, target, link)
	e := newEnv(t, func(c *Config) { c.DataDir = link })
	wav := []byte("RIFF....WAVEfmt ")
	writeFile(t, target+"/a.wav", wav)
	e.call("c1", "+351912345678", "support", "alice", link+"/a.wav", int64(len(wav)))
	r := e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/files/1/audio", nil, e.token("alice"))
	if string(r.body) != string(wav) {
		t.Errorf("served %q", r.body)
	}
}

func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, func(c *Config) { c.Log = log })
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil)
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/me", nil, e.token("bob"))
	out := buf.String()
	for _, want := range []string{"path=/api/v1/me status=401", "path=/api/v1/me status=200 user=bob"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "rdk_") {
		t.Errorf("the log shows a token:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
