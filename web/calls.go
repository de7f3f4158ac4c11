package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/ringdesk/ringdesk/tickets"
)

// callAccess decides which calls an agent may see: calls they answered,
// placed or had a leg on, and calls whose ticket they may see. It caches
// ticket visibility for one request.
type callAccess struct {
	s       *Server
	p       *principal
	tickets map[int64]bool
}

func (s *Server) callAccess(p *principal) *callAccess {
	return &callAccess{s: s, p: p, tickets: map[int64]bool{}}
}

// allows reports whether the caller may see c. c's legs are read when the
// record lacks them (the list's records do).
func (a *callAccess) allows(ctx context.Context, c tickets.CallRecord) (bool, error) {
	if a.p.Admin || c.Agent == a.p.ID {
		return true, nil
	}
	if c.TicketID != 0 {
		ok, seen := a.tickets[c.TicketID]
		if !seen {
			t, err := a.s.tickets.TicketOnly(ctx, c.TicketID)
			switch {
			case errors.Is(err, tickets.ErrNotFound):
			case err != nil:
				return false, err
			default:
				ok = a.p.visibility().Allows(t)
			}
			a.tickets[c.TicketID] = ok
		}
		if ok {
			return true, nil
		}
	}
	if c.Legs == nil {
		full, err := a.s.tickets.Call(ctx, c.ID)
		if err != nil {
			return false, err
		}
		c.Legs = full.Legs
	}
	for _, l := range c.Legs {
		if l.Agent == a.p.ID {
			return true, nil
		}
	}
	return false, nil
}

// visibleCall returns call id with its legs and events when p may see it.
func (s *Server) visibleCall(ctx context.Context, p *principal, id string) (tickets.CallRecord, error) {
	c, err := s.tickets.Call(ctx, id)
	if err != nil {
		return c, err
	}
	ok, err := s.callAccess(p).allows(ctx, c)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, errForbidden("you were not on call %s and may not see its ticket", id)
	}
	return c, nil
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := callFilter(r.URL.Query(), p) // agents: only the calls they may see
	if err != nil {
		return err
	}
	cs, err := s.tickets.Calls(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cs)
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.visibleCall(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// setSummary records the caller's summary of a call.
func (s *Server) setSummary(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.visibleCall(ctx, p, id); err != nil {
		return err
	}
	var in tickets.SummaryInput
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	if in.Task != nil && in.Task.TicketID != 0 {
		if _, err := s.referencedTicket(ctx, p, in.Task.TicketID); err != nil {
			return err
		}
	}
	sum, err := s.tickets.SetSummary(ctx, p.ID, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sum)
}

// getSummaries lists every agent's summary of a call.
func (s *Server) getSummaries(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.visibleCall(ctx, p, id); err != nil {
		return err
	}
	sums, err := s.tickets.Summaries(ctx, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sums)
}

func (s *Server) chooseTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.visibleCall(ctx, p, id); err != nil {
		return err
	}
	var ch tickets.TicketChoice
	if err := decodeJSON(w, r, s.cfg.MaxBody, &ch); err != nil {
		return err
	}
	if ch.TicketID != 0 {
		if _, err := s.referencedTicket(ctx, p, ch.TicketID); err != nil {
			return err
		}
	}
	if err := s.tickets.ChooseTicket(ctx, p.ID, id, ch); err != nil {
		return err
	}
	c, err := s.tickets.Call(ctx, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

type contactChoice struct {
	ContactID int64 `json:"contact_id"`
}

func (s *Server) pickContact(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.visibleCall(ctx, p, id); err != nil {
		return err
	}
	var in contactChoice
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	if in.ContactID <= 0 {
		return errorf(http.StatusBadRequest, "contact_id must be the id of one of the caller's contacts")
	}
	if err := s.tickets.PickContact(ctx, id, in.ContactID); err != nil {
		return err
	}
	c, err := s.tickets.Call(ctx, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}
