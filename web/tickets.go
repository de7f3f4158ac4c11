package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/ringdesk/ringdesk/tickets"
)

// visibleTicket returns ticket id (without its timeline) when p may see
// it; another department's ticket is 403 (the API does not hide that a
// ticket id exists: ids are sequential anyway).
func (s *Server) visibleTicket(ctx context.Context, p *principal, id int64) (tickets.Ticket, error) {
	t, err := s.tickets.TicketOnly(ctx, id)
	if err != nil {
		return t, err
	}
	return t, allowed(p, t)
}

func allowed(p *principal, t tickets.Ticket) error {
	if !p.visibility().Allows(t) {
		return errForbidden("ticket %d belongs to a department you are not in", t.ID)
	}
	return nil
}

// referencedTicket is visibleTicket for a ticket named in a request body:
// one that does not exist is the request's fault (400).
func (s *Server) referencedTicket(ctx context.Context, p *principal, id int64) (tickets.Ticket, error) {
	v, err := s.visibleTicket(ctx, p, id)
	if errors.Is(err, tickets.ErrNotFound) {
		return v, errorf(http.StatusBadRequest, "ticket %d does not exist", id)
	}
	return v, err
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := ticketFilter(r.URL.Query(), p)
	if err != nil {
		return err
	}
	ts, err := s.tickets.Tickets(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ts)
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in tickets.TicketInput
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	if !p.visibility().Allows(tickets.Ticket{Department: in.Department, Assignee: in.Assignee}) {
		return errForbidden("you may create tickets only in your departments, or assigned to yourself")
	}
	v, err := s.tickets.CreateTicket(r.Context(), p.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.tickets.Ticket(r.Context(), id)
	if err != nil {
		return err
	}
	if err := allowed(p, v.Ticket); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err = s.visibleTicket(r.Context(), p, id); err != nil {
		return err
	}
	var u tickets.TicketUpdate
	if err = decodeJSON(w, r, s.cfg.MaxBody, &u); err != nil {
		return err
	}
	v, err := s.tickets.UpdateTicket(r.Context(), p.ID, id, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

type commentInput struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err = s.visibleTicket(r.Context(), p, id); err != nil {
		return err
	}
	var in commentInput
	if err = decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	e, err := s.tickets.AddComment(r.Context(), p.ID, id, in.Body, in.Public)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, e)
}

type mergeInput struct {
	Into int64 `json:"into"`
}

func (s *Server) mergeTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err = s.visibleTicket(ctx, p, id); err != nil {
		return err
	}
	var in mergeInput
	if err = decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	if in.Into <= 0 {
		return errorf(http.StatusBadRequest, "into must be the id of the ticket to merge into")
	}
	if _, err = s.referencedTicket(ctx, p, in.Into); err != nil {
		return err
	}
	v, err := s.tickets.Merge(ctx, p.ID, id, in.Into)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) ticketFiles(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err = s.visibleTicket(r.Context(), p, id); err != nil {
		return err
	}
	fs, err := s.tickets.Files(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, fs)
}

// Contacts: every agent sees every contact.

func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := r.URL.Query()
	limit, err := queryLimit(q, defaultContactList, maxContactLimit)
	if err != nil {
		return err
	}
	cs, err := s.tickets.SearchContacts(r.Context(), q.Get("q"), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cs)
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var in tickets.ContactInput
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	c, err := s.tickets.CreateContact(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.tickets.Contact(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in tickets.ContactInput
	if err = decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	c, err := s.tickets.UpdateContact(r.Context(), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) contactTickets(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err = s.tickets.Contact(r.Context(), id); err != nil {
		return err
	}
	q := r.URL.Query()
	f := tickets.Filter{ContactID: id, Visible: p.visibility()}
	if f.Limit, err = queryLimit(q, defaultLimit, maxLimit); err != nil {
		return err
	}
	if f.Before, err = queryInt(q, "before"); err != nil {
		return err
	}
	ts, err := s.tickets.Tickets(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ts)
}
