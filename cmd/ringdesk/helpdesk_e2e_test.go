package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/tickets"
	"github.com/ringdesk/ringdesk/web"
	"github.com/ringdesk/ringdesk/webhooks"
)

// The helpdesk end to end: real calls from the phone network (SIPp as the
// provider) through the dialplan to an agent's desk phone (baresip) become
// contacts, tickets and call records, read back through the REST API as
// the agent UI will. RTP ports 37300-37899.

// webAgents are testAgents with web logins: alice in support, bob in
// support and billing, carol an admin.
func webAgents(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("agents:\n")
	for _, a := range []struct{ id, name, ext, admin string }{
		{"alice", "Alice Example", "1001", "false"}, {"bob", "Bob Example", "1002", "false"}, {"carol", "Carol Example", "1003", "true"},
	} {
		hash, err := web.HashPassword(a.id + "-web-secret")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - id: %s\n    name: %s\n    extension: %q\n    sip_password: %s-%s\n    web_password_hash: %q\n    admin: %s\n",
			a.id, a.name, a.ext, a.id, a.ext, hash, a.admin)
	}
	return b.String()
}

const helpdeskTop = `
http:
  listen: 127.0.0.1:0
departments:
  - name: support
    agents: [alice, bob]
  - name: billing
    agents: [bob]
  - name: sales
    agents: [carol]
tickets:
  voicemail_assignee: carol
`

// helpdeskPlan: the DID's menu: 1 Support (queue of bob), 2 Billing
// (queue of bob, department billing), 3 voicemail, 4 Sales (a queue of
// carol, who is offline).
func helpdeskPlan(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf(`
messages:
  on_hold: {file: %[1]s}
numbers:
  "+351210000000":
    description: Support line
    department: support
    action: menu main
menus:
  main:
    name: Main
    prompt: {file: %[2]s}
    timeout: 10s
    options:
      1: {name: Support, action: queue support}
      2: {name: Billing, action: queue billing, department: billing}
      3: {name: Message, action: voicemail support}
      4: {name: Sales, action: queue sales, department: sales}
queues:
  support: {agents: [bob], ring_interval: 20s}
  billing: {agents: [bob], ring_interval: 20s}
  sales: {agents: [carol], ring_interval: 20s, max_wait: 60s}
voicemail:
  support: {max_length: 30s, department: support}
`, sound(t, "on-hold.wav"), sound(t, "beep.wav"))
}

// apiClient is a logged-in agent's view of the REST API.
type apiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newAPIClient(t *testing.T, pbx *testPBX) *apiClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: "http://" + pbx.app.httpAddr + "/api/v1", c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// login logs in (password: ID-web-secret) and returns the client.
func loginAs(t *testing.T, pbx *testPBX, user string) *apiClient {
	t.Helper()
	c := newAPIClient(t, pbx)
	if st := c.do("POST", "/login", map[string]string{"user": user, "password": user + "-web-secret"}, nil); st != http.StatusOK {
		t.Fatalf("login %s: status %d", user, st)
	}
	return c
}

// do sends body as JSON (a string is sent as it is) and decodes the
// response into out; it returns the status.
func (c *apiClient) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v\n%s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// getOK GETs path into out and fails the test unless it is 200.
func (c *apiClient) getOK(path string, out any) {
	c.t.Helper()
	if st := c.do("GET", path, nil, out); st != http.StatusOK {
		c.t.Fatalf("GET %s: status %d", path, st)
	}
}

