package calls_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// Providers in these tests bind their own loopback addresses: a trunk is
// known by the address its calls come from, and the phones use 127.0.0.1.
var trunkIPs = []string{"127.0.0.2", "127.0.0.4"}

// trunkNames are the trunks at trunkIPs.
var trunkNames = []string{"first", "second"}

// freeUDPPort returns a UDP port free on ip now.
func freeUDPPort(tb testing.TB, ip string) int {
	tb.Helper()
	c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		tb.Fatalf("free port on %s: %v", ip, err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	_ = c.Close()
	return port
}

// trunkRig is a switch with n trunks (n ≤ 2), each a softphone playing the
// provider at its own loopback address: trunk "first" at 127.0.0.2 and
// "second" at 127.0.0.4. Numbers: +351210000000 rings 1002; every outside
// number goes through first, then second.
type trunkRig struct {
	h         *harness
	providers []*siptest.Phone
}

func newTrunkRig(t *testing.T, n int, f func(*calls.Config)) *trunkRig {
	t.Helper()
	var ts []sip.Trunk
	var pols []calls.Trunk
	ports := make([]int, n)
	for i := range n {
		ports[i] = freeUDPPort(t, trunkIPs[i])
		a := netip.MustParseAddr(trunkIPs[i])
		ts = append(ts, sip.Trunk{Name: trunkNames[i], Host: trunkIPs[i], Port: ports[i], Networks: []netip.Prefix{netip.PrefixFrom(a, 32)}})
		pols = append(pols, calls.Trunk{Name: trunkNames[i], Country: "PT", NumberFormat: "e164_no_plus", CallerID: "+351219999999", AssertIdentity: true})
	}
	h := newHarness(t, withTrunks(ts...), withCalls(func(c *calls.Config) {
		c.Trunks = pols
		c.Routes = []calls.Route{{Prefix: "*", Trunks: trunkNames[:n]}}
		c.Plan = testPlan(t, `numbers: {"+351210000000": {action: extension 1002}}`)
		if f != nil {
			f(c)
		}
	}))
	r := &trunkRig{h: h}
	for i := range n {
		r.providers = append(r.providers, h.phone(t, "912345678", func(o *siptest.Options) { // a national number
			o.UserAgent = "provider-" + trunkNames[i]
			o.IP, o.Port, o.Answer = trunkIPs[i], ports[i], siptest.Manual
		}))
	}
	return r
}

// TestTrunkInbound: a provider's call to a DID (national format) rings
// the mapped extension, whose answer connects the call; the record knows
// the caller's number in E.164 and the trunk. An unknown DID gets 404, and
// a call from no trunk and no phone gets 403 without ringing anyone.
func TestTrunkInbound(t *testing.T) {
	r := newTrunkRig(t, 1, nil)
	h := r.h
	bob := h.register(t, "1002", answer(siptest.Manual))
	prov := r.providers[0]
	peer := newRTPPeer(t, "provider")

	call := dial(t, prov, "210000000", peer.SDP(), siptest.WithoutAuth())
	ic := incoming(t, bob)
	respond(t, ic, 200, newRTPPeer(t, "bob").SDP())
	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("the provider got %d, want 200", code)
	}
	if code, err := call.Bye(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("BYE: %d %v", code, err)
	}
	waitBye(t, "1002", ic)
	rec := h.ended(t)
	if rec.Caller.Number != "+351912345678" || rec.Caller.Trunk != "first" {
		t.Errorf("caller %+v, want +351912345678 from trunk first", rec.Caller)
	}
	if rec.Callee.Extension != "1002" || rec.Cause != calls.CauseNormal {
		t.Errorf("record: callee %+v cause %s", rec.Callee, rec.Cause)
	}
	if trunks := h.Switch.TrunkCalls(); trunks["first"] != 0 {
		t.Errorf("trunk channels after the call: %v", trunks)
	}

	unknown := dial(t, prov, "219999999", peer.SDP(), siptest.WithoutAuth())
	if code, _ := waitFinal(t, unknown); code != 404 {
		t.Errorf("a call to a number of nobody got %d, want 404", code)
	}

	stranger := h.phone(t, "+351912345678")
	refused := dial(t, stranger, "210000000", peer.SDP(), siptest.WithoutAuth())
	if code, _ := waitFinal(t, refused); code != 403 {
		t.Errorf("a call from no trunk got %d, want 403", code)
	}
	noIncoming(t, bob)
}

