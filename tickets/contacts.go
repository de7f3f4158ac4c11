package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ringdesk/ringdesk/e164"
)

// Limits on what a contact holds.
const (
	maxNameLen   = 200
	maxPhones    = 20
	maxEmails    = 20
	minDigitTerm = 3 // shortest run of digits a number is found by
)

// ContactInput is what a caller may set on a contact. Phones are parsed
// into E.164 (national numbers read in the settings' Country).
type ContactInput struct {
	Name    string   `json:"name"`
	Company string   `json:"company"`
	Address string   `json:"address"`
	Emails  []string `json:"emails"`
	Phones  []Phone  `json:"phones"`
}

// NormalizePhone returns raw in E.164, reading national numbers in the
// settings' country.
func (s *Service) NormalizePhone(raw string) (string, error) {
	n, err := e164.Normalize(raw, s.Settings().Country)
	if err != nil {
		return "", fmt.Errorf("%w: phone number %q: %w", ErrInvalid, raw, err)
	}
	return n, nil
}

func (s *Service) cleanContact(in ContactInput) (ContactInput, error) {
	out := ContactInput{
		Name:    strings.TrimSpace(in.Name),
		Company: strings.TrimSpace(in.Company),
		Address: strings.TrimSpace(in.Address),
	}
	for _, f := range []struct{ name, v string }{{"name", out.Name}, {"company", out.Company}, {"address", out.Address}} {
		if utf8.RuneCountInString(f.v) > maxNameLen {
			return out, fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, f.name, maxNameLen)
		}
		if !utf8.ValidString(f.v) {
			return out, fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, f.name)
		}
	}
	if len(in.Emails) > maxEmails || len(in.Phones) > maxPhones {
		return out, fmt.Errorf("%w: at most %d emails and %d phone numbers", ErrInvalid, maxEmails, maxPhones)
	}
	for _, e := range in.Emails {
		e = strings.TrimSpace(e)
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e {
			return out, fmt.Errorf("%w: email %q is not an address like name@example.com", ErrInvalid, e)
		}
		if !slices.Contains(out.Emails, strings.ToLower(e)) {
			out.Emails = append(out.Emails, strings.ToLower(e))
		}
	}
	for _, p := range in.Phones {
		n, err := s.NormalizePhone(p.Number)
		if err != nil {
			return out, err
		}
		if !slices.ContainsFunc(out.Phones, func(q Phone) bool { return q.Number == n }) {
			out.Phones = append(out.Phones, Phone{Number: n, Label: strings.TrimSpace(p.Label)})
		}
	}
	return out, nil
}

// CreateContact adds a contact. A contact needs a name, a company or a
// phone number; an email is optional.
func (s *Service) CreateContact(ctx context.Context, in ContactInput) (Contact, error) {
	in, err := s.cleanContact(in)
	if err != nil {
		return Contact{}, err
	}
	if in.Name == "" && in.Company == "" && len(in.Phones) == 0 && len(in.Emails) == 0 {
		return Contact{}, fmt.Errorf("%w: a contact needs a name, company, email or phone number", ErrInvalid)
	}
	var id int64
	err = s.write(ctx, func(tx *txn) error {
		id, err = tx.insertContact(in)
		return err
	})
	if err != nil {
		return Contact{}, err
	}
	return s.Contact(ctx, id)
}