// download GETs a file's audio into a temp WAV file.
func (c *apiClient) download(t *testing.T, id int64) string {
	t.Helper()
	resp, err := c.c.Get(fmt.Sprintf("%s/files/%d/audio", c.base, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("file %d audio: status %d, type %q", id, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("file-%d.wav", id))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	return path
}

// ivrCall calls the DID from number, presses digit (RFC 4733) after a
// second, then sends a tone of hz for the rest of a call that lasts about
// 7 s plus stay.
func ivrCall(ctx context.Context, t *testing.T, pbx *testPBX, from, digit string, hz float64, stay time.Duration) calls.CallRecord {
	t.Helper()
	media0 := peertest.FreeRTPPort(t, providerIP)
	uac := peertest.SIPp{
		Scenario: "uac_ivr.xml", Remote: pbx.sipAddr("udp").String(), IP: providerIP, MediaIP: providerIP,
		MediaPort: media0, Service: "210000000", DurationMS: int(stay.Milliseconds()), Timeout: 60 * time.Second,
		Keys: map[string]string{
			"caller": from,
			"pcap":   digitPcap(t, digit, time.Second, false),
			"pcap2":  peertest.WriteTonePcap(t, hz, 2900*time.Millisecond, media.PCMU, ""),
			"pcap3":  peertest.WriteTonePcap(t, hz, stay+time.Second, media.PCMU, ""),
		},
	}.Start(t)
	mustSucceed(t, "caller "+from, uac.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if err := pbx.app.feed.flush(ctx); err != nil {
		t.Fatal(err)
	}
	return rec
}

func oneTicketOf(t *testing.T, api *apiClient, query string) tickets.Ticket {
	t.Helper()
	var ts []tickets.Ticket
	api.getOK("/tickets?"+query, &ts)
	if len(ts) != 1 {
		t.Fatalf("tickets?%s: %d tickets, want 1: %+v", query, len(ts), ts)
	}
	return ts[0]
}

func entriesOf(v tickets.TicketView, kind tickets.EntryKind) []tickets.Entry {
	var out []tickets.Entry
	for _, e := range v.Timeline {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestHelpdeskTicketsFromCalls: a new number calls the DID, picks Support
// and bob answers on his desk phone: a contact exists for the number, and
// a ticket assigned to bob holds the call (duration, wait, queue, menu
// path) and its recording, reachable through the REST API. The same number
// calls again with the same choice: same ticket; with another choice: a
// new ticket. A caller who hangs up in a queue leaves an unassigned ticket
// in the queue's department; a voicemail makes a new ticket although one
// is open, whose recording downloads and holds the caller's voice.
func TestHelpdeskTicketsFromCalls(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip")
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	provPort := peertest.FreeSIPPort(t, providerIP)
	top := "trunks:\n" + trunkYAML("provider", providerIP, provPort, "username: \"351219999999\"\npassword: prov-secret\n") +
		"routes:\n  - prefix: \"+351\"\n    trunks: [provider]\n" + helpdeskTop
	pbx := startPBX(t, pbxOptions{RTPPorts: "37300-37499", Top: top, Agents: webAgents(t), Calls: "record: true", Dialplan: helpdeskPlan(t)})
	if err := pbx.app.pool.SetStatus("carol", acd.Offline); err != nil {
		t.Fatal(err)
	}
	bob := peertest.Baresip{
		IP: loopback, User: "1002", Password: "bob-1002", Registrar: pbx.sipAddr("udp").String(),
		WAV: peertest.WriteToneWAV(t, 700, 2*time.Minute),
	}.Start(t)
	if _, err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	api := loginAs(t, pbx, "bob")
	const caller = "+351912345678"

	// 1. a new number, Support, bob answers
	rec := ivrCall(ctx, t, pbx, caller, "1", 440, 5*time.Second)
	if rec.Answered.IsZero() {
		t.Fatalf("the first call was not answered: %+v", rec)
	}
	var contacts []tickets.Contact
	api.getOK("/contacts?q="+url.QueryEscape("912345678"), &contacts)
	if len(contacts) != 1 || len(contacts[0].Phones) != 1 || contacts[0].Phones[0].Number != caller {
		t.Fatalf("contacts for the caller: %+v", contacts)
	}
	contact := contacts[0].ID
	first := oneTicketOf(t, api, fmt.Sprintf("contact=%d", contact))
	var v tickets.TicketView
	api.getOK(fmt.Sprintf("/tickets/%d", first.ID), &v)
	if v.Assignee != "bob" || v.Department != "support" || v.MenuPath != "Support" || v.Status != tickets.StatusOpen || !v.ByCall {
		t.Errorf("first ticket %+v: want open, bob's, support, menu Support, created by a call", v.Ticket)
	}
	if c := v.Call; c == nil || c.CallID != string(rec.ID) || c.Queue != "support" || c.DurationMS < 4000 || c.WaitMS < 0 || c.From != caller {
		t.Errorf("call fields %+v: want call %s, queue support, several seconds long, from %s", v.Call, rec.ID, caller)
	}
	callEntries := entriesOf(v, tickets.EntryCall)
	if len(callEntries) != 1 || !strings.Contains(callEntries[0].Body, "menu Support") || !strings.Contains(callEntries[0].Body, "queue support") ||
		!strings.Contains(callEntries[0].Body, "answered by bob") || !strings.Contains(callEntries[0].Body, "talked") {
		t.Errorf("call on the timeline: %+v", callEntries)
	}
	if cs := entriesOf(v, tickets.EntryComment); len(cs) == 0 || !strings.Contains(cs[0].Body, "Call ID: "+string(rec.ID)) || !strings.Contains(cs[0].Body, "Menu selection: Support") {
		t.Errorf("first internal comment: %+v", cs)
	}
	recs := entriesOf(v, tickets.EntryRecording)
	if len(recs) != 1 || recs[0].FileID == 0 {
		t.Fatalf("recording on the timeline: %+v", v.Timeline)
	}
	chans, _, err := mediatest.ReadWAVChannels(api.download(t, recs[0].FileID))
	if err != nil || len(chans) != 2 {
		t.Fatalf("recording: %d channels, %v", len(chans), err)
	}
	assertTone(t, "the recording's caller channel", mediatest.Trim(chans[0], 8000, 0.02), 440)
	assertTone(t, "the recording's agent channel", mediatest.Trim(chans[1], 8000, 0.02), 700)
	var record tickets.CallRecord
	api.getOK("/calls/"+string(rec.ID), &record)
	if record.Agent != "bob" || record.TicketID != first.ID || len(record.Legs) < 2 || record.Ended.IsZero() {
		t.Errorf("call record %+v", record)
	}

	// 2. the same number, the same choice: the same ticket
	rec2 := ivrCall(ctx, t, pbx, caller, "1", 440, 2*time.Second)
	again := oneTicketOf(t, api, fmt.Sprintf("contact=%d", contact))
	api.getOK(fmt.Sprintf("/tickets/%d", again.ID), &v)
	if again.ID != first.ID || len(entriesOf(v, tickets.EntryCall)) != 2 || v.Call == nil || v.Call.CallID != string(rec2.ID) {
		t.Errorf("second call: ticket %d (first %d), %d calls on it, last call %+v", again.ID, first.ID, len(entriesOf(v, tickets.EntryCall)), v.Call)
	}

	// 3. another choice: a new ticket, in billing
	ivrCall(ctx, t, pbx, caller, "2", 440, 2*time.Second)
	billing := oneTicketOf(t, api, fmt.Sprintf("contact=%d&department=billing", contact))
	if billing.ID == first.ID || billing.MenuPath != "Billing" || billing.Assignee != "bob" {
		t.Errorf("billing ticket %+v", billing)
	}

	// 4. a caller hangs up in the queue: an unassigned ticket in sales
	abandoned := ivrCall(ctx, t, pbx, "+351913000000", "4", 500, 2*time.Second)
	if abandoned.Route == nil || !abandoned.Route.Abandoned {
		t.Errorf("the sales call's route %+v, want abandoned", abandoned.Route)
	}
	admin := loginAs(t, pbx, "carol")
	sales := oneTicketOf(t, admin, "department=sales")
	if sales.Assignee != "" || sales.Status != tickets.StatusNew || !strings.HasPrefix(sales.Subject, "Abandoned call from") {
		t.Errorf("abandoned call's ticket %+v", sales)
	}
	if st := api.do("GET", fmt.Sprintf("/tickets/%d", sales.ID), nil, nil); st != http.StatusForbidden {
		t.Errorf("bob (not in sales) reads the sales ticket: status %d, want 403", st)
	}

	// 5. a voicemail while the ticket is open: a new ticket, carol's
	vmCall := ivrCall(ctx, t, pbx, caller, "3", 900, 4*time.Second)
	var vmTickets []tickets.Ticket
	admin.getOK(fmt.Sprintf("/tickets?contact=%d&assignee=carol", contact), &vmTickets)
	if len(vmTickets) != 1 || vmTickets[0].ID == first.ID || !strings.HasPrefix(vmTickets[0].Subject, "Voicemail from") {
		t.Fatalf("voicemail tickets %+v", vmTickets)
	}
	admin.getOK(fmt.Sprintf("/tickets/%d", vmTickets[0].ID), &v)
	vms := entriesOf(v, tickets.EntryVoicemail)
	if len(vms) != 1 || vms[0].FileID == 0 || vms[0].CallID != string(vmCall.ID) {
		t.Fatalf("voicemail on the timeline: %+v", v.Timeline)
	}
	vmLeft, _, _, err := mediatest.ReadWAV(admin.download(t, vms[0].FileID))
	if err != nil {
		t.Fatal(err)
	}
	assertTone(t, "the voicemail", mediatest.Trim(vmLeft, 8000, 0.02), 900)
	if open := oneTicketOf(t, api, fmt.Sprintf("contact=%d&department=support&assignee=bob", contact)); open.ID != first.ID || !open.Status.Active() {
		t.Errorf("the open ticket %+v changed", open)
	}

	// 6. alice calls the customer back through the trunk: the call joins
	// the customer's latest active ticket a call created (the voicemail's,
	// A151, A154), which becomes Open and hers
	prov := peertest.SIPp{
		Scenario: "uas_provider.xml", IP: providerIP, Port: provPort, MediaIP: providerIP, MediaPort: peertest.FreeRTPPort(t, providerIP),
		Timeout: 60 * time.Second, DurationMS: 500, Keys: map[string]string{
			"realm": "provider.test",
			"early": peertest.WriteTonePcap(t, 425, time.Second, media.PCMU, ""),
			"pcap":  peertest.WriteTonePcap(t, 1100, 10*time.Second, media.PCMU, ""),
		},
	}.Start(t)
	out := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "912345678", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 660, 6*time.Second, media.PCMU, "")}, 3000)
	mustSucceed(t, "alice's call out", out.Wait(ctx))
	mustSucceed(t, "the provider", prov.Wait(ctx))
	outRec := pbx.nextCall(ctx)
	if err := pbx.app.feed.flush(ctx); err != nil {
		t.Fatal(err)
	}
	var outCall tickets.CallRecord
	admin.getOK("/calls/"+string(outRec.ID), &outCall)
	if outCall.Direction != tickets.Outbound || outCall.Agent != "alice" || outCall.To != caller || outCall.ContactID != contact {
		t.Errorf("the call out's record %+v", outCall)
	}
	if outCall.TicketID != vmTickets[0].ID {
		t.Errorf("the call out went on ticket %d, want the voicemail's %d", outCall.TicketID, vmTickets[0].ID)
	}
	admin.getOK(fmt.Sprintf("/tickets/%d", vmTickets[0].ID), &v)
	if v.Status != tickets.StatusOpen || v.Assignee != "alice" || v.Call == nil || v.Call.CallID != string(outRec.ID) {
		t.Errorf("after the call out the voicemail ticket is %+v, call fields %+v", v.Ticket, v.Call)
	}
}

// TestHelpdeskAPIRefuses: the API of a running Ringdesk refuses a wrong
// password, a request without credentials, another department's ticket
// and bad JSON, each with its status and a JSON message; the dialer's
// search finds a contact by any part of the name, company or address.
func TestHelpdeskAPIRefuses(t *testing.T) {
	e2e(t)
	pbx := startPBX(t, pbxOptions{RTPPorts: "37500-37599", Top: helpdeskTop, Agents: webAgents(t)})
	anon := newAPIClient(t, pbx)
	if st := anon.do("POST", "/login", map[string]string{"user": "bob", "password": "wrong"}, nil); st != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", st)
	}
	if st := anon.do("GET", "/tickets", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", st)
	}
	carol, alice := loginAs(t, pbx, "carol"), loginAs(t, pbx, "alice")
	var billing tickets.TicketView
	if st := carol.do("POST", "/tickets", map[string]any{"subject": "Invoice wrong", "department": "billing"}, &billing); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("create: %d", st)
	}
	if st := alice.do("GET", fmt.Sprintf("/tickets/%d", billing.ID), nil, nil); st != http.StatusForbidden {
		t.Errorf("alice reads billing's ticket: %d, want 403", st)
	}
	if st := alice.do("POST", "/tickets", `{"subject": "x",`, nil); st != http.StatusBadRequest {
		t.Errorf("bad JSON: %d, want 400", st)
	}
	if st := alice.do("POST", "/tickets", `{"subject": "x", "colour": "red"}`, nil); st != http.StatusBadRequest {
		t.Errorf("unknown field: %d, want 400", st)
	}
	for _, c := range []map[string]any{
		{"name": "Margaret Smith"}, {"name": "Jo Bloggs", "company": "Marcom"}, {"name": "Simon Peter", "address": "12 Martin Road"}, {"name": "Ana Amar"},
	} {
		if st := alice.do("POST", "/contacts", c, nil); st != http.StatusCreated && st != http.StatusOK {
			t.Fatalf("create contact %v: %d", c, st)
		}
	}
	var found []tickets.Contact
	alice.getOK("/contacts?q=Mar", &found)
	var names []string
	for _, c := range found {
		names = append(names, c.Name)
	}
	if len(found) != 3 || strings.Contains(strings.Join(names, ","), "Ana") {
		t.Errorf(`"Mar" found %q, want Margaret Smith, Jo Bloggs (Marcom) and Simon Peter (Martin Road)`, names)
	}
}

