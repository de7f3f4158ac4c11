// Package calls is Ringdesk's call control: it turns a caller's INVITE into a
// conversation. It may import sip, media, media/sdp, e164, dialplan, ivr
// and acd (and, later, recordings); nothing imports it but cmd/ringdesk
// and, later, web.
//
// Main types:
//
//   - Switch: the registry of live calls. It implements sip.Handler, admits
//     each new call (503 while shutting down), runs it and drains on shutdown.
//   - Call: one conversation from the first INVITE to the last BYE, owned by
//     one supervisor goroutine; SIP goroutines only post events to it.
//   - Trunk, Route, Dialing: trunk policy. A call from a trunk has its
//     called number normalised to E.164 (package e164) and routed by the
//     dialplan; an agent's call to an outside
//     number goes through the trunks of the longest matching route, in
//     order, each writing the number and caller ID its way; a 5xx, 408, no
//     response or refused credentials moves on to the next, another 4xx or
//     a 6xx does not. Each trunk's
//     max_calls is enforced in and out (CauseCongestion, 503).
//   - Leg: one SIP dialog and its media.Session. Every leg negotiates its own
//     SDP with Ringdesk (a back-to-back user agent), so the two sides of a
//     call may use different codecs and the relay transcodes.
//   - Cause: why a call or leg ended, with the table that maps it to the SIP
//     status a caller sees and the Reason header (RFC 3326, Q.850 causes).
//   - The dialplan (Config.Plan, Switch.SetPlan): a number of the plan is
//     either put straight through (it only rings an extension or an
//     outside number, with no message first) or answered by Ringdesk,
//     whose flow (flow.go, on its own goroutine owned by the call) plays
//     the welcome or after-hours message, offers IVR menus (package ivr:
//     barge-in, timeouts, retries), rings ring groups and queues by the
//     agents' presence (package acd: sequential by login order with
//     cycles, simultaneous, longest idle; forwarding to outside numbers),
//     keeps queue callers with hold music and announcements, and records
//     voicemail. The flow reaches the call only through commands; the
//     caller hears silence in menus, ringback while a ring group rings and
//     music in queues. Calls keep the plan they started with.
//   - Observer and the events CallStarted, LegRinging, LegEnded,
//     CallAnswered, CallHeld, CallResumed, PartyHeld, PartyResumed,
//     LegConnected, LegLeft, HostChanged, DigitReceived, TransferStarted,
//     TransferEnded, TransferRecalled, Recording*, CallRouted,
//     MenuSelected, MenuFailed, QueueJoined, QueueFull, QueueLeft,
//     VoicemailLeft, CallEnded (with the CallRecord and its RouteRecord:
//     number, department, menu path, queue, wait, abandoned, voicemail):
//     how call records and, later, tickets learn about calls.
//   - The control API on *Call (found with Switch.Call): Hold, Resume,
//     AddParticipant, Remove, End, BlindTransfer, StartConsult,
//     CompleteConsult, CancelConsult, Start/Pause/Resume/DeleteRecording,
//     SendDigits, Play (a prompt or tone to one party or all; Playback.Stop
//     and Done). Each is a command the call's supervisor runs.
//   - Transfers by desk phone: REFER (blind) and REFER with Replaces
//     (attended, RFC 3891: the far party of the replaced dialog moves into
//     the REFER's call, and the phone's two calls are released after the
//     final NOTIFY).
//
// An extension-to-extension call rings every registered phone of the callee
// at once; the first to answer wins and the others get CANCEL with "call
// completed elsewhere". CANCEL from the caller, busy, no answer within the
// ring timeout, unknown extension and no registration each end the call with
// the matching status. Re-INVITEs (hold, resume) are answered locally with the
// direction RFC 3264 §6.1 requires. A call whose parties send no RTP for the
// media timeout is ended, except while it is on hold.
//
// Media follows the parties' state (topology.go): two parties who hear each
// other stay on the relay fast path; a third party, a recording or in-band
// DTMF detection bring in a media.Mixer. A party held by Ringdesk, or left
// alone because the other holds, hears the switch's one shared hold-music
// stream; a party waiting for a blind transfer hears the shared ringback.
// Parties added later (conference participants, transfer targets, a
// transferring agent rung back) are dials: every phone of the target rings,
// the first to answer joins. A failed transfer never loses the customer: it
// returns to the transferring agent, whose phones ring again if it had hung
// up. A desk phone's REFER is a blind transfer; with Replaces it joins this
// call's other party with the other party of the phone's second call.
// Digits are reported once per keypress (DigitReceived) whether they came as
// RFC 4733 events, SIP INFO or in-band tones.
package calls
