// Package glue serves the AWS Glue Data Catalog operations that dbt-athena and other Athena
// clients use (AWS JSON 1.1, X-Amz-Target AWSGlue.<Operation>, SigV4 scoped to glue) from
// the table catalog every session shares: each answer is read from, or each change made in,
// the Hive metastore by glaux's system session (internal/athena/system.go, docs/dbt.md).
package glue

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"glaux/internal/athena"
	"glaux/internal/authz"
	"glaux/internal/sigv4"
)

//go:embed catalog.py
var catalogPy string

const targetPrefix = "AWSGlue."

// System runs code in the system session; *athena.Service implements it.
type System interface {
	RunSystemJSON(ctx context.Context, code string, out any) error
}

// Verifier checks a request's signature; *sigv4.Verifier implements it.
type Verifier interface {
	Verify(r *http.Request, body []byte) (sigv4.Identity, error)
}

// Handler answers Glue requests.
type Handler struct {
	sys       System
	verifier  Verifier
	accountID string // the one catalog's id
	log       *slog.Logger
	newID     func() string
	policies  *authz.Policies // nil: every valid key may do everything
	region    string
}

// UsePolicies checks every call against policies (docs/security.md): the action is
// glue:<Operation>, the resource the catalog, arn:aws:glue:<region>:<account>:catalog.
func (h *Handler) UsePolicies(policies *authz.Policies, region string) {
	h.policies, h.region = policies, region
}

// NewHandler returns the Glue handler; accountID is the id of glaux's one catalog.
func NewHandler(sys System, verifier Verifier, accountID string, log *slog.Logger) *Handler {
	return &Handler{sys: sys, verifier: verifier, accountID: accountID, log: log, newID: athena.NewUUID}
}

