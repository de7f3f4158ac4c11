package tickets

import (
	"context"
	"testing"
)

func TestSmokeInboundAnswered(t *testing.T) {
	s, clk := newService(t, DefaultSettings())
	inboundAnswered(t, s, clk, "c1", "+351912345678", "Support > Billing", "bob")
	ctx := context.Background()
	cs, err := s.ContactsByPhone(ctx, "912345678")
	if err != nil || len(cs) != 1 {
		t.Fatalf("contacts %v %v", cs, err)
	}
	ts, err := s.Tickets(ctx, Filter{ContactID: cs[0].ID})
	if err != nil || len(ts) != 1 {
		t.Fatalf("tickets %v %v", ts, err)
	}
	v, err := s.Ticket(ctx, ts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", v.Ticket)
	for _, e := range v.Timeline {
		t.Logf("%s %q", e.Kind, e.Body)
	}
	c, err := s.Call(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", c)
}
