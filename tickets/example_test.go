package tickets_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/tickets"
)

// A customer calls, picks Billing in the menu and bob answers: the call
// creates the customer's contact and a ticket assigned to bob.
func ExampleService_Apply() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tickets-example")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "ringdesk.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	st := tickets.DefaultSettings()
	st.Country = "PT"
	svc, err := tickets.New(ctx, db, tickets.Options{Settings: st})
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	bob := &tickets.LegRecord{ID: "leg-2", Agent: "bob", Extension: "1002"}
	for i, e := range []tickets.Event{
		{Kind: tickets.CallStarted, Direction: tickets.Inbound, From: "+351912345678", To: "+351210000000", CallerName: "Ana"},
		{Kind: tickets.CallRouted, Number: "+351210000000", Department: "support"},
		{Kind: tickets.MenuSelected, MenuPath: "Billing", Department: "billing"},
		{Kind: tickets.CallAnswered, Leg: bob},
		{Kind: tickets.CallEnded, End: &tickets.CallEnd{Cause: "normal", HungUpBy: "caller", Answered: true, Talk: 90 * time.Second}},
	} {
		e.Call, e.Seq, e.At = "call-1", i+1, at
		if err := svc.Apply(ctx, e); err != nil {
			fmt.Println(err)
			return
		}
	}
	contacts, _ := svc.SearchContacts(ctx, "912 345", 5)
	list, _ := svc.Tickets(ctx, tickets.Filter{ContactID: contacts[0].ID})
	t := list[0]
	fmt.Printf("%s: %s, %s, assigned to %s, menu %s, talked %ds\n", contacts[0].Name, t.Subject, t.Department, t.Assignee, t.MenuPath, t.Call.DurationMS/1000)
	// Output: Ana: Call from Ana (+351912345678), billing, assigned to bob, menu Billing, talked 90s
}
