package athena

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"glaux/internal/wire"
)

// What the notebook page and its Jupyter kernel channel need beyond the Athena operations:
// a presigned token resolved to its session, a fresh token, the calculation a session runs,
// and a calculation's output files, also while it runs.

// NotebookSession is a notebook session as its page sees it.
type NotebookSession struct {
	SessionID    string
	NotebookID   string
	NotebookName string
	WorkGroup    string
	State        string
	TokenExpires time.Time // of the token that opened it
}

// OpenNotebookSession checks a presigned notebook token for sessionID: its signature, its
// expiry, that it names this session, and that the session was started for a notebook.
// Refusals are ErrTokenInvalid or ErrTokenExpired.
func (s *Service) OpenNotebookSession(ctx context.Context, sessionID, token string) (*NotebookSession, error) {
	tok, err := VerifyNotebookToken(s.cfg.TokenSecret, token, s.now())
	if err != nil {
		return nil, err
	}
	if tok.SessionID != sessionID {
		return nil, ErrTokenInvalid
	}
	out := &NotebookSession{SessionID: sessionID, TokenExpires: time.Unix(tok.Expires, 0)}
	err = s.store.View(ctx, func(tx Tx) error {
		sess, err := tx.GetSession(sessionID)
		if err != nil {
			return err
		}
		nb, err := tx.GetNotebook(sess.NotebookID)
		if err != nil {
			return err
		}
		out.NotebookID, out.NotebookName, out.WorkGroup, out.State = nb.ID, nb.Name, sess.WorkGroup, sess.State
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrTokenInvalid // the session or its notebook is gone
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RefreshNotebookToken signs a new token for an active notebook session, as
// CreatePresignedNotebookUrl does.
func (s *Service) RefreshNotebookToken(ctx context.Context, sessionID string) (string, time.Time, error) {
	out, err := s.CreatePresignedNotebookUrl(ctx, &wire.CreatePresignedNotebookUrlRequest{SessionId: &sessionID})
	if err != nil {
		return "", time.Time{}, err
	}
	return *out.AuthToken, time.Unix(*out.AuthTokenExpirationTime, 0), nil
}

// RunningCalculation is the id of the calculation a live session runs now ("" when none).
func (s *Service) RunningCalculation(sessionID string) string {
	ls := s.liveSession(sessionID)
	if ls == nil {
		return ""
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.running
}

// CalculationOutput reads one of a calculation's output files (stdout.txt, stderr.txt,
// result.json): from the object store once the calculation has its results, else what the
// runner has written so far into its scratch directory (empty when nothing yet).
func (s *Service) CalculationOutput(ctx context.Context, calculationID, name string) ([]byte, error) {
	if !isResultFile(name) {
		return nil, invalid("%s is not an output of a calculation.", name)
	}
	c, err := s.getCalculation(ctx, calculationID)
	if err != nil {
		return nil, err
	}
	if c.ResultURI == "" {
		b, err := os.ReadFile(filepath.Join(s.calculationDir(c.SessionID, c.ID), name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	rc, err := s.objects.Get(ctx, c.WorkingDirectory+name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, io.LimitReader(rc, 64<<20))
	return buf.Bytes(), err
}
