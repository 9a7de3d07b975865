package athena

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"glaux/internal/wire"
)

// NotebookTokenTTL is how long a presigned notebook URL's token is valid.
const NotebookTokenTTL = 10 * time.Minute

// NotebookToken is what a presigned notebook token carries: the session it opens and when
// it stops being valid.
type NotebookToken struct {
	SessionID string `json:"s"`
	Expires   int64  `json:"e"` // epoch seconds
}

// SignNotebookToken makes a token: base64url(payload) "." base64url(HMAC-SHA256(payload)).
func SignNotebookToken(secret []byte, tok NotebookToken) string {
	payload, _ := json.Marshal(tok)
	p := base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

var tokenEncoding = base64.RawURLEncoding.Strict()

// Token refusals.
var (
	ErrTokenInvalid = errors.New("the notebook token is not valid")
	ErrTokenExpired = errors.New("the notebook token has expired")
)

// VerifyNotebookToken checks a token's signature and expiry at now.
func VerifyNotebookToken(secret []byte, token string, now time.Time) (NotebookToken, error) {
	var tok NotebookToken
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 || strings.ContainsAny(token, "\r\n") {
		return tok, ErrTokenInvalid
	}
	// Strict: one token has exactly one encoding (no padding bits, no line breaks).
	got, err := tokenEncoding.DecodeString(sig)
	if err != nil {
		return tok, ErrTokenInvalid
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(p))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return tok, ErrTokenInvalid
	}
	payload, err := tokenEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &tok) != nil || tok.SessionID == "" {
		return NotebookToken{}, ErrTokenInvalid
	}
	if now.Unix() >= tok.Expires {
		return tok, ErrTokenExpired
	}
	return tok, nil
}

// CreatePresignedNotebookUrl returns a link to the notebook page of an active notebook
// session, with a signed token that expires in NotebookTokenTTL. AuthTokenExpirationTime is
// in epoch seconds.
func (s *Service) CreatePresignedNotebookUrl(ctx context.Context, in *wire.CreatePresignedNotebookUrlRequest) (*wire.CreatePresignedNotebookUrlResponse, error) {
	sess, err := s.sessionOrNotFound(ctx, *in.SessionId)
	if err != nil {
		return nil, err
	}
	if sess.NotebookID == "" {
		return nil, invalid("Session %s was not started for a notebook: start it with NotebookVersion and EngineConfiguration.AdditionalConfigs.NotebookId.", sess.ID)
	}
	if !isActiveSession(sess.State) {
		return nil, invalidState("Session %s is in the %s state; a notebook URL needs an active session.", sess.ID, sess.State)
	}
	exp := s.now().Add(NotebookTokenTTL).Unix()
	token := SignNotebookToken(s.cfg.TokenSecret, NotebookToken{SessionID: sess.ID, Expires: exp})
	u := strings.TrimSuffix(s.cfg.PublicURL, "/") + "/notebook/" + url.PathEscape(sess.ID) + "?token=" + url.QueryEscape(token)
	return &wire.CreatePresignedNotebookUrlResponse{NotebookUrl: &u, AuthToken: &token, AuthTokenExpirationTime: &exp}, nil
}
