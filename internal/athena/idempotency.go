package athena

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
)

// checkToken implements ClientRequestToken semantics for op inside a write transaction:
// the same token with the same parameters returns the id of what the first call created
// (created=true then means "nothing new to do"); the same token with other parameters is
// IDEMPOTENT_PARAMETER_MISMATCH. params must not contain the token itself.
func checkToken(tx Tx, op string, token *string, params any) (existingID, hash string, err error) {
	if token == nil {
		return "", "", nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(b)
	hash = hex.EncodeToString(sum[:])
	rec, err := tx.GetIdempotency(op, *token)
	if errors.Is(err, ErrNotFound) {
		return "", hash, nil
	}
	if err != nil {
		return "", "", err
	}
	if rec.ParamsHash != hash {
		return "", "", idempotentMismatch()
	}
	return rec.ResourceID, hash, nil
}

// rememberToken records what op created for token (no-op without a token).
func (s *Service) rememberToken(tx Tx, op string, token *string, hash, id string) error {
	if token == nil {
		return nil
	}
	return tx.PutIdempotency(&Idempotency{Op: op, Token: *token, ParamsHash: hash, ResourceID: id, Created: s.now()})
}
