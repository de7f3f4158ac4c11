package tickets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSummaryAndTask(t *testing.T) {
	st := DefaultSettings()
	st.Outcomes = []string{"Resolved", "Callback needed"}
	s, clk := newService(t, st)
	ctx := context.Background()
	inboundAnswered(t, s, clk, "c1", "+351912345678", "Support", "bob")
	if _, err := s.SetSummary(ctx, "bob", "c1", SummaryInput{Outcome: "Maybe"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an outcome not in the list: %v", err)
	}
	due := clk.Now().Add(24 * time.Hour)
	sum, err := s.SetSummary(ctx, "bob", "c1", SummaryInput{Outcome: "Callback needed", Notes: "Wants a call tomorrow", Task: &TaskInput{Title: "Call back", Due: due}})
	if err != nil || sum.Task == nil || sum.Task.TicketID == 0 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	got, err := s.Summaries(ctx, "c1")
	if err != nil || len(got) != 1 || got[0].Outcome != "Callback needed" || got[0].Task == nil || !got[0].Task.Due.Equal(due) {
		t.Errorf("summaries %+v, %v", got, err)
	}
	tasks, err := s.Tasks(ctx, "bob", false)
	if err != nil || len(tasks) != 1 || tasks[0].Title != "Call back" {
		t.Errorf("bob's tasks %+v, %v", tasks, err)
	}
	v := view(t, s, callRecord(t, s, "c1").TicketID)
	if last := v.Timeline[len(v.Timeline)-1]; last.Kind != EntryComment || last.Author != "bob" {
		t.Errorf("the notes are not on the ticket: %+v", last)
	}
	if _, err := s.SetSummary(ctx, "bob", "nope", SummaryInput{Notes: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("summary of no call: %v", err)
	}
	if _, err := s.CreateTask(ctx, "bob", TaskInput{Title: "x", TicketID: 999}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a task on a missing ticket: %v", err)
	}
}

func TestDeleteFileStaysUnderRoot(t *testing.T) {
	root := t.TempDir()
	s, clk := newService(t, DefaultSettings())
	s.filesRoot = root
	ctx := context.Background()
	inside := filepath.Join(root, "voicemail", "c1.wav")
	outside := filepath.Join(t.TempDir(), "precious.wav")
	for _, p := range []string{inside, outside} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("RIFF"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range []string{inside, outside} {
		c := newCall([]string{"c1", "c2"}[i], clk)
		c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
		c.apply(t, s, Event{Kind: VoicemailLeft, File: &FileInfo{Path: p, Duration: time.Second, Size: 4}})
	}
	files := func(call string) File {
		rec := callRecord(t, s, call)
		fs, err := s.Files(ctx, rec.TicketID)
		if err != nil || len(fs) != 1 {
			t.Fatalf("files of %s: %+v %v", call, fs, err)
		}
		return fs[0]
	}
	if err := s.DeleteFile(ctx, "carol", files("c2").ID); !errors.Is(err, ErrConflict) {
		t.Errorf("deleting a file outside the root: %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the file outside the root is gone: %v", err)
	}
	if err := s.DeleteFile(ctx, "carol", files("c1").ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inside); !os.IsNotExist(err) {
		t.Errorf("the voicemail is still there: %v", err)
	}
	if f := files("c1"); !f.Deleted {
		t.Errorf("file %+v not marked deleted", f)
	}
}

func TestCallsVisibleAndPaged(t *testing.T) {
	s, clk := newService(t, DefaultSettings())
	ctx := context.Background()
	// three calls in the same millisecond, answered by bob; one by carol
	for _, id := range []string{"c1", "c2", "c3"} {
		c := newCall(id, clk)
		c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351912345678", To: "+351210000000"})
		c.apply(t, s, Event{Kind: CallRouted, Number: "+351210000000", Department: "support"})
		c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg(id+"-2", "bob", "1002")})
		c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true}})
	}
	clk.Add(time.Second)
	c := newCall("c4", clk)
	c.apply(t, s, Event{Kind: CallStarted, Direction: Inbound, From: "+351919999999", To: "+351210000000"})
	c.apply(t, s, Event{Kind: MenuSelected, MenuPath: "Billing", Department: "billing"})
	c.apply(t, s, Event{Kind: CallAnswered, Leg: agentLeg("c4-2", "carol", "1003")})
	c.apply(t, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", Answered: true}})

	var pages [][]string
	f := CallFilter{Limit: 2}
	for {
		cs, err := s.Calls(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		pages = append(pages, ids)
		if len(cs) < f.Limit {
			break
		}
		f.Before, f.BeforeID = cs[len(cs)-1].Started, cs[len(cs)-1].ID
	}
	if fmt.Sprint(pages) != "[[c4 c1] [c2 c3] []]" {
		t.Errorf("pages %v, want every call once, newest first", pages)
	}
	for _, tc := range []struct {
		v    Visibility
		want int
	}{
		{Visibility{Agent: "alice", Departments: []string{"support"}}, 3}, // support's tickets
		{Visibility{Agent: "alice"}, 0},
		{Visibility{Agent: "carol"}, 1}, // she answered c4
		{Visibility{Agent: "dan", Departments: []string{"billing"}}, 1},
	} {
		cs, err := s.Calls(ctx, CallFilter{Visible: &tc.v})
		if err != nil || len(cs) != tc.want {
			t.Errorf("%+v sees %d calls (%v), want %d", tc.v, len(cs), err, tc.want)
		}
	}
}