// TestTrunkOutbound: an agent dials a number; the first trunk refuses with
// 503 and the call goes to the second, which sends early media and then
// answers. The providers see the number as the trunk writes it and the
// caller ID. When the first trunk says 486 instead, the caller hears busy
// and the second is never tried.
func TestTrunkOutbound(t *testing.T) {
	t.Run("503 fails over", func(t *testing.T) {
		r := newTrunkRig(t, 2, nil)
		h := r.h
		alice := h.register(t, "1001")
		callerRTP := newRTPPeer(t, "alice")
		call := dial(t, alice, "+351210000000", callerRTP.SDP())
		first := incoming(t, r.providers[0])
		if !strings.HasPrefix(first.Request.RequestURI, "sip:351210000000@") {
			t.Errorf("Request-URI %s, want the number without +", first.Request.RequestURI)
		}
		if from := first.Header("From"); !strings.Contains(from, "sip:351219999999@") {
			t.Errorf("From %s, want the caller ID", from)
		}
		if pai := first.Header("P-Asserted-Identity"); !strings.Contains(pai, "sip:351219999999@") {
			t.Errorf("P-Asserted-Identity %q, want the caller ID", pai)
		}
		respond(t, first, 503, nil)
		second := incoming(t, r.providers[1])
		peer := newRTPPeer(t, "second")
		respond(t, second, 183, peer.SDP())
		if err := call.WaitProvisional(ctxFor(t), 183); err != nil {
			t.Fatalf("the caller got no early media: %v", err)
		}
		respond(t, second, 200, peer.SDP())
		if code, _ := waitFinal(t, call); code != 200 {
			t.Fatalf("caller got %d", code)
		}
		if n := h.Switch.TrunkCalls(); n["first"] != 0 || n["second"] != 1 {
			t.Errorf("trunk channels in use %v, want only second's", n)
		}
		if code, err := call.Bye(ctxFor(t)); err != nil || code != 200 {
			t.Fatalf("BYE: %d %v", code, err)
		}
		waitBye(t, "second", second)
		rec := h.ended(t)
		if rec.Callee.Number != "+351210000000" || len(rec.Legs) != 3 || rec.Legs[2].Party.Trunk != "second" {
			t.Errorf("record: callee %+v legs %+v", rec.Callee, rec.Legs)
		}
	})
	t.Run("credentials refused fail over", func(t *testing.T) {
		r := newTrunkRig(t, 2, nil)
		h := r.h
		alice := h.register(t, "1001")
		call := dial(t, alice, "+351210000000", newRTPPeer(t, "alice").SDP())
		respond(t, incoming(t, r.providers[0]), 401, nil) // no challenge Ringdesk could answer
		second := incoming(t, r.providers[1])
		respond(t, second, 200, newRTPPeer(t, "second").SDP())
		if code, _ := waitFinal(t, call); code != 200 {
			t.Fatalf("caller got %d, want the second trunk's answer", code)
		}
		if code, err := call.Bye(ctxFor(t)); err != nil || code != 200 {
			t.Fatalf("BYE: %d %v", code, err)
		}
		waitBye(t, "second", second)
		h.ended(t)
	})
	t.Run("486 does not", func(t *testing.T) {
		r := newTrunkRig(t, 2, nil)
		h := r.h
		alice := h.register(t, "1001")
		call := dial(t, alice, "+351210000000", newRTPPeer(t, "alice").SDP())
		respond(t, incoming(t, r.providers[0]), 486, nil)
		if code, _ := waitFinal(t, call); code != 486 {
			t.Errorf("the caller got %d, want 486", code)
		}
		if rec := h.ended(t); rec.Cause != calls.CauseBusy {
			t.Errorf("cause %s, want busy", rec.Cause)
		}
		noIncoming(t, r.providers[1])
	})
}

// TestTrunkChannelLimit: a trunk that carries its max_calls refuses more,
// in (503) and out (the caller gets 503 when no other trunk is left).
func TestTrunkChannelLimit(t *testing.T) {
	r := newTrunkRig(t, 1, func(c *calls.Config) { c.Trunks[0].MaxCalls = 1 })
	h := r.h
	alice := h.register(t, "1001")
	ringing := dial(t, alice, "+351210000001", newRTPPeer(t, "alice").SDP())
	ic := incoming(t, r.providers[0])
	h.ring(t, ic)

	second := dial(t, alice, "+351210000002", newRTPPeer(t, "alice-2").SDP())
	if code, _ := waitFinal(t, second); code != 503 {
		t.Errorf("a second call out on a full trunk got %d, want 503", code)
	}
	in := dial(t, r.providers[0], "210000000", newRTPPeer(t, "provider").SDP(), siptest.WithoutAuth())
	if code, _ := waitFinal(t, in); code != 503 {
		t.Errorf("a call in on a full trunk got %d, want 503", code)
	}
	if _, err := ringing.Cancel(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitCancel(t, ic)
	waitNth[calls.CallEnded](t, h.Obs, 3)
	if n := h.Switch.TrunkCalls(); n["first"] != 0 {
		t.Errorf("channels in use after the calls: %v", n)
	}
}
