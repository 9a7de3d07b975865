package athena

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"glaux/internal/wire"
)

// maxNotebookBytes is Athena's notebook size limit (10 MiB), for payloads and imported objects.
const maxNotebookBytes = 10 << 20

// emptyNotebook is what CreateNotebook stores: a valid nbformat 4 document with no cells.
const emptyNotebook = `{"cells":[],"metadata":{"kernelspec":{"display_name":"PySpark","language":"python","name":"pyspark"},"language_info":{"name":"python"}},"nbformat":4,"nbformat_minor":5}`

// Operation names under which ClientRequestTokens are remembered.
const (
	opCreateNotebook         = "CreateNotebook"
	opImportNotebook         = "ImportNotebook"
	opUpdateNotebook         = "UpdateNotebook"
	opUpdateNotebookMetadata = "UpdateNotebookMetadata"
)

// notebookWorkGroup loads the workgroup a notebook lives in: it must be a Spark workgroup and,
// for writes, enabled.
func notebookWorkGroup(tx Tx, name string, write bool) (*WorkGroup, error) {
	wg, err := loadWorkGroup(tx, name)
	if err != nil {
		return nil, err
	}
	if !wg.isSpark() {
		return nil, invalid("WorkGroup %s EngineVersion is not Spark: notebooks need a workgroup whose engine is %s.", name, EngineVersionSpark3)
	}
	if wg.isConnect() {
		return nil, invalid("Notebooks are not supported on %s (WorkGroup %s): its sessions run code over Spark Connect (GetSessionEndpoint). Use a workgroup whose engine is %s for notebooks.", EngineVersionSpark35, name, EngineVersionSpark3)
	}
	if write && wg.State != wire.WorkGroupStateEnabled {
		return nil, invalidState("WorkGroup %s is %s: enable it with UpdateWorkGroup to change its notebooks.", name, wg.State)
	}
	return wg, nil
}

// loadNotebook reads a notebook; a missing one is InvalidRequestException (notebook
// operations do not list ResourceNotFoundException).
func loadNotebook(tx Tx, id string) (*Notebook, error) {
	nb, err := tx.GetNotebook(id)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid("Notebook %s is not found.", id)
	}
	if err != nil {
		return nil, err
	}
	return nb, nil
}

// checkNotebookNameFree refuses a name another notebook of the workgroup has.
func checkNotebookNameFree(tx Tx, workGroup, name string) error {
	_, err := tx.GetNotebookByName(workGroup, name)
	if err == nil {
		return invalid("A notebook with the name %s already exists in workgroup %s.", name, workGroup)
	}
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// activeNotebookSession returns one session of the notebook that is still active, or nil.
func activeNotebookSession(tx Tx, notebookID string) (*Session, error) {
	ss, err := tx.ListSessions(SessionQuery{NotebookID: notebookID, States: activeSessionStates, Limit: 1})
	if err != nil || len(ss) == 0 {
		return nil, err
	}
	return ss[0], nil
}

// checkNotebookPayload requires an ipynb document: a JSON object with nbformat 4 and a list of
// cell objects. source names where the payload came from, for the message.
func checkNotebookPayload(source, payload string) error {
	fail := func(why string) error {
		return invalid("The notebook %s is not a valid ipynb notebook: %s.", source, why)
	}
	if len(payload) > maxNotebookBytes {
		return fail(fmt.Sprintf("it is %d bytes, more than the 10 MiB (%d bytes) a notebook may have", len(payload), maxNotebookBytes))
	}
	if !utf8.ValidString(payload) {
		return fail("it is not UTF-8 text")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &doc); err != nil || doc == nil {
		return fail("it is not a JSON object")
	}
	var format any
	dec := json.NewDecoder(bytes.NewReader(doc["nbformat"]))
	dec.UseNumber()
	if doc["nbformat"] == nil || dec.Decode(&format) != nil || format != json.Number("4") {
		return fail(`its "nbformat" must be the number 4`)
	}
	var cells []json.RawMessage
	if doc["cells"] == nil || json.Unmarshal(doc["cells"], &cells) != nil || cells == nil {
		return fail(`it has no "cells" list`)
	}
	for i, c := range cells {
		var cell map[string]json.RawMessage
		if json.Unmarshal(c, &cell) != nil || cell == nil {
			return fail(fmt.Sprintf("cell %d is not a JSON object", i))
		}
	}
	return nil
}

// readNotebookObject reads an ipynb document from the object store.
func (s *Service) readNotebookObject(ctx context.Context, uri string) (string, error) {
	if rest, ok := strings.CutPrefix(uri, "S3://"); ok {
		uri = "s3://" + rest
	}
	if !strings.HasPrefix(uri, "s3://") {
		return "", invalid("NotebookS3LocationUri %s cannot be read: only s3:// URIs are supported.", uri)
	}
	// Whatever keeps the object from being read (it is missing, the URI names no valid
	// location, access fails) is a problem with the client's input, as in Athena.
	rc, err := s.objects.Get(ctx, uri)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotFound) {
		return "", invalid("NotebookS3LocationUri %s does not exist.", uri)
	}
	if err != nil {
		s.log.Warn("import notebook: cannot read object", "uri", uri, "err", err)
		return "", invalid("NotebookS3LocationUri %s cannot be read: %v", uri, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxNotebookBytes+1))
	if err != nil {
		s.log.Warn("import notebook: cannot read object", "uri", uri, "err", err)
		return "", invalid("NotebookS3LocationUri %s cannot be read: %v", uri, err)
	}
	if len(b) > maxNotebookBytes {
		return "", invalid("The notebook at NotebookS3LocationUri %s is larger than 10 MiB (%d bytes), the most a notebook may have.", uri, maxNotebookBytes)
	}
	payload := string(b)
	if err := checkNotebookPayload("at NotebookS3LocationUri "+uri, payload); err != nil {
		return "", err
	}
	return payload, nil
}

