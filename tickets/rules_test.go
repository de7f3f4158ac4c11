package tickets

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Each rule has a table test named after it, citing its checklist items.

func ticketsOf(t *testing.T, s *Service, f Filter) []Ticket {
	t.Helper()
	ts, err := s.Tickets(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func view(t *testing.T, s *Service, id int64) TicketView {
	t.Helper()
	v, err := s.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustContact(t *testing.T, s *Service, name string, phones ...string) Contact {
	t.Helper()
	in := ContactInput{Name: name}
	for _, p := range phones {
		in.Phones = append(in.Phones, Phone{Number: p})
	}
	c, err := s.CreateContact(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func callRecord(t *testing.T, s *Service, id string) CallRecord {
	t.Helper()
	c, err := s.Call(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A167, A146, A170.
func TestRuleContactForNumber(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []string // contacts' names holding the number, oldest first
		from     string
		pick     string // contact picked during the call
		want     string // the call's contact at the end ("" none, "new" created)
		contacts int    // contacts with the number afterwards
	}{
		{"A167 new number creates a contact", nil, "+351912345678", "", "new", 1},
		{"one contact is that contact", []string{"Ana"}, "912345678", "", "Ana", 1},
		{"A146 several, none picked: most recent at the end", []string{"Ana", "Rui"}, "+351912345678", "", "Rui", 2},
		{"A146 several, the agent picks one", []string{"Ana", "Rui"}, "+351912345678", "Ana", "Ana", 2},
		{"anonymous caller: no contact", nil, "anonymous", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newService(t, DefaultSettings())
			ids := map[string]int64{}
			for _, n := range tc.existing {
				ids[n] = mustContact(t, s, n, "+351912345678").ID
				clk.Add(time.Minute)
			}
			c := newCall("c1", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: tc.from, To: "+351210000000", CallerName: "Caller"})
			c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg("l2", "bob", "1002")})
			if tc.pick != "" {
				if err := s.PickContact(context.Background(), "c1", ids[tc.pick]); err != nil {
					t.Fatal(err)
				}
			}
			c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true, Talk: time.Minute}})
			rec := callRecord(t, s, "c1")
			switch tc.want {
			case "":
				if rec.ContactID != 0 {
					t.Errorf("contact %d, want none", rec.ContactID)
				}
			case "new":
				got, err := s.Contact(context.Background(), rec.ContactID)
				if err != nil || got.Name != "Caller" || len(got.Phones) != 1 || got.Phones[0].Number != "+351912345678" {
					t.Errorf("created contact %+v, %v", got, err)
				}
			default:
				if rec.ContactID != ids[tc.want] {
					t.Errorf("contact %d, want %s (%d)", rec.ContactID, tc.want, ids[tc.want])
				}
			}
			if tc.from != "anonymous" {
				cs, _ := s.ContactsByPhone(context.Background(), tc.from)
				if len(cs) != tc.contacts {
					t.Errorf("%d contacts with the number, want %d", len(cs), tc.contacts)
				}
			}
			if rec.TicketID == 0 {
				t.Fatal("the answered call has no ticket")
			}
			if tk := view(t, s, rec.TicketID); tk.ContactID != rec.ContactID || tk.Assignee != "bob" {
				t.Errorf("ticket contact %d assignee %q, want %d bob", tk.ContactID, tk.Assignee, rec.ContactID)
			}
		})
	}
}

