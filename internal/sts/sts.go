// Package sts serves STS GetCallerIdentity (the AWS query protocol: a form-encoded POST, an
// XML answer, SigV4 scoped to sts): dbt-athena asks it for the account whose Glue catalog it
// uses. The identity is the caller's verified access key in glaux's one account.
package sts

import (
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"glaux/internal/athena"
	"glaux/internal/sigv4"
)

// Verifier checks a request's signature; *sigv4.Verifier implements it.
type Verifier interface {
	Verify(r *http.Request, body []byte) (sigv4.Identity, error)
}

// Handler answers STS requests.
type Handler struct {
	verifier  Verifier
	accountID string
	log       *slog.Logger
}

// NewHandler returns the STS handler for the account accountID.
func NewHandler(verifier Verifier, accountID string, log *slog.Logger) *Handler {
	return &Handler{verifier: verifier, accountID: accountID, log: log}
}

type callerIdentity struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Arn       string   `xml:"GetCallerIdentityResult>Arn"`
	UserID    string   `xml:"GetCallerIdentityResult>UserId"`
	Account   string   `xml:"GetCallerIdentityResult>Account"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := athena.NewUUID()
	w.Header().Set("x-amzn-RequestId", reqID)
	fail := func(status int, code, msg string) {
		h.log.Debug("sts request failed", "code", code, "message", msg)
		write(w, status, errorResponse{Type: "Sender", Code: code, Message: msg, RequestID: reqID})
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err != nil {
		fail(http.StatusBadRequest, "InvalidRequest", "Could not read the request body")
		return
	}
	id, err := h.verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			fail(se.Status, se.Code, se.Message)
			return
		}
		fail(http.StatusForbidden, "AccessDenied", err.Error())
		return
	}
	form, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || err != nil {
		fail(http.StatusBadRequest, "InvalidAction", "STS requests are form-encoded POSTs")
		return
	}
	if v := form.Get("Version"); v != "2011-06-15" {
		fail(http.StatusBadRequest, "InvalidAction", "Could not find operation "+form.Get("Action")+" for version "+v)
		return
	}
	if a := form.Get("Action"); a != "GetCallerIdentity" {
		fail(http.StatusBadRequest, "InvalidAction", "glaux serves only GetCallerIdentity of STS, not "+a)
		return
	}
	write(w, http.StatusOK, callerIdentity{
		Arn: "arn:aws:iam::" + h.accountID + ":user/" + id.AccessKeyID, UserID: id.AccessKeyID,
		Account: h.accountID, RequestID: reqID,
	})
}

func write(w http.ResponseWriter, status int, v any) {
	b, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
