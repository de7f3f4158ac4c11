// Package webhooks delivers the helpdesk's changes to the webhook URLs of
// ringdesk.yaml as signed HTTP POSTs.
//
// The tickets service writes one outbox row per (change, webhook URL) in
// the same transaction as the change, so a change that committed is owed
// to every webhook, across restarts. A [Sender] reads the outbox through
// the small [Store] interface (*tickets.Service satisfies it), sends what
// is due with a few requests in flight at most, and records each outcome:
// a delivery leaves the outbox once the receiver accepted it, or once it is
// given up. cmd/ringdesk runs [Sender.Run] and calls [Sender.Kick] when a
// change commits (tickets.Service.Subscribe), so deliveries go out at once
// rather than at the next 30-second look.
//
// It imports tickets (for tickets.Delivery) and nothing else of ours;
// cmd/ringdesk wires it.
//
// # Requests
//
// Each attempt is
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: Ringdesk-Webhooks/1
//	Ringdesk-Event: <kind>             (ticket.created, contact.created, ...)
//	Ringdesk-Delivery: <id>            (the same on every retry)
//	Ringdesk-Timestamp: <unix seconds> (when this attempt was signed)
//	Ringdesk-Signature: t=<unix seconds>,v1=<hex>
//
//	<the change as JSON: tickets.Change>
//
// A 2xx response delivers it. Any other status, a timeout or a connection
// error is a failed attempt, retried after a backoff (by default 5s, 10s,
// 20s, ... at most an hour, ±20% jitter) until MaxAttempts, when the
// delivery is given up and logged at error. 410 Gone gives it up at once.
// Redirects are never followed: a 3xx is a failure. At most 64 KiB of a
// response body is read.
//
// Delivery is at least once: if Ringdesk stops after the receiver accepted
// a delivery but before that was recorded, it is sent again after the
// restart. Receivers de-duplicate on Ringdesk-Delivery, which is the same
// on every attempt and never given to another delivery. Deliveries are not
// ordered: retries and concurrent requests reorder them, so receivers
// should order by the change's "at" field, or re-read the ticket.
//
// # Signatures
//
// Every webhook must have a secret; a delivery to a URL without one is
// never sent (it is given up and logged at error). The signature, like
// Stripe's, is
//
//	v1 = hex(HMAC-SHA256(secret, "<t>.<body>"))
//
// where t is the decimal Unix time in seconds of the Ringdesk-Timestamp
// header and body is the raw request body, byte for byte. A receiver
// reads t and every v1 from Ringdesk-Signature (a comma-separated list of
// key=value; unknown keys are ignored, and more than one v1 may appear),
// recomputes the HMAC over its own t and the body as received, compares it
// to each v1 in constant time (hmac.Equal), and rejects the request unless
// one matches and t is within a few minutes of its clock, which stops
// replays. [Verify] does exactly that; [Sign] computes the v1 value.
package webhooks