func (tx *txn) insertContact(in ContactInput) (int64, error) {
	res, err := tx.exec(`INSERT INTO contacts (name, company, address, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		in.Name, in.Company, in.Address, ms(tx.now), ms(tx.now))
	if err != nil {
		return 0, fmt.Errorf("tickets: create contact: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("tickets: create contact: %w", err)
	}
	if err := tx.setContactDetails(id, in); err != nil {
		return 0, err
	}
	tx.change(Change{Kind: ContactCreated, ContactID: id})
	return id, nil
}

// setContactDetails replaces a contact's emails, phones and search words.
func (tx *txn) setContactDetails(id int64, in ContactInput) error {
	for _, q := range []string{`DELETE FROM contact_emails WHERE contact_id = ?`, `DELETE FROM contact_phones WHERE contact_id = ?`, `DELETE FROM contact_words WHERE contact_id = ?`} {
		if _, err := tx.exec(q, id); err != nil {
			return fmt.Errorf("tickets: contact %d: %w", id, err)
		}
	}
	for _, e := range in.Emails {
		if _, err := tx.exec(`INSERT INTO contact_emails (contact_id, email) VALUES (?, ?)`, id, e); err != nil {
			return fmt.Errorf("tickets: contact %d email: %w", id, err)
		}
	}
	for _, p := range in.Phones {
		if _, err := tx.exec(`INSERT INTO contact_phones (contact_id, number, label) VALUES (?, ?, ?)`, id, p.Number, p.Label); err != nil {
			return fmt.Errorf("tickets: contact %d phone: %w", id, err)
		}
	}
	for _, w := range contactWords(in) {
		if _, err := tx.exec(`INSERT OR IGNORE INTO contact_words (word, contact_id) VALUES (?, ?)`, w, id); err != nil {
			return fmt.Errorf("tickets: contact %d search words: %w", id, err)
		}
	}
	return nil
}

// contactWords are the terms a contact is found by: each word of its name,
// company, address and emails in lower case, and each run of trailing
// digits (3 or more) of each number in E.164 and without its country code,
// so that "912", "351912" and "+351 912" all find +351912345678.
func contactWords(in ContactInput) []string {
	var words []string
	add := func(w string) {
		if w != "" && !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	for _, text := range append([]string{in.Name, in.Company, in.Address}, in.Emails...) {
		for _, w := range splitWords(text) {
			add(w)
		}
	}
	for _, p := range in.Phones {
		digits := strings.TrimPrefix(p.Number, "+")
		for i := 0; i+minDigitTerm <= len(digits); i++ {
			add(digits[i:])
		}
	}
	return words
}

// splitWords lower-cases text and cuts it at anything that is not a letter
// or digit.
func splitWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// UpdateContact replaces a contact's fields.
func (s *Service) UpdateContact(ctx context.Context, id int64, in ContactInput) (Contact, error) {
	in, err := s.cleanContact(in)
	if err != nil {
		return Contact{}, err
	}
	err = s.write(ctx, func(tx *txn) error {
		res, uerr := tx.exec(`UPDATE contacts SET name = ?, company = ?, address = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Company, in.Address, ms(tx.now), id)
		if uerr != nil {
			return fmt.Errorf("tickets: update contact %d: %w", id, uerr)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("contact %d: %w", id, ErrNotFound)
		}
		return tx.setContactDetails(id, in)
	})
	if err != nil {
		return Contact{}, err
	}
	return s.Contact(ctx, id)
}

// Contact returns one contact.
func (s *Service) Contact(ctx context.Context, id int64) (Contact, error) {
	cs, err := s.loadContacts(ctx, []int64{id})
	if err != nil {
		return Contact{}, err
	}
	if len(cs) == 0 {
		return Contact{}, fmt.Errorf("contact %d: %w", id, ErrNotFound)
	}
	return cs[0], nil
}

// ContactsByPhone returns the contacts that have number (any format the
// settings' country reads), most recently created first.
func (s *Service) ContactsByPhone(ctx context.Context, number string) ([]Contact, error) {
	n, err := s.NormalizePhone(number)
	if err != nil {
		return nil, err
	}
	ids, err := queryIDs(ctx, s.db, `SELECT c.id FROM contacts c JOIN contact_phones p ON p.contact_id = c.id
		WHERE p.number = ? ORDER BY c.created_at DESC, c.id DESC`, n)
	if err != nil {
		return nil, err
	}
	return s.loadContacts(ctx, ids)
}