// openTickets opens the helpdesk of a data directory, for a test to read
// what a Ringdesk process left there.
func openTickets(t *testing.T, dataDir string) *tickets.Service {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "ringdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc, err := tickets.New(t.Context(), db, tickets.Options{Settings: tickets.Settings{Country: "PT"}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestHelpdeskSurvivesSIGKILL: Ringdesk is killed with SIGKILL while bob
// talks to a caller from the phone network. Started again, it closes the
// call with cause "restart"; the caller's ticket is whole (assigned to
// bob, the call on its timeline with its fields), and nothing is there
// twice.
func TestHelpdeskSurvivesSIGKILL(t *testing.T) {
	ctx := e2e(t, "sipp")
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	top := "trunks:\n" + trunkYAML("provider", providerIP, 5060, "")
	cfg := writeChildConfig(t, "37600-37699", "", top, didToBob)
	pbx := startChildConfig(ctx, t, cfg)

	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.registerAt(ctx, t, pbx.addr, 300))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 30*time.Second, media.PCMU, "")})
	uac := peertest.SIPp{
		Scenario: "uac_call.xml", Remote: pbx.addr.String(), IP: providerIP, MediaIP: providerIP, Service: "210000000",
		Keys:       map[string]string{"caller": "+351912345678", "pcap": peertest.WriteTonePcap(t, 1000, 30*time.Second, media.PCMU, "")},
		DurationMS: 30000, Timeout: 45 * time.Second,
	}.Start(t)

	svc := openTickets(t, cfg.dataDir)
	var call tickets.CallRecord
	for call.Answered.IsZero() || call.TicketID == 0 {
		cs, err := svc.Calls(ctx, tickets.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 {
			call = cs[0]
		}
		if uac.Exited() || pbx.Exited() {
			t.Fatalf("the call ended before it was answered and on a ticket: %+v", call)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the call was never answered and on a ticket: %+v", call)
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(2*heartbeatEvery + 500*time.Millisecond) // talk past two heartbeats
	if err := pbx.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, err := pbx.Wait(ctx); code != -1 || err == nil {
		t.Fatalf("ringdesk after SIGKILL: exit %d, %v", code, err)
	}
	uac.Stop()
	uas.Stop()
	if got, err := svc.Call(ctx, call.ID); err != nil || !got.Ended.IsZero() {
		t.Fatalf("before the restart the call is %+v (%v), want still open", got, err)
	}

	again := startChildConfig(ctx, t, cfg)
	if _, err := again.WaitLog(ctx, `closed the calls the last stop interrupted.*calls=1`); err != nil {
		t.Error(err)
	}
	got, err := svc.Call(ctx, call.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cause != "restart" || got.Ended.IsZero() || got.TalkMS < 1000 || got.Agent != "bob" {
		t.Errorf("after the restart the call is %+v, want ended by restart, answered by bob, talked for seconds", got)
	}
	ts, err := svc.Tickets(ctx, tickets.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("%d tickets, want 1: %+v", len(ts), ts)
	}
	v, err := svc.Ticket(ctx, ts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Assignee != "bob" || v.Call == nil || v.Call.CallID != call.ID || v.Call.DurationMS != got.TalkMS {
		t.Errorf("ticket %+v, call fields %+v", v.Ticket, v.Call)
	}
	if n := len(entriesOf(v, tickets.EntryCall)); n != 1 || !strings.Contains(entriesOf(v, tickets.EntryCall)[0].Body, "ended: restart") {
		t.Errorf("calls on the timeline: %+v", v.Timeline)
	}
	cs, err := svc.ContactsByPhone(ctx, "+351912345678")
	if err != nil || len(cs) != 1 {
		t.Errorf("contacts for the caller: %+v, %v", cs, err)
	}
	again.Stop()
}

// TestHelpdeskWebhooks: a running Ringdesk POSTs each change to the
// configured webhook, signed with its secret: a ticket created through the
// API reaches the receiver (a loopback HTTP server) as ticket.created.
func TestHelpdeskWebhooks(t *testing.T) {
	ctx := e2e(t)
	const secret = "a-webhook-secret-of-some-length"
	got := make(chan tickets.Change, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhooks.Verify(secret, r.Header.Get("Ringdesk-Signature"), body, time.Now(), time.Minute); err != nil {
			t.Errorf("delivery %s: %v", r.Header.Get("Ringdesk-Delivery"), err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var c tickets.Change
		if err := json.Unmarshal(body, &c); err != nil {
			t.Errorf("delivery body %q: %v", body, err)
		}
		got <- c
	}))
	defer recv.Close()
	top := helpdeskTop + fmt.Sprintf("webhooks:\n  - url: %s/hook\n    secret: %s\n", recv.URL, secret)
	pbx := startPBX(t, pbxOptions{RTPPorts: "37700-37799", Top: top, Agents: webAgents(t)})
	carol := loginAs(t, pbx, "carol")
	var created tickets.TicketView
	if st := carol.do("POST", "/tickets", map[string]any{"subject": "Webhook me", "department": "support"}, &created); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("create: %d", st)
	}
	for {
		select {
		case c := <-got:
			if c.Kind == tickets.TicketCreated && c.TicketID == created.ID && c.Department == "support" {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no ticket.created for ticket %d reached the webhook", created.ID)
		}
	}
}

// TestHelpdeskTransferReassigns (A104, A159): a customer's call to the DID
// rings bob's desk phone (baresip); bob transfers it by REFER to carol
// (SIPp), who answers. The ticket the call made for bob is carol's when
// the call ends.
func TestHelpdeskTransferReassigns(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip")
	top := "trunks:\n" + trunkYAML("provider", providerIP, 5060, "")
	pbx := startPBX(t, pbxOptions{RTPPorts: "37800-37899", Top: top, Dialplan: didToBob})
	reg := pbx.sipAddr("udp").String()
	carol := newSIPpUser(t, "1003", "carol-1003")
	mustSucceed(t, "register 1003", carol.register(ctx, t, pbx, 300))
	uasCarol := carol.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 1100, 20*time.Second, media.PCMU, "")})
	bob := peertest.Baresip{
		IP: loopback, User: "1002", Password: "bob-1002", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 700, time.Minute),
	}.Start(t)
	if _, err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	uac := peertest.SIPp{
		Scenario: "uac_call.xml", Remote: reg, IP: providerIP, MediaIP: providerIP, Service: "210000000",
		Keys:       map[string]string{"caller": "+351912345678", "pcap": peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, "")},
		DurationMS: 8000, Timeout: 45 * time.Second,
	}.Start(t)
	eventTime[calls.CallAnswered](ctx, t, pbx, 1)
	if err := pbx.app.feed.flush(ctx); err != nil {
		t.Fatal(err)
	}
	svc := pbx.app.tickets
	before, err := svc.Tickets(ctx, tickets.Filter{})
	if err != nil || len(before) != 1 || before[0].Assignee != "bob" {
		t.Fatalf("while bob talks: tickets %+v, %v; want one, bob's", before, err)
	}
	time.Sleep(time.Second) // bob talks a little
	if err := bob.Transfer(ctx, "sip:1003@"+reg); err != nil {
		t.Fatal(err)
	}
	ended := pbx.waitEvent(ctx, "the transfer's end", isEvent[calls.TransferEnded]).(calls.TransferEnded)
	if ended.Transfer.Outcome != "completed" {
		t.Fatalf("transfer %+v", ended.Transfer)
	}
	mustSucceed(t, "customer", uac.Wait(ctx))
	_ = uasCarol.Wait(ctx)
	rec := pbx.nextCall(ctx)
	if err := pbx.app.feed.flush(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := svc.Ticket(ctx, before[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Assignee != "carol" || v.Call == nil || v.Call.CallID != string(rec.ID) {
		t.Errorf("after the transfer the ticket is %+v (call %+v), want carol's", v.Ticket, v.Call)
	}
	reassigned := false
	for _, e := range v.Timeline {
		reassigned = reassigned || (e.Kind == tickets.EntryAssignment && strings.Contains(e.Body, "from bob to carol"))
	}
	if !reassigned {
		t.Errorf("no reassignment from bob to carol on the timeline: %+v", v.Timeline)
	}
}