// A153, A66, A71.
func TestRuleAnsweredInbound(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sameTicket bool
		first      string // menu path of the first call
		second     string // menu path of the second call
		between    Status // status the first ticket is set to between the calls
		same       bool   // the second call joins the first's ticket
	}{
		{"A153 same menu path joins", true, "Support", "Support", "", true},
		{"A153 other menu path: new ticket", true, "Support", "Billing", "", false},
		{"A153 pending ticket still joins", true, "Support", "Support", StatusPending, true},
		{"A153 on-hold ticket still joins", true, "Support", "Support", StatusOnHold, true},
		{"A153 solved ticket: new ticket", true, "Support", "Support", StatusSolved, false},
		{"A153 closed ticket: new ticket", true, "Support", "Support", StatusClosed, false},
		{"A153 switched off: new ticket", false, "Support", "Support", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := DefaultSettings()
			st.SameTicket = tc.sameTicket
			s, clk := newService(t, st)
			inboundAnswered(t, s, clk, "c1", "+351912345678", tc.first, "alice")
			first := callRecord(t, s, "c1").TicketID
			if tc.between != "" {
				if _, err := s.UpdateTicket(context.Background(), "alice", first, TicketUpdate{Status: &tc.between}); err != nil {
					t.Fatal(err)
				}
			}
			clk.Add(time.Hour)
			inboundAnswered(t, s, clk, "c2", "+351912345678", tc.second, "bob")
			second := callRecord(t, s, "c2").TicketID
			if (first == second) != tc.same {
				t.Fatalf("first ticket %d, second %d; want same %v", first, second, tc.same)
			}
			tk := view(t, s, second)
			if tk.Assignee != "bob" {
				t.Errorf("A66/A71: ticket assigned to %q, want bob who answered", tk.Assignee)
			}
			calls := 0
			for _, e := range tk.Timeline {
				if e.Kind == EntryCall {
					calls++
				}
			}
			want := 1
			if tc.same {
				want = 2
			}
			if calls != want {
				t.Errorf("%d calls on the timeline, want %d", calls, want)
			}
		})
	}
}

// A69, A70, A148, A152.
func TestRuleMissed(t *testing.T) {
	for _, tc := range []struct {
		name        string
		missedCalls bool
		routed      bool
		abandoned   bool
		menuDept    string
		wantTicket  bool
		wantDept    string
		wantSubject string
	}{
		{"A69 missed call: unassigned ticket in the number's department", true, true, false, "", true, "support", "Missed call"},
		{"A148 abandoned in the queue", true, true, true, "", true, "support", "Abandoned call"},
		{"A70 the menu option's department", true, true, true, "billing", true, "billing", "Abandoned call"},
		{"A148 switched off", false, true, true, "", false, "", ""},
		{"refused before routing is not a missed call", true, false, false, "", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := DefaultSettings()
			st.MissedCalls = tc.missedCalls
			st.Departments = map[string][]string{"support": {"alice", "bob"}, "billing": {"carol"}}
			s, clk := newService(t, st)
			changes, stop := s.Subscribe(100)
			defer stop()
			c := newCall("c1", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
			if tc.routed {
				c.apply(t, s, Event{Kind: CallRouted, Number: "+351210000000", Department: "support"})
				c.apply(t, s, Event{Kind: MenuSelected, MenuPath: "Billing", Department: tc.menuDept})
				c.apply(t, s, Event{Kind: QueueJoined, Queue: "billing"})
				clk.Add(7 * time.Second)
				reason := "timeout"
				if tc.abandoned {
					reason = "abandoned"
				}
				c.apply(t, s, Event{Kind: QueueLeft, Queue: "billing", Reason: reason, Wait: 7 * time.Second})
			}
			c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", HungUpBy: "caller", Abandoned: tc.abandoned, Wait: 7 * time.Second}})
			rec := callRecord(t, s, "c1")
			if (rec.TicketID != 0) != tc.wantTicket {
				t.Fatalf("ticket %d, want one: %v", rec.TicketID, tc.wantTicket)
			}
			if !tc.wantTicket {
				return
			}
			tk := view(t, s, rec.TicketID)
			if tk.Assignee != "" || tk.Department != tc.wantDept || !strings.HasPrefix(tk.Subject, tc.wantSubject) || tk.Status != StatusNew {
				t.Errorf("ticket %+v; want unassigned, new, in %s, subject %q...", tk.Ticket, tc.wantDept, tc.wantSubject)
			}
			if tk.Call == nil || tk.Call.WaitMS != 7000 || tk.Call.Queue != "billing" {
				t.Errorf("call fields %+v", tk.Call)
			}
			var notified []string
			for len(changes) > 0 {
				if ch := <-changes; ch.Kind == CallMissed {
					notified = ch.Notify
				}
			}
			want := st.Departments[tc.wantDept]
			if strings.Join(notified, ",") != strings.Join(want, ",") {
				t.Errorf("A69: notified %v, want the department's agents %v", notified, want)
			}
		})
	}
}