// Error is a Glue exception as it goes on the wire.
type Error struct {
	status  int
	Type    string `json:"__type"`
	Message string `json:"Message"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func invalidInput(format string, args ...any) *Error {
	return &Error{status: http.StatusBadRequest, Type: "InvalidInputException", Message: fmt.Sprintf(format, args...)}
}

// ops are the served operations: each validates its input and runs.
var ops = map[string]func(h *Handler, ctx context.Context, body []byte) (any, error){
	"GetDatabases":   (*Handler).getDatabases,
	"GetDatabase":    (*Handler).getDatabase,
	"CreateDatabase": (*Handler).createDatabase,
	"DeleteDatabase": (*Handler).deleteDatabase,
	"GetTables":      (*Handler).getTables,
	"GetTable":       (*Handler).getTable,
	"DeleteTable":    (*Handler).deleteTable,
}

// Operations lists the served operations (docs/dbt.md).
func Operations() []string {
	return []string{"GetDatabases", "GetDatabase", "CreateDatabase", "DeleteDatabase", "GetTables", "GetTable", "DeleteTable"}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := h.newID()
	w.Header().Set("x-amzn-RequestId", reqID)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	out, err := h.serve(r, op)
	if err != nil {
		var ge *Error
		var se *sigv4.Error
		switch {
		case errors.As(err, &ge):
		case errors.As(err, &se):
			ge = &Error{status: se.Status, Type: se.Code, Message: se.Message}
		default:
			h.log.Error("glue: internal error", "op", op, "request_id", reqID, "err", err)
			ge = &Error{status: http.StatusInternalServerError, Type: "InternalServiceException", Message: "An internal error occurred. Request id " + reqID}
		}
		h.log.Debug("glue request failed", "op", op, "type", ge.Type, "message", ge.Message)
		write(w, ge.status, ge)
		return
	}
	write(w, http.StatusOK, out)
}

func (h *Handler) serve(r *http.Request, op string) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, &Error{status: http.StatusRequestEntityTooLarge, Type: "SerializationException", Message: "Could not read the request body (at most 1 MiB)"}
	}
	id, err := h.verifier.Verify(r, body)
	if err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return nil, &Error{status: http.StatusBadRequest, Type: "UnknownOperationException", Message: "Glue operations are POST / with X-Amz-Target AWSGlue.<Operation>"}
	}
	fn, ok := ops[op]
	if !ok {
		return nil, &Error{status: http.StatusBadRequest, Type: "UnknownOperationException",
			Message: fmt.Sprintf("glaux serves the Glue operations %s; %s is not one of them", strings.Join(Operations(), ", "), op)}
	}
	if h.policies != nil {
		resource := "arn:aws:glue:" + h.region + ":" + h.accountID + ":catalog"
		if name, d := h.policies.Decide(id.AccessKeyID, "glue:"+op, resource); d != authz.Allow {
			user := firstNonEmpty(name, id.AccessKeyID)
			return nil, &Error{status: http.StatusBadRequest, Type: "AccessDeniedException",
				Message: fmt.Sprintf("User: arn:aws:iam::%s:user/%s is not authorized to perform: glue:%s on resource: %s", h.accountID, user, op, resource)}
		}
	}
	return fn(h, r.Context(), body)
}

func write(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// decode reads a JSON object into in (an empty body is {}); bad JSON is SerializationException.
func decode(body []byte, in any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil || body[0] != '{' {
		return &Error{status: http.StatusBadRequest, Type: "SerializationException", Message: "The request body is not a JSON object of the operation's input"}
	}
	return nil
}

// run calls the catalog helper; its own error answers become Glue exceptions.
func (h *Handler) run(ctx context.Context, op string, args any, out any) error {
	b, err := json.Marshal(args)
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%s\n_glaux_glue(%q, %q)\n", catalogPy, op, base64.StdEncoding.EncodeToString(b))
	var raw json.RawMessage
	if err := h.sys.RunSystemJSON(ctx, code, &raw); err != nil {
		var se *athena.SystemError
		var de *athena.Error
		if errors.As(err, &de) && de.Code == athena.CodeInvalidRequest {
			return invalidInput("%s", de.Message)
		}
		if errors.As(err, &se) {
			if strings.Contains(se.EName, "AnalysisException") || strings.Contains(se.EName, "ParseException") {
				return invalidInput("%s", se.Error())
			}
			return &Error{status: http.StatusInternalServerError, Type: "InternalServiceException", Message: truncate(se.Error(), 2048)}
		}
		return err
	}
	var e struct {
		Error *struct{ Type, Message string } `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != nil {
		return &Error{status: http.StatusBadRequest, Type: e.Error.Type, Message: e.Error.Message}
	}
	return json.Unmarshal(raw, out)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Inputs. Members glaux cannot honour are rejected rather than ignored.

type catalogScoped struct {
	CatalogID     *string `json:"CatalogId"`
	TransactionID *string `json:"TransactionId"`
	QueryAsOfTime *any    `json:"QueryAsOfTime"`
}

func (h *Handler) checkScope(c catalogScoped) error {
	if c.CatalogID != nil {
		if err := checkName("CatalogId", *c.CatalogID); err != nil {
			return err
		}
		if *c.CatalogID != h.accountID {
			return &Error{status: http.StatusBadRequest, Type: "EntityNotFoundException",
				Message: fmt.Sprintf("Catalog %s not found: glaux has one catalog, %s", *c.CatalogID, h.accountID)}
		}
	}
	if c.TransactionID != nil {
		return invalidInput("TransactionId: glaux's catalog has no Lake Formation transactions")
	}
	if c.QueryAsOfTime != nil {
		return invalidInput("QueryAsOfTime: glaux's catalog keeps no table versions")
	}
	return nil
}

// checkName enforces NameString: 1 to 255 characters, no control characters but tab.
func checkName(member, v string) error {
	if n := len([]rune(v)); n < 1 || n > 255 {
		return invalidInput("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 255", v, member)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' {
			return invalidInput("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern", member)
		}
	}
	return nil
}

