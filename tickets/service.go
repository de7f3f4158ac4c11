package tickets

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ringdesk/ringdesk/internal/sqlite"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationComponent = "tickets"

// Options configure a Service.
type Options struct {
	Settings Settings
	// Now is the clock (default time.Now).
	Now func() time.Time
	// FilesRoot, when set, is the directory recordings and voicemails must
	// lie under for DeleteFile to remove them (the data directory).
	FilesRoot string
	Log       *slog.Logger
}

// Service is the helpdesk: contacts, tickets, call records and the
// call-to-ticket rules, on one SQLite database. It is safe for concurrent
// use; writes are serialised by SQLite.
type Service struct {
	db        *sql.DB
	now       func() time.Time
	log       *slog.Logger
	filesRoot string

	mu       sync.RWMutex
	settings Settings

	subMu sync.Mutex
	subs  map[*subscription]struct{}
}

// New applies the package's migrations to db and returns the service.
func New(ctx context.Context, db *sql.DB, o Options) (*Service, error) {
	steps, err := migrationSteps()
	if err != nil {
		return nil, err
	}
	if err := sqlite.Migrate(ctx, db, migrationComponent, steps); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, now: o.Now, log: o.Log, filesRoot: o.FilesRoot, settings: o.Settings, subs: map[*subscription]struct{}{}}, nil
}

func migrationSteps() ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("tickets: migrations: %w", err)
	}
	slices.Sort(names)
	steps := make([]string, 0, len(names))
	for _, n := range names {
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("tickets: migration %s: %w", n, err)
		}
		steps = append(steps, string(b))
	}
	return steps, nil
}

// SetSettings replaces the rule settings (on reload).
func (s *Service) SetSettings(st Settings) {
	s.mu.Lock()
	s.settings = st
	s.mu.Unlock()
}

// Settings returns the rule settings in force.
func (s *Service) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.settings
}

// txn is one write transaction and the changes it will report once
// committed.
type txn struct {
	*sql.Tx
	s       *Service
	ctx     context.Context
	now     time.Time
	changes []Change
}

// write runs fn in one immediate transaction; the changes fn collected are
// queued in the outbox with the transaction and published once it commits.
func (s *Service) write(ctx context.Context, fn func(tx *txn) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tickets: begin: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	tx := &txn{Tx: sqlTx, s: s, ctx: ctx, now: s.now()}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.queueWebhooks(); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("tickets: commit: %w", err)
	}
	s.publish(tx.changes)
	return nil
}

func (tx *txn) exec(query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(tx.ctx, query, args...)
}

func (tx *txn) queryRow(query string, args ...any) *sql.Row {
	return tx.QueryRowContext(tx.ctx, query, args...)
}

func (tx *txn) change(c Change) {
	if c.At.IsZero() {
		c.At = tx.now
	}
	tx.changes = append(tx.changes, c)
}

// queueWebhooks writes one outbox row per change and webhook.
func (tx *txn) queueWebhooks() error {
	hooks := tx.s.Settings().Webhooks
	if len(hooks) == 0 || len(tx.changes) == 0 {
		return nil
	}
	for _, c := range tx.changes {
		payload, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("tickets: webhook payload: %w", err)
		}
		for _, h := range hooks {
			if _, err := tx.exec(`INSERT INTO outbox (url, kind, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?)`,
				h.URL, string(c.Kind), string(payload), ms(tx.now), ms(tx.now)); err != nil {
				return fmt.Errorf("tickets: outbox: %w", err)
			}
		}
	}
	return nil
}

// subscription is one reader of Changes.
type subscription struct {
	ch      chan Change
	dropped int
}

// Subscribe returns a channel of every change committed from now on, and a
// function that ends the subscription (and closes the channel). A reader
// that falls more than buffer changes behind loses the oldest it has not
// read: the channel never slows the helpdesk.
func (s *Service) Subscribe(buffer int) (<-chan Change, func()) {
	if buffer < 1 {
		buffer = 1
	}
	sub := &subscription{ch: make(chan Change, buffer)}
	s.subMu.Lock()
	s.subs[sub] = struct{}{}
	s.subMu.Unlock()
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			s.subMu.Lock()
			delete(s.subs, sub)
			close(sub.ch)
			s.subMu.Unlock()
		})
	}
}

func (s *Service) publish(changes []Change) {
	if len(changes) == 0 {
		return
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs {
		for _, c := range changes {
			for {
				select {
				case sub.ch <- c:
				default:
					select { // full: drop the oldest and try again
					case <-sub.ch:
						sub.dropped++
					default:
					}
					continue
				}
				break
			}
		}
	}
}

// ms is t in unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// nullMS is t in unix milliseconds, NULL for the zero time.
func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}
