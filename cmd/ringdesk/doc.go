// Command ringdesk is the Ringdesk PBX with helpdesk ticketing.
//
//	ringdesk [serve] [-config FILE] [-log-level L] [-log-format text|json] [-sip-trace]
//	ringdesk check [-config FILE]
//	ringdesk routes | reload | agent | status | dial ...
//	ringdesk passwd
//	ringdesk token [-config FILE] AGENT [NAME] | -list [AGENT] | -revoke ID
//	ringdesk sample-config
//	ringdesk version
//
// Without -config it runs on the sample configuration embedded from package
// configs, creates its data directory, and prints the SIP address and the
// demo extensions' credentials. The first SIGINT or SIGTERM drains (new calls
// get 503, calls in progress have the shutdown grace period, then BYE); a
// second one exits at once.
//
// This package is the only one that sees every other: it wires sip, media
// and calls together, opens the one SQLite database, logs call events and
// feeds them to the helpdesk (helpdesk.go translates calls' events into
// tickets' and applies them on one goroutine, with a heartbeat so that a
// call a kill interrupts is closed with cause "restart" at the next start),
// and serves the REST API (package web) and webhooks.
package main
