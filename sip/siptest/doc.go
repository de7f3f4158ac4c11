// Package siptest is a scriptable SIP softphone for in-process tests.
//
// A Phone is a peer of the system under test, like a desk phone on the LAN:
// it binds its own socket on loopback port 0 (UDP), or opens one TCP
// connection to the server and nothing else (TCP, like a phone behind NAT),
// registers with digest authentication (MD5 or SHA-256, RFC 3261 §22,
// RFC 8760), places calls (INVITE with 407 handling, CANCEL, ACK, BYE,
// re-INVITE, INFO) and answers calls according to an AnswerFunc policy.
//
// It is built on github.com/emiago/sipgo directly and imports no Ringdesk
// package, so it can drive package sip (and anything above it) from the
// outside. Its exported API carries no sipgo types: responses and requests
// come back as Message and Response values.
//
// Every goroutine a Phone starts is stopped and waited for by Close, which
// NewPhone registers with t.Cleanup. Waits take a context and never sleep.
package siptest
