package tickets

import (
	"context"
	"fmt"
	"time"
)

// Delivery is one webhook call owed: a change's JSON for one URL.
type Delivery struct {
	ID       int64
	URL      string
	Kind     ChangeKind
	Payload  []byte
	Attempts int
	Created  time.Time
}

// DueDeliveries returns up to limit webhook deliveries due at now, oldest
// first. They stay in the outbox until Delivered or Failed says otherwise,
// so a restart loses none.
func (s *Service) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, url, kind, payload, attempts, created_at FROM outbox WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`,
		ms(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("tickets: outbox: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var kind, payload string
		var created int64
		if err := rows.Scan(&d.ID, &d.URL, &kind, &payload, &d.Attempts, &created); err != nil {
			return nil, fmt.Errorf("tickets: outbox: %w", err)
		}
		d.Kind, d.Payload, d.Created = ChangeKind(kind), []byte(payload), fromMS(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// NextDelivery is when the earliest delivery falls due (zero: none owed).
func (s *Service) NextDelivery(ctx context.Context) (time.Time, error) {
	var next *int64
	if err := s.db.QueryRowContext(ctx, `SELECT min(next_at) FROM outbox`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("tickets: outbox: %w", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	return fromMS(*next), nil
}

// Delivered removes a delivery the receiver accepted.
func (s *Service) Delivered(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("tickets: outbox %d: %w", id, err)
	}
	return nil
}

// Failed records a failed attempt and when to try again; a zero retry
// gives the delivery up (it is removed, and the caller logs it).
func (s *Service) Failed(ctx context.Context, id int64, retry time.Time, why string) error {
	if retry.IsZero() {
		return s.Delivered(ctx, id)
	}
	if len(why) > 500 {
		why = why[:500]
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`, ms(retry), why, id); err != nil {
		return fmt.Errorf("tickets: outbox %d: %w", id, err)
	}
	return nil
}
