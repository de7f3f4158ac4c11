// Package dialplan compiles dialplan.yaml, the admin's description of how
// calls are handled, into a Plan: for each number callers dial, its
// business hours, its automated messages, and what callers get while open
// and while closed: IVR menus (up to MaxMenuDepth levels), ring groups,
// queues, voicemail, an extension or an outside number.
//
// # Compiling
//
// Parse and Load check the whole file and report every problem, not just
// the first, as Errors: each one FILE:LINE:COL: message, sorted by
// position. Beyond the YAML itself (unknown and duplicate keys, values of
// the wrong type) they check names that do not exist, values out of range,
// menus nested too deep or looping with no way out, queues falling back to
// each other in a circle, agents and extensions that ringdesk.yaml does not
// have (Options.Agents), DIDs that do not parse (Options.Normalize), and
// audio: every audio file is loaded (Options.LoadAudio, or
// Options.FetchAudio for one named by an http(s) URL) and every text is
// spoken (Options.Speak) while compiling, so a Plan is ready to play and a
// bad file is refused before a call meets it. Without Speak (no espeak-ng),
// a dialplan that needs text-to-speech is refused. Bad input never panics.
//
// # Actions
//
// Numbers, menu options, no_input and on_invalid, a ring group's no_answer
// and a queue's fallback each name one action, a string:
//
//	menu NAME         offer a menu (menus)
//	ring NAME         ring a ring group (ring_groups)
//	queue NAME        queue the caller (queues)
//	voicemail NAME    take a message (voicemail)
//	extension NUMBER  ring one agent's extension (ringdesk.yaml)
//	outside NUMBER    call an outside number through a trunk
//	repeat            menus only: offer the current menu again
//	back              menus only: go back to the menu above
//	hangup            hang up (the default wherever an action is optional)
//
// A queue falls back only to voicemail, another queue, or hangup. Each is
// compiled into an Action whose Kind names the verb and whose pointer
// (Menu, RingGroup, Queue, Voicemail) or Target names the rest.
//
// # Using a Plan
//
// A Plan is pure policy: Route is a map lookup and an hours check
// (Hours.OpenAt) with no I/O and no allocation, and the Plan does no I/O after
// compiling, except that PositionAudio speaks a queue's position message
// through Options.Speak the first time each position is needed. A Plan is
// safe for concurrent use; a reload compiles a new one and swaps it in, and
// calls in progress keep the one they started with. Describe prints each
// number's flow as a tree, for `ringdesk routes`.
//
// The YAML is decoded through internal/yamlpos, like ringdesk.yaml's. Time
// zones come from the embedded tzdata, so hours work the same on every
// machine. dialplan imports no other project package.
package dialplan
