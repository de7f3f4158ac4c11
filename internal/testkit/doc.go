// Package testkit holds the small helpers Ringdesk's in-process tests share:
// a log handler that keeps records in memory (LogCapture), a goroutine leak
// check (CheckGoroutines), and random test identifiers (RandHex). Test
// helpers only: it may import any non-cmd package, and nothing but tests
// import it.
package testkit