// A149, A150, A151.
func TestRuleVoicemail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		assignee string
		open     bool // the contact has an open ticket of the same menu path
	}{
		{"A149 new ticket even with an open one", "alice", true},
		{"A150 assigned to the default user", "alice", false},
		{"no default user: unassigned", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := DefaultSettings()
			st.VoicemailAssignee = tc.assignee
			s, clk := newService(t, st)
			if tc.open {
				inboundAnswered(t, s, clk, "c0", "+351912345678", "Support", "bob")
			}
			c := newCall("c1", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
			c.apply(t, s, Event{Kind: CallRouted, Number: "+351210000000", Department: "support"})
			c.apply(t, s, Event{Kind: MenuSelected, MenuPath: "Support"})
			clk.Add(20 * time.Second)
			c.apply(t, s, Event{
				Kind: VoicemailLeft, Department: "support", MenuPath: "Support",
				File: &FileInfo{Path: "/data/voicemail/c1.wav", Duration: 12 * time.Second, Size: 192044},
			})
			c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", HungUpBy: "caller"}})
			rec := callRecord(t, s, "c1")
			if tc.open && rec.TicketID == callRecord(t, s, "c0").TicketID {
				t.Fatal("A149: the voicemail went on the open ticket")
			}
			tk := view(t, s, rec.TicketID)
			if tk.Assignee != tc.assignee || tk.Department != "support" || !strings.HasPrefix(tk.Subject, "Voicemail from") {
				t.Errorf("ticket %+v", tk.Ticket)
			}
			var vm *Entry
			for i, e := range tk.Timeline {
				if e.Kind == EntryVoicemail {
					vm = &tk.Timeline[i]
				}
			}
			if vm == nil || vm.FileID == 0 {
				t.Fatalf("no voicemail on the timeline: %+v", tk.Timeline)
			}
			f, err := s.File(context.Background(), vm.FileID)
			if err != nil || f.Kind != FileVoicemail || f.DurationMS != 12000 || f.TicketID != tk.ID {
				t.Errorf("file %+v %v", f, err)
			}
			// A151: a later call of the same menu path reuses it
			clk.Add(time.Hour)
			inboundAnswered(t, s, clk, "c2", "+351912345678", "Support", "carol")
			if got := callRecord(t, s, "c2").TicketID; got != tk.ID && !tc.open {
				t.Errorf("A151: the next call went on ticket %d, not the voicemail's %d", got, tk.ID)
			}
		})
	}
}

// A154, A147, A181, A155, A156.
func TestRuleOutbound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, s *Service, clk *clock) int64 // returns a ticket the call may join
		wantOld bool
		status  Status // the joined ticket's status after
	}{
		{"A147 no ticket: a new one", func(*testing.T, *Service, *clock) int64 { return 0 }, false, StatusOpen},
		{"A154 pending ticket created by a call is joined and set Open", func(t *testing.T, s *Service, clk *clock) int64 {
			t.Helper()
			inboundAnswered(t, s, clk, "c0", "+351912345678", "Support", "bob")
			id := callRecord(t, s, "c0").TicketID
			p := StatusPending
			if _, err := s.UpdateTicket(context.Background(), "bob", id, TicketUpdate{Status: &p}); err != nil {
				t.Fatal(err)
			}
			return id
		}, true, StatusOpen},
		{"A181 solved ticket: a new one", func(t *testing.T, s *Service, clk *clock) int64 {
			t.Helper()
			inboundAnswered(t, s, clk, "c0", "+351912345678", "Support", "bob")
			id := callRecord(t, s, "c0").TicketID
			st := StatusSolved
			if _, err := s.UpdateTicket(context.Background(), "bob", id, TicketUpdate{Status: &st}); err != nil {
				t.Fatal(err)
			}
			return id
		}, false, StatusOpen},
		{"A154 a ticket not created by a call: a new one", func(t *testing.T, s *Service, _ *clock) int64 {
			t.Helper()
			c := mustContact(t, s, "Ana", "+351912345678")
			v, err := s.CreateTicket(context.Background(), "bob", TicketInput{Subject: "Email", ContactID: c.ID, Channel: ChannelEmail})
			if err != nil {
				t.Fatal(err)
			}
			return v.ID
		}, false, StatusOpen},
		{"A156 callback after a call under 10 s", func(t *testing.T, s *Service, clk *clock) int64 {
			t.Helper()
			c := newCall("c0", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
			c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg("l", "bob", "1002")})
			clk.Add(4 * time.Second)
			c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true, Talk: 4 * time.Second}})
			return callRecord(t, s, "c0").TicketID
		}, true, StatusOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newService(t, DefaultSettings())
			old := tc.setup(t, s, clk)
			clk.Add(time.Minute)
			c := newCall("c1", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Outbound, From: "1001", To: "+351912345678", Agent: "alice"})
			rec := callRecord(t, s, "c1")
			if rec.TicketID == 0 {
				t.Fatal("no ticket for the outbound call")
			}
			if (rec.TicketID == old) != tc.wantOld {
				t.Fatalf("call on ticket %d, earlier ticket %d; want joined %v", rec.TicketID, old, tc.wantOld)
			}
			tk := view(t, s, rec.TicketID)
			if tk.Status != tc.status || tk.Assignee != "alice" {
				t.Errorf("ticket status %s assignee %q, want %s alice", tk.Status, tk.Assignee, tc.status)
			}
		})
	}
}

