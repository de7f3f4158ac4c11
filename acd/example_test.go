package acd_test

import (
	"fmt"

	"github.com/ringdesk/ringdesk/acd"
)

// A ring group rings its agents one at a time in login order, skipping
// those who are not available, then gives up.
func ExamplePool_Hunt() {
	p := acd.NewPool(acd.Options{})
	p.SetAgents([]acd.AgentInfo{
		{ID: "ana", Extension: "101"},
		{ID: "ben", Extension: "102"},
		{ID: "cai", Extension: "103"},
	})
	_ = p.SetStatus("cai", acd.Online) // logs in first
	_ = p.SetStatus("ana", acd.Online)
	_ = p.SetStatus("ben", acd.Online)
	p.CallStarted("ana", "call-0") // ana is on another call

	h := p.Hunt("call-1", []string{"ana", "ben", "cai"}, acd.Sequential, acd.HuntOptions{Cycles: 1})
	defer h.Stop()
	for {
		ring, st := h.Next()
		if st != acd.Ring {
			fmt.Println(st)
			break
		}
		fmt.Println("ring", ring)
		p.Release(ring[0], "call-1", true) // nobody answers
	}
	// Output:
	// ring [cai]
	// ring [ben]
	// done
}
