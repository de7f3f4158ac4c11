package web

import (
	"net/http"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

// Tasks: an agent sees and changes only their own; admins everyone's.

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	done, err := queryBool(q, "done")
	if err != nil {
		return err
	}
	agent := q.Get("agent")
	switch {
	case agent == "me":
		agent = p.ID
	case p.Admin:
	case agent == "" || agent == p.ID:
		agent = p.ID
	default:
		return errForbidden("you may list only your own tasks")
	}
	ts, err := s.tickets.Tasks(r.Context(), agent, done)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ts)
}

// taskInput is a new task; admins may give it to another agent.
type taskInput struct {
	tickets.TaskInput
	Agent string `json:"agent"`
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in taskInput
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	ctx := r.Context()
	switch {
	case in.Agent == "" || in.Agent == p.ID:
		in.Agent = p.ID
	case !p.Admin:
		return errForbidden("you may create tasks only for yourself")
	default:
		if _, ok := s.user(in.Agent); !ok {
			return errorf(http.StatusBadRequest, "agent %q is not a user", in.Agent)
		}
	}
	if in.TicketID != 0 {
		if _, err := s.referencedTicket(ctx, p, in.TicketID); err != nil {
			return err
		}
	}
	t, err := s.tickets.CreateTask(ctx, in.Agent, in.TaskInput)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

// taskPatch changes some of a task's fields; an absent (or null) field
// stays as it is.
type taskPatch struct {
	Title    *string    `json:"title"`
	Due      *time.Time `json:"due"`
	TicketID *int64     `json:"ticket_id"`
	Done     *bool      `json:"done"`
}

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	t, err := s.tickets.Task(ctx, id)
	if err != nil {
		return err
	}
	if !p.Admin && t.Agent != p.ID {
		return errForbidden("task %d is another agent's", id)
	}
	var u taskPatch
	if err = decodeJSON(w, r, s.cfg.MaxBody, &u); err != nil {
		return err
	}
	in := tickets.TaskInput{Title: t.Title, Due: t.Due, TicketID: t.TicketID, Done: t.Done}
	if u.Title != nil {
		in.Title = *u.Title
	}
	if u.Due != nil {
		in.Due = *u.Due
	}
	if u.Done != nil {
		in.Done = *u.Done
	}
	if u.TicketID != nil && *u.TicketID != t.TicketID {
		if *u.TicketID != 0 {
			if _, err = s.referencedTicket(ctx, p, *u.TicketID); err != nil {
				return err
			}
		}
		in.TicketID = *u.TicketID
	}
	t, err = s.tickets.UpdateTask(ctx, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}
