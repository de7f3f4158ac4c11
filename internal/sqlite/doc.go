// Package sqlite opens Ringdesk's one SQLite database (mattn/go-sqlite3, which
// needs cgo) with the settings every package relies on: WAL journal, a busy
// timeout, foreign keys on. It is the only file that imports the driver.
// Packages own their tables and migrations; they receive the *sql.DB from
// cmd/ringdesk.
package sqlite