func required(member string, v *string) (string, error) {
	if v == nil {
		return "", invalidInput("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	if err := checkName(member, *v); err != nil {
		return "", err
	}
	return strings.ToLower(*v), nil // Glue keeps names in lower case, as Hive does
}

// page slices a list by the NextToken / MaxResults of a Get* request.
func page[T any](list []T, token *string, maxResults *int32, member string) ([]T, *string, error) {
	size := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return nil, nil, invalidInput("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", *maxResults)
		}
		size = int(*maxResults)
	}
	offset := 0
	if token != nil && *token != "" {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		n, convErr := strconv.Atoi(string(b))
		if err != nil || convErr != nil || n < 0 || n > len(list) {
			return nil, nil, invalidInput("Invalid %s NextToken", member)
		}
		offset = n
	}
	end := min(len(list), offset+size)
	var next *string
	if end < len(list) {
		t := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		next = &t
	}
	return list[offset:end], next, nil
}

type database = map[string]any

func (h *Handler) withCatalog(d database) database {
	d["CatalogId"] = h.accountID
	return d
}

func (h *Handler) getDatabases(ctx context.Context, body []byte) (any, error) {
	var in struct {
		catalogScoped
		NextToken         *string `json:"NextToken"`
		MaxResults        *int32  `json:"MaxResults"`
		ResourceShareType *string `json:"ResourceShareType"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := h.checkScope(in.catalogScoped); err != nil {
		return nil, err
	}
	if t := in.ResourceShareType; t != nil && *t != "ALL" && *t != "FOREIGN" && *t != "FEDERATED" {
		return nil, invalidInput("1 validation error detected: Value '%s' at 'resourceShareType' failed to satisfy constraint: Member must satisfy enum value set: [FOREIGN, ALL, FEDERATED]", *t)
	}
	var res struct{ DatabaseList []database }
	if err := h.run(ctx, "GetDatabases", map[string]any{}, &res); err != nil {
		return nil, err
	}
	if t := in.ResourceShareType; t != nil && *t != "ALL" {
		res.DatabaseList = nil // glaux's catalog shares nothing with, nor federates, other catalogs
	}
	list, next, err := page(res.DatabaseList, in.NextToken, in.MaxResults, "GetDatabases")
	if err != nil {
		return nil, err
	}
	for _, d := range list {
		h.withCatalog(d)
	}
	if list == nil {
		list = []database{}
	}
	return map[string]any{"DatabaseList": list, "NextToken": next}, nil
}

// databaseArg decodes the input of an operation on one database by name (GetDatabase,
// DeleteDatabase) and checks its catalog scope.
func (h *Handler) databaseArg(body []byte) (string, error) {
	var in struct {
		catalogScoped
		Name *string `json:"Name"`
	}
	if err := decode(body, &in); err != nil {
		return "", err
	}
	name, err := required("name", in.Name)
	if err != nil {
		return "", err
	}
	return name, h.checkScope(in.catalogScoped)
}

func (h *Handler) getDatabase(ctx context.Context, body []byte) (any, error) {
	name, err := h.databaseArg(body)
	if err != nil {
		return nil, err
	}
	var d database
	if err := h.run(ctx, "GetDatabase", map[string]any{"Name": name}, &d); err != nil {
		return nil, err
	}
	return map[string]any{"Database": h.withCatalog(d)}, nil
}

func (h *Handler) createDatabase(ctx context.Context, body []byte) (any, error) {
	var in struct {
		catalogScoped
		DatabaseInput *struct {
			Name           *string           `json:"Name"`
			Description    *string           `json:"Description"`
			LocationURI    *string           `json:"LocationUri"`
			Parameters     map[string]string `json:"Parameters"`
			TargetDatabase *any              `json:"TargetDatabase"`
		} `json:"DatabaseInput"`
		Tags map[string]string `json:"Tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.DatabaseInput == nil {
		return nil, invalidInput("1 validation error detected: Value null at 'databaseInput' failed to satisfy constraint: Member must not be null")
	}
	d := in.DatabaseInput
	name, err := required("databaseInput.name", d.Name)
	if err != nil {
		return nil, err
	}
	if err := h.checkScope(in.catalogScoped); err != nil {
		return nil, err
	}
	if d.TargetDatabase != nil {
		return nil, invalidInput("TargetDatabase: glaux's catalog has no resource links")
	}
	if len(in.Tags) > 0 {
		return nil, invalidInput("Tags: glaux's catalog does not tag databases")
	}
	args := map[string]any{"Name": name, "Parameters": d.Parameters}
	if d.Description != nil {
		if len(*d.Description) > 2048 {
			return nil, invalidInput("1 validation error detected: Value at 'databaseInput.description' failed to satisfy constraint: Member must have length less than or equal to 2048")
		}
		args["Description"] = *d.Description
	}
	if d.LocationURI != nil {
		if *d.LocationURI == "" || len(*d.LocationURI) > 1024 {
			return nil, invalidInput("1 validation error detected: Value at 'databaseInput.locationUri' failed to satisfy constraint: Member must have length between 1 and 1024")
		}
		args["LocationUri"] = *d.LocationURI
	}
	var out struct{}
	if err := h.run(ctx, "CreateDatabase", args, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (h *Handler) deleteDatabase(ctx context.Context, body []byte) (any, error) {
	name, err := h.databaseArg(body)
	if err != nil {
		return nil, err
	}
	var out struct{}
	if err := h.run(ctx, "DeleteDatabase", map[string]any{"Name": name}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

type table = map[string]any

func (h *Handler) getTables(ctx context.Context, body []byte) (any, error) {
	var in struct {
		catalogScoped
		DatabaseName *string `json:"DatabaseName"`
		Expression   *string `json:"Expression"`
		NextToken    *string `json:"NextToken"`
		MaxResults   *int32  `json:"MaxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	db, err := required("databaseName", in.DatabaseName)
	if err != nil {
		return nil, err
	}
	if err := h.checkScope(in.catalogScoped); err != nil {
		return nil, err
	}
	var match *regexp.Regexp
	if in.Expression != nil && *in.Expression != "" {
		// Glue's Expression is a regular expression on table names ("*" alone: all of them).
		expr := *in.Expression
		if expr == "*" {
			expr = ".*"
		}
		if match, err = regexp.Compile("(?i)^(?:" + expr + ")$"); err != nil {
			return nil, invalidInput("Expression %q is not a valid regular expression: %v", *in.Expression, err)
		}
	}
	var res struct{ TableList []table }
	if err := h.run(ctx, "GetTables", map[string]any{"DatabaseName": db}, &res); err != nil {
		return nil, err
	}
	list := res.TableList[:0]
	for _, t := range res.TableList {
		if name, _ := t["Name"].(string); match == nil || match.MatchString(name) {
			list = append(list, h.withCatalog(t))
		}
	}
	list, next, err := page(list, in.NextToken, in.MaxResults, "GetTables")
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []table{}
	}
	return map[string]any{"TableList": list, "NextToken": next}, nil
}

func (h *Handler) tableArgs(body []byte) (map[string]any, error) {
	var in struct {
		catalogScoped
		DatabaseName *string `json:"DatabaseName"`
		Name         *string `json:"Name"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	db, err := required("databaseName", in.DatabaseName)
	if err != nil {
		return nil, err
	}
	name, err := required("name", in.Name)
	if err != nil {
		return nil, err
	}
	if err := h.checkScope(in.catalogScoped); err != nil {
		return nil, err
	}
	return map[string]any{"DatabaseName": db, "Name": name}, nil
}

func (h *Handler) getTable(ctx context.Context, body []byte) (any, error) {
	args, err := h.tableArgs(body)
	if err != nil {
		return nil, err
	}
	var t table
	if err := h.run(ctx, "GetTable", args, &t); err != nil {
		return nil, err
	}
	return map[string]any{"Table": h.withCatalog(t)}, nil
}

// deleteTable drops the table from the metastore. Like Glue's, it keeps an external
// table's data; a managed table's data goes with it (Spark's Hive metastore semantics).
func (h *Handler) deleteTable(ctx context.Context, body []byte) (any, error) {
	args, err := h.tableArgs(body)
	if err != nil {
		return nil, err
	}
	var out struct{}
	if err := h.run(ctx, "DeleteTable", args, &out); err != nil {
		return nil, err
	}
	return out, nil
}
