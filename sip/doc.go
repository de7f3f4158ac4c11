// Package sip is Ringdesk's SIP endpoint, built on github.com/emiago/sipgo:
// the listeners (UDP, TCP, TLS), the Registrar, digest authentication, and
// Ringdesk's own table of dialogs that routes every in-dialog request. It
// turns SIP into leg events for package calls and carries SDP as opaque bytes:
// no media, no call policy. It imports no other Ringdesk package, and sipgo's
// types do not leave it.
//
// Main types:
//
//   - Server: Listen binds the configured sockets, Serve runs them and passes
//     each new authenticated INVITE to a Handler as an InboundCall.
//   - InboundCall: the UAS side of a dialog (Progress, Answer, Reject, Hangup).
//   - OutboundCall: the UAC side (Server.Invite, Cancel, Hangup).
//   - Event: what happened on a dialog (ProgressReceived, Answered, Rejected,
//     Cancelled, AckReceived, ByeReceived, OfferReceived, InfoReceived...),
//     delivered in order to the dialog's EventHandler.
//   - Binding, BindingStore, SQLBindings: registrations, kept in SQLite so a
//     restart does not forget phones.
//   - Trunk: an upstream provider. Server registers the trunks that ask for
//     it (digest challenges answered, refresh before expiry, backoff,
//     OPTIONS keepalive, unregister on close; TrunkStates reports them),
//     recognises a provider's INVITE by its networks or by the contact
//     registered with it (InboundCall.Trunk; no digest then), refuses with
//     403 an INVITE from anywhere else that is not from a known user (at a
//     limited rate per source), and sends INVITEs through a trunk
//     (InviteRequest.Trunk), answering its 401/407 with the trunk's
//     credentials. TLS trunks are checked against their host name and the
//     system's roots plus the trunks' CA files.
//
// Requests to a registered phone go to the address and transport its
// REGISTER came from, which reaches phones behind NAT and reuses their TCP
// connections. Malformed datagrams are answered 400 (when they carry enough
// headers to be answered) and dropped; a request missing a header every
// handler needs gets 400.
//
// Implements, in part: RFC 3261 (SIP: registrar §10, UAS/UAC §8, dialogs
// §12, INVITE §13, CANCEL §9, BYE §15, digest §22), RFC 3581 (rport),
// RFC 6026 (2xx retransmission), RFC 7616 and RFC 8760 (digest with SHA-256),
// RFC 3326 (Reason), RFC 3311 (UPDATE, answered like a re-INVITE), RFC
// 3325 (P-Asserted-Identity, sent to trunks that want it).
package sip
