package athena

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzSecret signs the seed tokens; the seed corpus under testdata/fuzz holds tokens made
// with it (and mutations of them).
var fuzzSecret = []byte("glaux-fuzz-secret-0123456789abcdef")

// FuzzVerifyNotebookToken: whatever the token and the clock, VerifyNotebookToken does not
// panic, refuses with one of its two errors only, and accepts only a token whose MAC is the
// secret's and whose expiry is after now, carrying a session id. A token it accepts stays
// acceptable after re-signing its payload, and no longer once its signature changes.
func FuzzVerifyNotebookToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	valid := SignNotebookToken(fuzzSecret, NotebookToken{SessionID: "11111111-2222-4333-8444-555555555555", Expires: now.Unix() + 600})
	f.Add(valid, now.Unix())
	f.Add(valid, now.Unix()+600) // the instant it expires
	f.Add(valid, now.Unix()+599)
	f.Add(valid[:len(valid)-1], now.Unix())
	f.Add(strings.Replace(valid, ".", "..", 1), now.Unix())
	f.Add(SignNotebookToken(fuzzSecret, NotebookToken{Expires: now.Unix() + 600}), now.Unix()) // no session
	f.Add(SignNotebookToken([]byte("another secret"), NotebookToken{SessionID: "s", Expires: now.Unix() + 600}), now.Unix())
	f.Add(signRaw(`{"s":"s","e":1e400}`), now.Unix())
	f.Add(signRaw(`{"s":"s","e":"soon"}`), now.Unix())
	f.Add(signRaw(`[]`), now.Unix())
	f.Add(signRaw(`{"s":"s","e":-9223372036854775808}`), int64(-9223372036854775808))
	f.Add("", int64(0))
	f.Add(".", int64(0))
	f.Add(strings.Repeat("A", 4096)+"."+strings.Repeat("B", 43), now.Unix())
	f.Fuzz(func(t *testing.T, token string, nowUnix int64) {
		at := time.Unix(nowUnix, 0)
		tok, err := VerifyNotebookToken(fuzzSecret, token, at)
		switch {
		case err == nil:
			if tok.SessionID == "" || nowUnix >= tok.Expires {
				t.Fatalf("accepted %q at %d as %+v", token, nowUnix, tok)
			}
			p, sig, _ := strings.Cut(token, ".")
			mac := hmac.New(sha256.New, fuzzSecret)
			mac.Write([]byte(p))
			// Compared decoded: Go's base64 skips \r and \n, so a signature with line breaks in it
			// is accepted too (harmless: the MAC is the secret's all the same).
			if got, _ := base64.RawURLEncoding.DecodeString(sig); !hmac.Equal(got, mac.Sum(nil)) {
				t.Fatalf("accepted %q, whose signature is not the secret's", token)
			}
			if _, err := VerifyNotebookToken(fuzzSecret, SignNotebookToken(fuzzSecret, tok), at); err != nil {
				t.Fatalf("the re-signed %+v is refused: %v", tok, err)
			}
			// The first signature character carries the first MAC byte's top six bits (the
			// last one's low bits are padding, which the decoder ignores: not a change).
			b := []byte(token)
			i := len(p) + 1
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			if _, err := VerifyNotebookToken(fuzzSecret, string(b), at); err == nil {
				t.Fatalf("a changed signature is accepted: %q", b)
			}
		case errors.Is(err, ErrTokenExpired):
			if nowUnix < tok.Expires {
				t.Fatalf("%q refused as expired at %d, it expires at %d", token, nowUnix, tok.Expires)
			}
		case errors.Is(err, ErrTokenInvalid):
			if tok != (NotebookToken{}) && tok.SessionID != "" {
				// An invalid token carries nothing a caller could mistake for a session.
				t.Fatalf("refused as invalid but returned %+v", tok)
			}
		default:
			t.Fatalf("unexpected error %T: %v", err, err)
		}
	})
}

// signRaw signs an arbitrary payload as SignNotebookToken would.
func signRaw(payload string) string {
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, fuzzSecret)
	mac.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
