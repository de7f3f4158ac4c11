package sip

import "errors"

var (
	// ErrClosed is returned by operations on a server or dialog that has ended.
	ErrClosed = errors.New("sip: closed")
	// ErrDialogEnded is returned when a request is attempted on an ended dialog.
	ErrDialogEnded = errors.New("sip: dialog ended")
	// ErrCancelled is returned by Answer when the caller's CANCEL (or BYE
	// in the early dialog) won: the caller got 487 instead.
	ErrCancelled = errors.New("sip: cancelled by the caller")
	// ErrFinalResponseSent is returned when a second final response is attempted
	// on an INVITE.
	ErrFinalResponseSent = errors.New("sip: final response already sent")
	// ErrNoAnswer is returned when the 2xx for a request never arrives.
	ErrNoAnswer = errors.New("sip: no final response")
	// ErrBadCredentials is reported when a digest response does not verify.
	ErrBadCredentials = errors.New("sip: bad credentials")
	// ErrStaleNonce is reported when a digest nonce is well formed but expired.
	ErrStaleNonce = errors.New("sip: stale nonce")
	// ErrUnknownUser is reported when a digest user name is not configured.
	ErrUnknownUser = errors.New("sip: unknown user")
	// ErrOtherRealm is reported for credentials of another realm, meant for
	// another hop; they are skipped.
	ErrOtherRealm = errors.New("sip: credentials for another realm")
	// ErrURIMismatch is reported when the digest uri names another user
	// than the Request-URI: credentials made for one destination cannot
	// place a call to another.
	ErrURIMismatch = errors.New("sip: digest uri does not match the request")
	// ErrNoTrunk is returned for an INVITE through a trunk not configured.
	ErrNoTrunk = errors.New("sip: no such trunk")
	// ErrUnreachable is returned when a trunk's host does not resolve.
	ErrUnreachable = errors.New("sip: trunk unreachable")
)