// A83-A86, A154, A181.
func TestRuleChooseTicket(t *testing.T) {
	s, clk := newService(t, DefaultSettings())
	ctx := context.Background()
	inboundAnswered(t, s, clk, "c0", "+351912345678", "Support", "bob")
	byCall := callRecord(t, s, "c0").TicketID
	solved := StatusSolved
	if _, err := s.UpdateTicket(ctx, "bob", byCall, TicketUpdate{Status: &solved}); err != nil {
		t.Fatal(err)
	}
	c := newCall("c1", clk)
	c.apply(t, s, Event{Kind: CallStarted, Direction: Outbound, From: "1001", To: "+351912345678", Agent: "alice"})
	auto := callRecord(t, s, "c1").TicketID
	if err := s.ChooseTicket(ctx, "alice", "c1", TicketChoice{TicketID: byCall}); !errors.Is(err, ErrConflict) {
		t.Errorf("A181: choosing a solved ticket: %v, want ErrConflict", err)
	}
	if err := s.ChooseTicket(ctx, "alice", "c1", TicketChoice{None: true}); !errors.Is(err, ErrConflict) {
		t.Errorf("A85 off: choosing none: %v, want ErrConflict", err)
	}
	open := StatusPending
	if _, err := s.UpdateTicket(ctx, "bob", byCall, TicketUpdate{Status: &open}); err != nil {
		t.Fatal(err)
	}
	if err := s.ChooseTicket(ctx, "alice", "c1", TicketChoice{TicketID: byCall}); err != nil {
		t.Fatalf("A154: choosing the pending ticket a call created: %v", err)
	}
	if _, err := s.Ticket(ctx, auto); !errors.Is(err, ErrNotFound) {
		t.Errorf("the ticket the call made for itself is still there: %v", err)
	}
	if tk := view(t, s, byCall); tk.Status != StatusOpen || tk.Assignee != "alice" {
		t.Errorf("chosen ticket %s %q, want open alice", tk.Status, tk.Assignee)
	}
	c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true, Talk: time.Minute}})
	if tk := view(t, s, byCall); tk.Call == nil || tk.Call.CallID != "c1" {
		t.Errorf("call fields %+v, want the outbound call's", tk.Call)
	}

	st := DefaultSettings()
	st.OutboundNone = true
	s.SetSettings(st)
	c2 := newCall("c2", clk)
	c2.apply(t, s, Event{Kind: CallStarted, Direction: Outbound, From: "1001", To: "+351919999999", Agent: "alice"})
	if err := s.ChooseTicket(ctx, "alice", "c2", TicketChoice{None: true}); err != nil {
		t.Fatal(err)
	}
	c2.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true, Talk: time.Minute}, File: &FileInfo{Path: "/x.wav"}})
	if rec := callRecord(t, s, "c2"); rec.TicketID != 0 {
		t.Errorf("A85: the call is on ticket %d", rec.TicketID)
	}
}

// A104, A159.
func TestRuleTransfer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		outcome string
		want    string
	}{
		{"A104 completed transfer reassigns", "completed", "carol"},
		{"failed transfer keeps the agent", "failed", "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newService(t, DefaultSettings())
			c := newCall("c1", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
			c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg("l2", "bob", "1002")})
			c.apply(t, s, Event{Kind: TransferEnded, Agent: "carol", To: "1003", Outcome: tc.outcome})
			c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true, Talk: time.Minute}})
			rec := callRecord(t, s, "c1")
			if tk := view(t, s, rec.TicketID); tk.Assignee != tc.want {
				t.Errorf("assignee %q, want %q", tk.Assignee, tc.want)
			}
		})
	}
}

