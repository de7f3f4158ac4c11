package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Migrate applies steps[v:] where v is the component's version recorded in
// the shared schema_versions table, each step in its own transaction
// together with the version bump. A step may hold several statements. A
// database newer than the steps is refused, so an older binary never runs
// on a schema it does not know.
func Migrate(ctx context.Context, db *sql.DB, component string, steps []string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		component TEXT PRIMARY KEY, version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	var v int
	err := db.QueryRowContext(ctx, `SELECT version FROM schema_versions WHERE component = ?`, component).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate %s: read version: %w", component, err)
	}
	if v > len(steps) {
		return fmt.Errorf("migrate %s: database is at version %d, this build knows %d: refusing to run an older binary on a newer database", component, v, len(steps))
	}
	for i := v; i < len(steps); i++ {
		if err := step(ctx, db, component, i+1, steps[i]); err != nil {
			return err
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, component string, version int, stmt string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("migrate %s step %d: %w", component, version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_versions (component, version) VALUES (?, ?)
		ON CONFLICT(component) DO UPDATE SET version = excluded.version`, component, version); err != nil {
		return fmt.Errorf("migrate %s step %d: %w", component, version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s step %d: %w", component, version, err)
	}
	return nil
}
