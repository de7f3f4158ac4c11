package tickets

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// answeredCall is the eight events of the n-th answered inbound call of a
// busy day (start, routed, menu, queue joined, agent ringing, queue left,
// answered, ended), numbered and at time at; its caller is one of 5,000
// returning customers.
func answeredCall(n int, at time.Time) []Event {
	id := fmt.Sprintf("c%d", n)
	evs := []Event{
		{Kind: CallStarted, Direction: Inbound, From: fmt.Sprintf("+3519%08d", n%5000), To: "+351210000000"},
		{Kind: CallRouted, Number: "+351210000000", Department: "support"},
		{Kind: MenuSelected, MenuPath: "Support > Billing", Department: "billing"},
		{Kind: QueueJoined, Queue: "billing"},
		{Kind: LegRinging, Leg: agentLeg(id+"-2", "bob", "1002")},
		{Kind: QueueLeft, Queue: "billing", Reason: "answered", Wait: 5 * time.Second},
		{Kind: CallAnswered, Leg: agentLeg(id+"-2", "bob", "1002")},
		{Kind: CallEnded, End: &CallEnd{Cause: "normal", HungUpBy: "caller", Answered: true, Talk: time.Minute, Wait: 5 * time.Second}},
	}
	for i := range evs {
		evs[i].Call, evs[i].Seq, evs[i].At = id, i+1, at
	}
	return evs
}

// BenchmarkApplyCall applies a whole answered inbound call (eight events:
// start, routed, menu, queue joined and left, agent ringing, answered,
// ended) per iteration, on a database that grows with every call, like a
// busy day. Reported: ns per event.
func BenchmarkApplyCall(b *testing.B) {
	s, clk := newService(b, DefaultSettings())
	ctx := context.Background()
	n := 0
	b.ResetTimer()
	for b.Loop() {
		n++
		for _, e := range answeredCall(n, clk.Now()) {
			if err := s.Apply(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
		clk.Add(time.Second)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*8), "ns/event")
}

// BenchmarkSearchContacts searches 100,000 contacts as the dialer does.
func BenchmarkSearchContacts(b *testing.B) {
	s, _ := newService(b, DefaultSettings())
	ctx := context.Background()
	first := []string{"Margaret", "Mark", "Simon", "Ana", "Rui", "Joana", "Pedro", "Marta", "Luis", "Sofia"}
	last := []string{"Smith", "Silva", "Santos", "Peter", "Costa", "Martins", "Ferreira", "Pereira", "Oliveira", "Rodrigues"}
	company := []string{"Marcom", "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vehement", "Massive", "Soylent", "Tyrell"}
	street := []string{"Martin Road", "High Street", "Rua Augusta", "Avenida da Liberdade", "Main Street"}
	const total = 100_000
	err := s.write(ctx, func(tx *txn) error {
		for i := range total {
			in := ContactInput{
				Name:    fmt.Sprintf("%s %s %d", first[i%10], last[(i/10)%10], i),
				Company: company[(i/100)%10],
				Address: fmt.Sprintf("%d %s", i%300, street[(i/7)%5]),
				Phones:  []Phone{{Number: fmt.Sprintf("+3519%08d", i)}},
			}
			if _, err := tx.insertContact(in); err != nil {
				return err
			}
		}
		tx.changes = nil
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"Mar", "marg smi", "Martin Road", "912345", "+351 900 000 42", "zzz"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchContacts(ctx, q, 20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkApplyWithReaders applies calls as BenchmarkApplyCall does while
// two goroutines read as agents' screens do (a ticket list, a contact
// search, a ticket with its timeline), to see what readers cost the writer.
func BenchmarkApplyWithReaders(b *testing.B) {
	s, clk := newService(b, DefaultSettings())
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ts, _ := s.Tickets(ctx, Filter{Statuses: []Status{StatusOpen}, Limit: 20})
				_, _ = s.SearchContacts(ctx, "3519", 20)
				if len(ts) > 0 {
					_, _ = s.Ticket(ctx, ts[0].ID)
				}
			}
		})
	}
	n := 0
	b.ResetTimer()
	for b.Loop() {
		n++
		for _, e := range answeredCall(n, clk.Now()) {
			if err := s.Apply(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
		clk.Add(time.Second)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*8), "ns/event")
	close(stop)
	wg.Wait()
}

// BenchmarkApplyAllCalls applies the events of eight answered calls at a
// time in one ApplyAll, as the feed does when events queue up: the commit
// is shared. Reported: ns per event.
func BenchmarkApplyAllCalls(b *testing.B) {
	s, clk := newService(b, DefaultSettings())
	ctx := context.Background()
	n := 0
	b.ResetTimer()
	for b.Loop() {
		var batch []Event
		for range 8 {
			n++
			batch = append(batch, answeredCall(n, clk.Now())...)
		}
		if _, err := s.ApplyAll(ctx, batch); err != nil {
			b.Fatal(err)
		}
		clk.Add(time.Second)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/event")
}
