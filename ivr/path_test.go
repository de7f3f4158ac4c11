package ivr_test

import (
	"testing"

	"github.com/ringdesk/ringdesk/ivr"
)

func TestPath(t *testing.T) {
	if got := (ivr.Path{"Support", "Billing"}).String(); got != "Support > Billing" {
		t.Errorf("String() = %q", got)
	}
	var p ivr.Path
	if p.String() != "" || p.Pop() != "" || p.Clone() != nil {
		t.Error("the empty Path is not empty")
	}
	p.Push("Support")
	p.Push("Billing")
	snap := p.Clone()
	if got := p.Pop(); got != "Billing" {
		t.Errorf("Pop() = %q, want Billing", got)
	}
	p.Push("Invoices") // reuses the slot Billing had
	if p.String() != "Support > Invoices" || snap.String() != "Support > Billing" {
		t.Errorf("path %q, clone %q: the clone must not change", p, snap)
	}
	if len(p) != 2 {
		t.Errorf("len %d, want 2", len(p))
	}
}