// A116, A119, A157, A158, A164, A171-A175.
func TestRuleEnd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		merge bool
	}{
		{"A119 recording attached at the end", false},
		{"A158 merged during the call: the end and recording go to the new ticket", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newService(t, DefaultSettings())
			ctx := context.Background()
			c := newCall("c1", clk)
			c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
			c.apply(t, s, Event{Kind: MenuSelected, MenuPath: "Support > Billing"})
			c.apply(t, s, Event{Kind: QueueJoined, Queue: "billing"})
			clk.Add(8 * time.Second)
			c.apply(t, s, Event{Kind: QueueLeft, Queue: "billing", Reason: "answered", Wait: 8 * time.Second})
			c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg("l2", "bob", "1002")})
			a := callRecord(t, s, "c1").TicketID
			first := view(t, s, a)
			if len(first.Timeline) == 0 || first.Timeline[0].Kind != EntryComment || !strings.Contains(first.Timeline[0].Body, "Call ID: c1") ||
				!strings.Contains(first.Timeline[0].Body, "Language: en") || !strings.Contains(first.Timeline[0].Body, "Menu selection: Support > Billing") {
				t.Errorf("A164: first entry %+v", first.Timeline)
			}
			target := a
			if tc.merge {
				b, err := s.CreateTicket(ctx, "bob", TicketInput{Subject: "B", ContactID: first.ContactID})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Merge(ctx, "bob", a, b.ID); err != nil {
					t.Fatal(err)
				}
				target = b.ID
			}
			c.apply(t, s, Event{Kind: CallHeld, Leg: agentLeg("l2", "bob", "1002")})
			clk.Add(70 * time.Second)
			c.apply(t, s, Event{
				Kind: CallEnded, End: &CallEnd{Cause: "normal", HungUpBy: "caller", Answered: true, Talk: 70 * time.Second, Hold: 10 * time.Second, Wait: 8 * time.Second, Queue: "billing"},
				File: &FileInfo{Path: "/data/recordings/c1.wav", Duration: 70 * time.Second, Size: 2240044},
			})
			tk := view(t, s, target)
			want := CallFields{SessionType: "call", From: "+351912345678", CallID: "c1", DurationMS: 70000, WaitMS: 8000, HoldMS: 10000, Queue: "billing"}
			if tk.Call == nil || *tk.Call != want {
				t.Errorf("A175: call fields %+v, want %+v", tk.Call, want)
			}
			var rec, call bool
			for _, e := range tk.Timeline {
				rec = rec || (e.Kind == EntryRecording && e.FileID != 0 && e.CallID == "c1")
				call = call || (e.Kind == EntryCall && strings.Contains(e.Body, "talked 1m10s"))
			}
			if !rec || !call {
				t.Errorf("recording on the timeline %v, call with its duration %v: %+v", rec, call, tk.Timeline)
			}
		})
	}
}

