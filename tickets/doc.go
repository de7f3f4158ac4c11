// Package tickets is Ringdesk's helpdesk: contacts (phone numbers in
// E.164), tickets with their timeline, call records with every leg, call
// summaries and tasks, recordings' and voicemails' metadata, on the one
// SQLite database that cmd/ringdesk opens and passes in. Its schema is
// versioned migrations embedded from migrations/.
//
// Calls reach it as [Event]s, which cmd/ringdesk translates from the calls
// package's events (tickets never imports calls). [Service.Apply] applies
// each event in one transaction, in order, once: a replayed or late event
// changes nothing. The call-to-ticket rules (rules.go) are one function
// each, named for what they decide, citing the checklist items:
//
//   - a new caller's number creates a contact; a number several contacts
//     share waits for the agent's pick or falls back to the most recently
//     created contact at the end of the call (A146, A167, A170);
//   - an answered inbound call joins the contact's active ticket of the
//     same menu path and channel, or creates one, assigned to the agent who
//     answered (A66, A71, A153);
//   - a missed or abandoned call creates an unassigned ticket in its
//     department and notifies the department's agents (A69, A70, A148);
//   - a voicemail always creates a new ticket, assigned to the default
//     user (A149-A151);
//   - an outbound call joins a callback's ticket or the contact's active
//     ticket that a call created, else a new one (A147, A154-A156, A181);
//     the agent may choose another, a new one or none (A83-A86);
//   - a completed transfer reassigns the ticket (A104, A159);
//   - a new call ticket gets an internal comment with the call ID,
//     language and menu path; the recording is attached when the call ends,
//     on the ticket a merge moved it to (A116, A119, A158, A164);
//   - the ticket's call fields hold its last call's values (A171-A175).
//
// [Service.CloseInterrupted], run at start, ends the calls a killed process
// left open with cause "restart", through the same rules.
//
// Every change is published to [Service.Subscribe]rs after it commits, and
// written to the outbox table in the same transaction for the webhook
// sender ([Service.DueDeliveries]), so a restart loses no delivery.
//
// It imports only e164 (phone numbers) and internal/sqlite (migrations) of
// this module; web, webhooks and cmd/ringdesk import it. Errors wrap the
// sentinels of errors.go: [ErrNotFound], [ErrInvalid], [ErrConflict].
package tickets
