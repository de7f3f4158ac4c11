package sip

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/ringdesk/ringdesk/internal/sqlite"
)

// Binding is one registered contact of an address of record (RFC 3261 §10).
type Binding struct {
	// AOR is the user part of the address of record: the extension.
	AOR string
	// Contact is the Contact URI the phone registered, e.g. "sip:1002@10.0.0.5:5062".
	Contact string
	// Instance is the +sip.instance of the contact (RFC 5626), "" when absent.
	Instance string
	// CallID and CSeq of the REGISTER that last refreshed the binding, to
	// reject out-of-order requests (RFC 3261 §10.3 step 7).
	CallID string
	CSeq   uint32
	// Expires is when the binding lapses.
	Expires time.Time
	// Source is the address the REGISTER came from. Requests to the phone are
	// sent there, which reaches phones behind NAT and reuses TCP connections.
	Source netip.AddrPort
	// Transport is "UDP", "TCP" or "TLS": how the REGISTER arrived.
	Transport string
	// UserAgent is the phone's User-Agent header, for the logs.
	UserAgent string
	// Updated is when the binding was last written.
	Updated time.Time
}

// BindingStore persists registrations so a restart does not forget phones.
type BindingStore interface {
	// LoadBindings returns every stored binding.
	LoadBindings(ctx context.Context) ([]Binding, error)
	// ReplaceBindings replaces all bindings of aor with bs (possibly none).
	ReplaceBindings(ctx context.Context, aor string, bs []Binding) error
	// DeleteExpired removes bindings that lapsed before t.
	DeleteExpired(ctx context.Context, t time.Time) error
}

// MemoryBindings is a BindingStore that keeps nothing across restarts, for tests.
type MemoryBindings struct {
	mu sync.Mutex
	m  map[string][]Binding
}

var _ BindingStore = (*MemoryBindings)(nil)

// LoadBindings implements BindingStore.
func (m *MemoryBindings) LoadBindings(context.Context) ([]Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Binding
	for _, bs := range m.m {
		out = append(out, bs...)
	}
	return out, nil
}

// ReplaceBindings implements BindingStore.
func (m *MemoryBindings) ReplaceBindings(_ context.Context, aor string, bs []Binding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string][]Binding)
	}
	if len(bs) == 0 {
		delete(m.m, aor)
		return nil
	}
	m.m[aor] = append([]Binding(nil), bs...)
	return nil
}

// DeleteExpired implements BindingStore.
func (m *MemoryBindings) DeleteExpired(_ context.Context, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for aor, bs := range m.m {
		kept := bs[:0]
		for _, b := range bs {
			if b.Expires.After(t) {
				kept = append(kept, b)
			}
		}
		if len(kept) == 0 {
			delete(m.m, aor)
		} else {
			m.m[aor] = kept
		}
	}
	return nil
}

// SQLBindings stores bindings in the sip_bindings table of a SQLite database.
type SQLBindings struct {
	db *sql.DB
}

var _ BindingStore = (*SQLBindings)(nil)

// migrations are this package's schema steps, applied in order once each.
// The component name keys them in the shared schema_versions table.
var migrations = []string{ //nolint:gochecknoglobals // immutable schema
	`CREATE TABLE sip_bindings (
		aor        TEXT    NOT NULL,
		contact    TEXT    NOT NULL,
		instance   TEXT    NOT NULL DEFAULT '',
		call_id    TEXT    NOT NULL,
		cseq       INTEGER NOT NULL,
		expires_at INTEGER NOT NULL, -- unix milliseconds
		source     TEXT    NOT NULL, -- ip:port the REGISTER came from
		transport  TEXT    NOT NULL, -- UDP, TCP, TLS
		user_agent TEXT    NOT NULL DEFAULT '',
		updated_at INTEGER NOT NULL, -- unix milliseconds
		PRIMARY KEY (aor, contact)
	)`,
	`CREATE INDEX sip_bindings_expires ON sip_bindings (expires_at)`,
}

const migrationComponent = "sip"

// NewSQLBindings applies this package's migrations to db and returns the store.
func NewSQLBindings(ctx context.Context, db *sql.DB) (*SQLBindings, error) {
	if err := sqlite.Migrate(ctx, db, migrationComponent, migrations); err != nil {
		return nil, err
	}
	return &SQLBindings{db: db}, nil
}

// LoadBindings implements BindingStore.
func (s *SQLBindings) LoadBindings(ctx context.Context) ([]Binding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT aor, contact, instance, call_id, cseq, expires_at,
		source, transport, user_agent, updated_at FROM sip_bindings ORDER BY aor, updated_at`)
	if err != nil {
		return nil, fmt.Errorf("load bindings: %w", err)
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		var (
			b                Binding
			cseq             int64
			expires, updated int64
			source           string
		)
		if err = rows.Scan(&b.AOR, &b.Contact, &b.Instance, &b.CallID, &cseq, &expires,
			&source, &b.Transport, &b.UserAgent, &updated); err != nil {
			return nil, fmt.Errorf("load bindings: %w", err)
		}
		b.CSeq = uint32(cseq) //nolint:gosec // stored from a uint32
		b.Expires = time.UnixMilli(expires)
		b.Updated = time.UnixMilli(updated)
		b.Source, err = netip.ParseAddrPort(source)
		if err != nil {
			continue // unusable row: skip it, the phone will register again
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load bindings: %w", err)
	}
	return out, nil
}

// ReplaceBindings implements BindingStore.
func (s *SQLBindings) ReplaceBindings(ctx context.Context, aor string, bs []Binding) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save bindings of %q: %w", aor, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sip_bindings WHERE aor = ?`, aor); err != nil {
		return fmt.Errorf("save bindings of %q: %w", aor, err)
	}
	for _, b := range bs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sip_bindings (aor, contact, instance, call_id,
			cseq, expires_at, source, transport, user_agent, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			aor, b.Contact, b.Instance, b.CallID, int64(b.CSeq), b.Expires.UnixMilli(),
			b.Source.String(), b.Transport, b.UserAgent, b.Updated.UnixMilli()); err != nil {
			return fmt.Errorf("save binding %q of %q: %w", b.Contact, aor, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save bindings of %q: %w", aor, err)
	}
	return nil
}

// DeleteExpired implements BindingStore.
func (s *SQLBindings) DeleteExpired(ctx context.Context, t time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sip_bindings WHERE expires_at <= ?`, t.UnixMilli()); err != nil {
		return fmt.Errorf("delete expired bindings: %w", err)
	}
	return nil
}

// sortBindings orders bindings newest first, the order contacts are listed in
// a 200 OK and the order they are rung in logs.
func sortBindings(bs []Binding) {
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Updated.After(bs[j].Updated) })
}
