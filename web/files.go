package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/ringdesk/ringdesk/tickets"
)

// visibleFile returns file id when p may see it: a file follows its
// ticket's visibility, a file without a ticket its call's.
func (s *Server) visibleFile(ctx context.Context, p *principal, id int64) (tickets.File, error) {
	f, err := s.tickets.File(ctx, id)
	if err != nil {
		return f, err
	}
	switch {
	case p.Admin:
	case f.TicketID != 0:
		if _, err := s.visibleTicket(ctx, p, f.TicketID); err != nil {
			return f, err
		}
	case f.CallID != "":
		if _, err := s.visibleCall(ctx, p, f.CallID); err != nil {
			return f, err
		}
	default:
		return f, errForbidden("file %d belongs to no ticket: only admins may see it", id)
	}
	return f, nil
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.visibleFile(r.Context(), p, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

// fileAudio serves a recording's or voicemail's WAV, with Range support.
// The file must lie under Config.DataDir once symlinks are resolved (and
// is opened through an os.Root there, so a symlink swapped in meanwhile
// cannot lead out), and be a regular file.
func (s *Server) fileAudio(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.visibleFile(r.Context(), p, id)
	if err != nil {
		return err
	}
	if f.Deleted {
		return errorf(http.StatusGone, "the audio of file %d was deleted", id)
	}
	dir, rel, err := s.dataPath(f.Path)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("web: data directory: %w", err)
	}
	defer func() { _ = root.Close() }()
	fh, err := root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "the audio file is missing")
	}
	if err != nil {
		s.log.Warn("web: refused to open an audio file", "file_id", id, "path", f.Path, "err", err)
		return errForbidden("the audio file cannot be served from the data directory")
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("web: file %d: %w", id, err)
	}
	if !st.Mode().IsRegular() {
		s.log.Warn("web: refused to serve a file that is not a regular file", "file_id", id, "path", f.Path, "mode", st.Mode().String())
		return errForbidden("the audio file is not a regular file")
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%d.wav"`, f.Kind, f.ID))
	http.ServeContent(w, r, "", st.ModTime(), fh)
	return nil
}

// deleteFile deletes a file's audio: admins, or the assignee of the file's
// ticket. The metadata stays, marked deleted.
func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	f, err := s.visibleFile(ctx, p, id)
	if err != nil {
		return err
	}
	if !p.Admin {
		if f.TicketID == 0 {
			return errForbidden("only an admin may delete file %d: it belongs to no ticket", id)
		}
		var t tickets.Ticket
		t, err = s.tickets.TicketOnly(ctx, f.TicketID)
		if err != nil {
			return err
		}
		if t.Assignee != p.ID {
			return errForbidden("only an admin or the assignee of the file's ticket may delete file %d", id)
		}
	}
	// tickets.DeleteFile removes the row's path: never one outside the
	// data directory (a missing file is fine: the row is marked deleted).
	if !f.Deleted {
		if _, _, err = s.dataPath(f.Path); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusNotFound {
				return err
			}
		}
	}
	if err = s.tickets.DeleteFile(ctx, p.ID, id); err != nil {
		return err
	}
	f, err = s.tickets.File(ctx, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}