// SearchContacts finds contacts as the dialer does (A72): every word of
// query must start a word of the contact's name, company, address or
// email, or be digits found at the end of one of its numbers ("Mar" finds
// Margaret, Marcom and Martin Road; "912 345" or "+351 912" find
// +351912345678). Results come in the order of the words matched, at most
// limit (up to 200; 0 or less is 50).
func (s *Service) SearchContacts(ctx context.Context, query string, limit int) ([]Contact, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	terms := searchTerms(query)
	if len(terms) == 0 {
		ids, err := queryIDs(ctx, s.db, `SELECT id FROM contacts ORDER BY name, id LIMIT ?`, limit)
		if err != nil {
			return nil, err
		}
		return s.loadContacts(ctx, ids)
	}
	// The longest term drives the query, on the word index, in word order:
	// "mar" lists the Marcoms, then the Margarets, then Martin Road; the
	// other terms filter what it finds. The first limit matches end it.
	slices.SortStableFunc(terms, func(a, b string) int { return len(b) - len(a) })
	var q strings.Builder
	args := make([]any, 0, 2*len(terms)+1)
	q.WriteString(`SELECT w.contact_id FROM contact_words w WHERE w.word >= ? AND w.word < ?`)
	for range terms[1:] {
		// word >= t AND word < t+U+10FFFF: the words t starts
		q.WriteString(` AND EXISTS (SELECT 1 FROM contact_words o WHERE o.contact_id = w.contact_id AND o.word >= ? AND o.word < ?)`)
	}
	for _, t := range terms {
		args = append(args, t, t+string(utf8.MaxRune))
	}
	q.WriteString(` ORDER BY w.word, w.contact_id`)
	ids, err := firstDistinct(ctx, s.db, limit, q.String(), args...)
	if err != nil {
		return nil, err
	}
	return s.loadContacts(ctx, ids)
}

// searchTerms splits a query into words; digits and spaces between digits
// ("+351 912 345") join into one number term.
func searchTerms(query string) []string {
	var terms []string
	var digits strings.Builder
	flush := func() {
		if digits.Len() > 0 {
			terms = append(terms, digits.String())
			digits.Reset()
		}
	}
	for _, w := range strings.Fields(query) {
		plain := strings.TrimLeft(w, "+(")
		plain = strings.NewReplacer("-", "", "(", "", ")", "", ".", "").Replace(plain)
		if plain != "" && strings.Trim(plain, "0123456789") == "" {
			digits.WriteString(plain)
			continue
		}
		flush()
		terms = append(terms, splitWords(w)...)
	}
	flush()
	if len(terms) > 8 {
		terms = terms[:8]
	}
	return terms
}

// firstDistinct reads the query's ids in order and stops at the limit-th
// distinct one, so that a broad search ends as soon as it has enough.
func firstDistinct(ctx context.Context, db querier, limit int, query string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	defer rows.Close()
	seen := make(map[int64]bool, limit)
	var ids []int64
	for len(ids) < limit && rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("tickets: %w", err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	return ids, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryIDs(ctx context.Context, db querier, query string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("tickets: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	return ids, nil
}

// loadContacts reads the contacts with ids, in the order of ids.
func (s *Service) loadContacts(ctx context.Context, ids []int64) ([]Contact, error) {
	out := make([]Contact, 0, len(ids))
	for _, id := range ids {
		c := Contact{ID: id, Emails: []string{}, Phones: []Phone{}}
		var created, updated int64
		err := s.db.QueryRowContext(ctx, `SELECT name, company, address, created_at, updated_at FROM contacts WHERE id = ?`, id).
			Scan(&c.Name, &c.Company, &c.Address, &created, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tickets: contact %d: %w", id, err)
		}
		c.Created, c.Updated = fromMS(created), fromMS(updated)
		if c.Emails, err = queryStrings(ctx, s.db, `SELECT email FROM contact_emails WHERE contact_id = ? ORDER BY rowid`, id); err != nil {
			return nil, fmt.Errorf("tickets: contact %d: %w", id, err)
		}
		if c.Phones, err = contactPhones(ctx, s.db, id); err != nil {
			return nil, fmt.Errorf("tickets: contact %d: %w", id, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func queryStrings(ctx context.Context, db querier, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func contactPhones(ctx context.Context, db querier, id int64) ([]Phone, error) {
	rows, err := db.QueryContext(ctx, `SELECT number, label FROM contact_phones WHERE contact_id = ? ORDER BY rowid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Phone{}
	for rows.Next() {
		var p Phone
		if err := rows.Scan(&p.Number, &p.Label); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
