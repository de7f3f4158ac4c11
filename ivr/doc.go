// Package ivr runs interactive voice response menus: it plays a menu's
// prompt to the caller, collects one DTMF digit, and handles barge-in,
// timeouts, retries and invalid input.
//
// It is driven through small interfaces, declared here and implemented by
// the call side (package calls): a [Player] plays audio to the caller and
// returns a [Playing]; digits arrive on a channel that the caller of [Ask]
// owns and fills (from RFC 4733 telephone-events or in-band detection).
// Timers come from a [Clock], the system clock unless a test gives a
// [Collector] its own. The package imports only the standard library and
// starts no goroutines: [Ask] and [PlayAll] run on the caller's goroutine
// and return when they are done or their context ends.
//
// Main types: [Menu] (what to offer), [Result] with its [Outcome] (what
// the caller did), [Path] (the caller's way through nested menus, for call
// records: "Support > Billing").
//
// Digits are the DTMF symbols of RFC 4733 section 3.2 as ASCII bytes:
// '0'-'9', '*', '#' and 'A'-'D'.
package ivr