// Duplicated and late events change nothing; every event is all or nothing.
func TestApplyReplayAndLate(t *testing.T) {
	s, clk := newService(t, DefaultSettings())
	ctx := context.Background()
	inboundAnswered(t, s, clk, "c1", "+351912345678", "Support", "bob")
	before := view(t, s, callRecord(t, s, "c1").TicketID)
	// replay the whole call, then a late BYE-like end
	c := newCall("c1", clk)
	for range 7 {
		c.add(Event{Kind: CallRouted, Number: "x"})
	}
	for _, e := range c.evs {
		if err := s.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	late := c.add(Event{Kind: CallEnded, End: &CallEnd{Cause: "normal"}})
	if err := s.Apply(ctx, late); err != nil {
		t.Fatal(err)
	}
	after := view(t, s, before.ID)
	if len(after.Timeline) != len(before.Timeline) || !after.Updated.Equal(before.Updated) {
		t.Errorf("a replay changed the ticket: %d entries, was %d", len(after.Timeline), len(before.Timeline))
	}
	if n := len(ticketsOf(t, s, Filter{})); n != 1 {
		t.Errorf("%d tickets after the replay", n)
	}
	if err := s.Apply(ctx, Event{Call: "c9", Seq: 1, Kind: CallStarted, Direction: "sideways"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad direction: %v", err)
	}
	if _, err := s.Call(ctx, "c9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused event left a call behind: %v", err)
	}
}

// A call open when the process died is closed with cause restart, once.
func TestCloseInterrupted(t *testing.T) {
	s, clk := newService(t, DefaultSettings())
	ctx := context.Background()
	c := newCall("c1", clk)
	c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
	c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg("l2", "bob", "1002")})
	clk.Add(40 * time.Second)
	c.apply(t, s, Event{Kind: CallHeld, Leg: agentLeg("l2", "bob", "1002")})
	// the process said it was alive 20 s after the last event, then died
	if err := s.Heartbeat(ctx, clk.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := s.CloseInterrupted(ctx)
	if err != nil || n != 1 {
		t.Fatalf("closed %d, %v", n, err)
	}
	rec := callRecord(t, s, "c1")
	if rec.Cause != "restart" || rec.Ended.IsZero() || rec.TalkMS != 60000 {
		t.Errorf("record %+v", rec)
	}
	tk := view(t, s, rec.TicketID)
	if tk.Call == nil || tk.Call.CallID != "c1" || tk.Assignee != "bob" {
		t.Errorf("ticket %+v", tk.Ticket)
	}
	if n, err := s.CloseInterrupted(ctx); err != nil || n != 0 {
		t.Errorf("second run closed %d, %v", n, err)
	}
	entries := len(view(t, s, rec.TicketID).Timeline)
	if entries != len(tk.Timeline) {
		t.Error("the second run changed the ticket")
	}
}

// ApplyAll applies a batch as Apply would each event: a refused event
// leaves nothing behind (nor any change reported) and the others land.
func TestApplyAll(t *testing.T) {
	s, clk := newService(t, DefaultSettings())
	ctx := context.Background()
	changes, stop := s.Subscribe(100)
	defer stop()
	good := newCall("c1", clk)
	bad := newCall("c2", clk)
	batch := []Event{
		good.add(Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"}),
		bad.add(Event{Kind: CallStarted, Direction: "sideways", From: "+351919999999"}),
		good.add(Event{Kind: CallAnswered, Leg: agentLeg("l2", "bob", "1002")}),
		good.add(Event{Kind: CallAnswered, Leg: agentLeg("l2", "bob", "1002")}), // a replay
		{Call: "", Seq: 1, Kind: CallEnded},
	}
	batch[3].Seq = batch[2].Seq
	errs, err := s.ApplyAll(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], ErrInvalid) || errs[2] != nil || errs[3] != nil || !errors.Is(errs[4], ErrInvalid) {
		t.Errorf("errors %v", errs)
	}
	if _, err := s.Call(ctx, "c2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused call left a record: %v", err)
	}
	rec := callRecord(t, s, "c1")
	if rec.TicketID == 0 || rec.Agent != "bob" {
		t.Errorf("the good call: %+v", rec)
	}
	if n := len(view(t, s, rec.TicketID).Timeline); n != 2 { // the A164 comment and the call
		t.Errorf("%d timeline entries, want 2 (the replay added none)", n)
	}
	for len(changes) > 0 {
		if c := <-changes; c.Kind == ContactCreated && c.ContactID != rec.ContactID {
			t.Errorf("a change of the refused event was published: %+v", c)
		}
	}
	// a batch of one is the same
	one := newCall("c3", clk)
	errs, err = s.ApplyAll(ctx, []Event{one.add(Event{Kind: CallStarted, Direction: "sideways"})})
	if err != nil || len(errs) != 1 || !errors.Is(errs[0], ErrInvalid) {
		t.Errorf("a refused event alone: %v, %v", errs, err)
	}
	errs, err = s.ApplyAll(ctx, []Event{newCall("c4", clk).add(Event{Kind: CallStarted, Direction: Internal, From: "1001", To: "1002"})})
	if err != nil || errs[0] != nil {
		t.Errorf("a good event alone: %v, %v", errs, err)
	}
	if _, err := s.Call(ctx, "c4"); err != nil {
		t.Errorf("the good event alone was not applied: %v", err)
	}
}
