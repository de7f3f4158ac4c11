package tickets

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// A72: "Mar" finds Margaret, the company Marcom and the address Martin
// Road; numbers are found by any run of their digits.
func TestSearchContacts(t *testing.T) {
	s, _ := newService(t, DefaultSettings())
	ctx := context.Background()
	add := func(in ContactInput) int64 {
		t.Helper()
		c, err := s.CreateContact(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	margaret := add(ContactInput{Name: "Margaret Smith", Phones: []Phone{{Number: "+351 912 345 678", Label: "mobile"}}})
	marcom := add(ContactInput{Name: "Jo Bloggs", Company: "Marcom Ltd"})
	road := add(ContactInput{Name: "Simon Peter", Address: "12 Martin Road, Leeds"})
	other := add(ContactInput{Name: "Ana Amar", Emails: []string{"ana@example.com"}, Phones: []Phone{{Number: "213 000 000"}}})
	for _, tc := range []struct {
		q    string
		want []int64
	}{
		{"Mar", []int64{marcom, margaret, road}},
		{"mar smi", []int64{margaret}},
		{"martin road", []int64{road}},
		{"912 345", []int64{margaret}},
		{"+351912345678", []int64{margaret}},
		{"345678", []int64{margaret}},
		{"ana@example", []int64{other}},
		{"213000000", []int64{other}},
		{"zz", nil},
	} {
		got, err := s.SearchContacts(ctx, tc.q, 20)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("search %q = %v, want %v", tc.q, ids, want)
		}
	}
}

func TestContactValidation(t *testing.T) {
	s, _ := newService(t, DefaultSettings())
	ctx := context.Background()
	for _, in := range []ContactInput{
		{},
		{Name: "x", Emails: []string{"not an email"}},
		{Name: "x", Phones: []Phone{{Number: "12"}}},
		{Name: string([]byte{0xff, 0xfe})},
	} {
		if _, err := s.CreateContact(ctx, in); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateContact(%+v) = %v, want ErrInvalid", in, err)
		}
	}
	c, err := s.CreateContact(ctx, ContactInput{Name: "No Email", Phones: []Phone{{Number: "912345678"}, {Number: "+351912345678"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Emails) != 0 || len(c.Phones) != 1 || c.Phones[0].Number != "+351912345678" {
		t.Errorf("contact %+v: want no email and one E.164 number", c)
	}
	if _, err := s.UpdateContact(ctx, 999, ContactInput{Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
	u, err := s.UpdateContact(ctx, c.ID, ContactInput{Name: "Now Named", Company: "Co", Phones: []Phone{{Number: "+447700900123", Label: "uk"}}})
	if err != nil || u.Name != "Now Named" || u.Phones[0].Number != "+447700900123" {
		t.Fatalf("update: %+v %v", u, err)
	}
	if got, _ := s.SearchContacts(ctx, "912345678", 5); len(got) != 0 {
		t.Errorf("the old number still finds the contact: %+v", got)
	}
}

func TestTicketsFullText(t *testing.T) {
	s, _ := newService(t, DefaultSettings())
	ctx := context.Background()
	a, err := s.CreateTicket(ctx, "alice", TicketInput{Subject: "Printer jammed", Department: "support"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateTicket(ctx, "alice", TicketInput{Subject: "Invoice", Department: "billing", Comment: "Customer says the invoice total is wrong"})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]int64{"print jam": {a.ID}, "total": {b.ID}, `"` + "OR": nil, "NEAR(x": nil, "": {b.ID, a.ID}} {
		got := ticketsOf(t, s, Filter{Text: q})
		var ids []int64
		for _, tk := range got {
			ids = append(ids, tk.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("search %q = %v, want %v", q, ids, want)
		}
	}
	vis := &Visibility{Agent: "bob", Departments: []string{"support"}}
	if got := ticketsOf(t, s, Filter{Visible: vis}); len(got) != 1 || got[0].ID != a.ID {
		t.Errorf("bob of support sees %+v", got)
	}
	if _, err := s.Merge(ctx, "alice", a.ID, a.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("merge into itself: %v", err)
	}
}

func FuzzSearch(f *testing.F) {
	s, _ := newService(f, DefaultSettings())
	ctx := context.Background()
	if _, err := s.CreateContact(ctx, ContactInput{Name: "Margaret", Phones: []Phone{{Number: "+351912345678"}}}); err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"Mar", "+351 912", `"OR*`, "NEAR(a b)", "\x00", "ção ÄÖ"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := s.SearchContacts(ctx, q, 5); err != nil {
			t.Errorf("contacts %q: %v", q, err)
		}
		if _, err := s.Tickets(ctx, Filter{Text: q}); err != nil {
			t.Errorf("tickets %q: %v", q, err)
		}
	})
}