// newNotebook stores a new notebook in a write transaction, after the idempotency check.
func (s *Service) newNotebook(tx Tx, op string, token *string, params any, workGroup, name, payload string) (string, error) {
	existing, hash, err := checkToken(tx, op, token, params)
	if err != nil || existing != "" {
		return existing, err
	}
	if _, err := notebookWorkGroup(tx, workGroup, true); err != nil {
		return "", err
	}
	if err := checkNotebookNameFree(tx, workGroup, name); err != nil {
		return "", err
	}
	now := s.now()
	nb := &Notebook{
		ID: s.newID(), WorkGroup: workGroup, Name: name, Type: wire.NotebookTypeIpynb,
		CreationTime: now, LastModifiedTime: now, Payload: payload,
	}
	if err := tx.PutNotebook(nb); err != nil {
		return "", err
	}
	return nb.ID, s.rememberToken(tx, op, token, hash, nb.ID)
}

// CreateNotebook creates an empty notebook in a Spark workgroup.
func (s *Service) CreateNotebook(ctx context.Context, in *wire.CreateNotebookInput) (*wire.CreateNotebookOutput, error) {
	params := *in
	params.ClientRequestToken = nil
	var id string
	err := s.store.Update(ctx, func(tx Tx) (err error) {
		id, err = s.newNotebook(tx, opCreateNotebook, in.ClientRequestToken, params, valOf(in.WorkGroup), valOf(in.Name), emptyNotebook)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &wire.CreateNotebookOutput{NotebookId: refOf(id)}, nil
}

// ImportNotebook creates a notebook from an ipynb payload or an object in the object store.
func (s *Service) ImportNotebook(ctx context.Context, in *wire.ImportNotebookInput) (*wire.ImportNotebookOutput, error) {
	if (in.Payload == nil) == (in.NotebookS3LocationUri == nil) {
		return nil, invalid("Exactly one of Payload and NotebookS3LocationUri must be given to ImportNotebook.")
	}
	if t := valOf(in.Type); t != wire.NotebookTypeIpynb {
		return nil, invalid("Type %q is not supported: notebooks are of Type %s.", t, wire.NotebookTypeIpynb)
	}
	params := *in
	params.ClientRequestToken = nil
	var payload string
	if in.Payload != nil {
		payload = *in.Payload
		if err := checkNotebookPayload("payload", payload); err != nil {
			return nil, err
		}
	} else {
		// A retry of an import that already happened answers like the first call, without
		// reading the object again (it may be gone by now).
		var id string
		err := s.store.View(ctx, func(tx Tx) (err error) {
			id, _, err = checkToken(tx, opImportNotebook, in.ClientRequestToken, params)
			return err
		})
		if err != nil {
			return nil, err
		}
		if id != "" {
			return &wire.ImportNotebookOutput{NotebookId: refOf(id)}, nil
		}
		if payload, err = s.readNotebookObject(ctx, *in.NotebookS3LocationUri); err != nil {
			return nil, err
		}
	}
	var id string
	err := s.store.Update(ctx, func(tx Tx) (err error) {
		id, err = s.newNotebook(tx, opImportNotebook, in.ClientRequestToken, params, valOf(in.WorkGroup), valOf(in.Name), payload)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &wire.ImportNotebookOutput{NotebookId: refOf(id)}, nil
}

// ExportNotebook returns a notebook's metadata and its ipynb text.
func (s *Service) ExportNotebook(ctx context.Context, in *wire.ExportNotebookInput) (*wire.ExportNotebookOutput, error) {
	var out *wire.ExportNotebookOutput
	err := s.store.View(ctx, func(tx Tx) error {
		nb, err := loadNotebook(tx, valOf(in.NotebookId))
		if err != nil {
			return err
		}
		out = &wire.ExportNotebookOutput{NotebookMetadata: notebookMetadata(nb), Payload: refOf(nb.Payload)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateNotebook replaces a notebook's content. While the notebook has an active session the
// caller must name it (SessionId), as in Athena.
func (s *Service) UpdateNotebook(ctx context.Context, in *wire.UpdateNotebookInput) (*wire.UpdateNotebookOutput, error) {
	if t := valOf(in.Type); in.Type != nil && t != wire.NotebookTypeIpynb {
		return nil, invalid("Type %q is not supported: notebooks are of Type %s.", t, wire.NotebookTypeIpynb)
	}
	if in.Payload == nil {
		return nil, invalid("Payload is required: UpdateNotebook replaces the notebook's content.")
	}
	if err := checkNotebookPayload("payload", *in.Payload); err != nil {
		return nil, err
	}
	params := *in
	params.ClientRequestToken = nil
	err := s.store.Update(ctx, func(tx Tx) error {
		existing, hash, err := checkToken(tx, opUpdateNotebook, in.ClientRequestToken, params)
		if err != nil || existing != "" {
			return err
		}
		nb, err := loadNotebook(tx, valOf(in.NotebookId))
		if err != nil {
			return err
		}
		if _, err := notebookWorkGroup(tx, nb.WorkGroup, true); err != nil {
			return err
		}
		if in.SessionId != nil {
			sess, err := tx.GetSession(*in.SessionId)
			if errors.Is(err, ErrNotFound) {
				return invalid("Session %s is not found.", *in.SessionId)
			}
			if err != nil {
				return err
			}
			if sess.NotebookID != nb.ID {
				return invalid("Session %s is not a session of notebook %s: give SessionId of one of the notebook's sessions.", sess.ID, nb.ID)
			}
		} else {
			active, err := activeNotebookSession(tx, nb.ID)
			if err != nil {
				return err
			}
			if active != nil {
				return invalid("SessionId is required: notebook %s has an active session %s.", nb.ID, active.ID)
			}
		}
		nb.Payload = *in.Payload
		nb.LastModifiedTime = s.now()
		if err := tx.PutNotebook(nb); err != nil {
			return err
		}
		return s.rememberToken(tx, opUpdateNotebook, in.ClientRequestToken, hash, nb.ID)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateNotebookOutput{}, nil
}

// UpdateNotebookMetadata renames a notebook (names are unique within a workgroup). A notebook
// with an active session cannot be renamed.
func (s *Service) UpdateNotebookMetadata(ctx context.Context, in *wire.UpdateNotebookMetadataInput) (*wire.UpdateNotebookMetadataOutput, error) {
	params := *in
	params.ClientRequestToken = nil
	name := valOf(in.Name)
	err := s.store.Update(ctx, func(tx Tx) error {
		existing, hash, err := checkToken(tx, opUpdateNotebookMetadata, in.ClientRequestToken, params)
		if err != nil || existing != "" {
			return err
		}
		nb, err := loadNotebook(tx, valOf(in.NotebookId))
		if err != nil {
			return err
		}
		if _, err := notebookWorkGroup(tx, nb.WorkGroup, true); err != nil {
			return err
		}
		if nb.Name != name {
			if err := checkNotebookNameFree(tx, nb.WorkGroup, name); err != nil {
				return err
			}
			active, err := activeNotebookSession(tx, nb.ID)
			if err != nil {
				return err
			}
			if active != nil {
				return invalidState("Notebook %s has an active session %s (%s): terminate it before renaming the notebook.", nb.ID, active.ID, active.State)
			}
			nb.Name = name
			nb.LastModifiedTime = s.now()
			if err := tx.PutNotebook(nb); err != nil {
				return err
			}
		}
		return s.rememberToken(tx, opUpdateNotebookMetadata, in.ClientRequestToken, hash, nb.ID)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateNotebookMetadataOutput{}, nil
}

// GetNotebookMetadata returns a notebook's metadata.
func (s *Service) GetNotebookMetadata(ctx context.Context, in *wire.GetNotebookMetadataInput) (*wire.GetNotebookMetadataOutput, error) {
	var out *wire.GetNotebookMetadataOutput
	err := s.store.View(ctx, func(tx Tx) error {
		nb, err := loadNotebook(tx, valOf(in.NotebookId))
		if err != nil {
			return err
		}
		out = &wire.GetNotebookMetadataOutput{NotebookMetadata: notebookMetadata(nb)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListNotebookMetadata lists a Spark workgroup's notebooks by name, optionally those whose name
// contains Filters.Name.
func (s *Service) ListNotebookMetadata(ctx context.Context, in *wire.ListNotebookMetadataInput) (*wire.ListNotebookMetadataOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults, 50)
	var filter string
	if in.Filters != nil {
		filter = valOf(in.Filters.Name)
	}
	out := &wire.ListNotebookMetadataOutput{NotebookMetadataList: []wire.NotebookMetadata{}}
	err = s.store.View(ctx, func(tx Tx) error {
		wg := valOf(in.WorkGroup)
		if _, err := notebookWorkGroup(tx, wg, false); err != nil {
			return err
		}
		nbs, err := tx.ListNotebooks(wg, filter, after, limit+1)
		if err != nil {
			return err
		}
		if len(nbs) > limit {
			nbs = nbs[:limit]
			last := nbs[limit-1]
			out.NextToken = encodeToken(Cursor{Key: last.Name, ID: last.ID})
		}
		for _, nb := range nbs {
			out.NotebookMetadataList = append(out.NotebookMetadataList, *notebookMetadata(nb))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteNotebook deletes a notebook. A notebook with an active session cannot be deleted.
func (s *Service) DeleteNotebook(ctx context.Context, in *wire.DeleteNotebookInput) (*wire.DeleteNotebookOutput, error) {
	err := s.store.Update(ctx, func(tx Tx) error {
		nb, err := loadNotebook(tx, valOf(in.NotebookId))
		if err != nil {
			return err
		}
		active, err := activeNotebookSession(tx, nb.ID)
		if err != nil {
			return err
		}
		if active != nil {
			return invalidState("Notebook %s has an active session %s (%s): terminate it before deleting the notebook.", nb.ID, active.ID, active.State)
		}
		return tx.DeleteNotebook(nb.ID)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteNotebookOutput{}, nil
}

func notebookMetadata(nb *Notebook) *wire.NotebookMetadata {
	typ := nb.Type
	if typ == "" {
		typ = wire.NotebookTypeIpynb
	}
	return &wire.NotebookMetadata{
		NotebookId:       refOf(nb.ID),
		Name:             refOf(nb.Name),
		WorkGroup:        refOf(nb.WorkGroup),
		Type:             refOf(typ),
		CreationTime:     wire.NewTime(nb.CreationTime),
		LastModifiedTime: wire.NewTime(nb.LastModifiedTime),
	}
}
