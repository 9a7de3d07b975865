// Package authz decides which principal may call which Athena operation on which resource.
//
// A policy file, named at start with --policy-file, maps access keys to principals and gives
// each principal an IAM-style identity policy (docs/security.md):
//
//	{"principals": {
//	   "alice": {"access_keys": ["AKIAALICE"],
//	             "policy": {"Version": "2012-10-17",
//	                        "Statement": [{"Effect": "Allow",
//	                                       "Action": ["athena:Get*", "athena:List*"],
//	                                       "Resource": "arn:aws:athena:us-east-1:123456789012:workgroup/team-*"}]}}}}
//
// Secrets are not in this file: they stay in the credentials configuration. The subset of the
// IAM policy language understood is Effect (Allow, Deny), Action or NotAction, and Resource,
// each a string or a list, with * and ? wildcards; actions match case-insensitively, resources
// case-sensitively; an explicit Deny wins over any Allow, and what no statement allows is
// denied. Anything outside the subset (Condition, NotResource, Principal, policy variables)
// is refused when the file is loaded rather than ignored, so a policy never grants more than
// it reads as granting.
package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// Decision is the outcome of evaluating a request against a policy.
type Decision int

const (
	// ImplicitDeny: no statement allows the request.
	ImplicitDeny Decision = iota
	// Allow: a statement allows it and none denies it.
	Allow
	// ExplicitDeny: a Deny statement matches it, whatever else allows it.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case ExplicitDeny:
		return "explicit deny"
	}
	return "implicit deny"
}

// Statement is one parsed policy statement. Exactly one of Actions and NotActions is set,
// their patterns in lower case (actions match case-insensitively).
type Statement struct {
	Sid        string
	Deny       bool
	Actions    []string
	NotActions []string
	Resources  []string
}

// Policy is a parsed identity policy.
type Policy struct {
	Statements []Statement
}

// Evaluate decides whether the policy lets its principal perform action (e.g.
// "athena:GetSession") on resource (an ARN, or "*" for operations without one).
func (p *Policy) Evaluate(action, resource string) Decision {
	action = strings.ToLower(action)
	allowed := false
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matches(action, resource) {
			continue
		}
		if st.Deny {
			return ExplicitDeny
		}
		allowed = true
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

// matches reports whether the statement applies; action is already in lower case, as the
// statement's action patterns are (actions match case-insensitively).
func (st *Statement) matches(action, resource string) bool {
	if st.Actions != nil {
		if !anyMatch(st.Actions, action) {
			return false
		}
	} else if anyMatch(st.NotActions, action) {
		return false
	}
	return anyMatch(st.Resources, resource)
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches the IAM wildcard pattern p: * stands for any run of
// characters (none included) and ? for exactly one. Nothing else is special. It runs in
// O(len(p)*len(s)) at worst, whatever the pattern.
func Match(p, s string) bool {
	// The classic greedy matcher with one backtrack point, the last * seen: a later * only
	// ever needs the text after the earlier one's match, so no more history is kept.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == '?':
			_, size := utf8.DecodeRuneInString(s[si:]) // one character, not one byte
			si += size
			pi++
		case pi < len(p) && p[pi] == s[si]:
			si++
			pi++
		case star >= 0:
			_, size := utf8.DecodeRuneInString(s[mark:])
			mark += size
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Principal is one named identity of the policy file.
type Principal struct {
	Name       string
	AccessKeys []string
	Policy     *Policy
}

// Policies is a loaded policy file: principals by name and by access key.
type Policies struct {
	principals map[string]*Principal
	byKey      map[string]*Principal
}

// Principal returns the principal an access key belongs to.
func (ps *Policies) Principal(accessKeyID string) (*Principal, bool) {
	p, ok := ps.byKey[accessKeyID]
	return p, ok
}

// AccessKeys lists every access key the file names, sorted.
func (ps *Policies) AccessKeys() []string {
	keys := make([]string, 0, len(ps.byKey))
	for k := range ps.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Decide evaluates a request made with accessKeyID. A key that belongs to no principal is
// denied everything: with a policy file, only what a policy allows is allowed.
func (ps *Policies) Decide(accessKeyID, action, resource string) (principal string, d Decision) {
	p, ok := ps.byKey[accessKeyID]
	if !ok {
		return "", ImplicitDeny
	}
	return p.Name, p.Policy.Evaluate(action, resource)
}

// Load reads and parses a policy file.
func Load(path string) (*Policies, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ps, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

// file is the policy file's JSON shape.
type file struct {
	Principals map[string]struct {
		AccessKeys []string        `json:"access_keys"`
		Policy     json.RawMessage `json:"policy"`
	} `json:"principals"`
}

// Parse parses a policy file's contents. Unknown members anywhere are errors.
func Parse(data []byte) (*Policies, error) {
	var f file
	if err := strictUnmarshal(data, &f); err != nil {
		return nil, err
	}
	if f.Principals == nil {
		return nil, errors.New(`the policy file needs a "principals" object`)
	}
	ps := &Policies{principals: map[string]*Principal{}, byKey: map[string]*Principal{}}
	names := make([]string, 0, len(f.Principals))
	for name := range f.Principals {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic error messages
	for _, name := range names {
		entry := f.Principals[name]
		if !validPrincipalName(name) {
			return nil, fmt.Errorf("principal %q: a name is 1-64 characters of letters, digits and +=,.@_-", name)
		}
		if len(entry.AccessKeys) == 0 {
			return nil, fmt.Errorf("principal %s: access_keys lists no access key", name)
		}
		if len(entry.Policy) == 0 || string(entry.Policy) == "null" {
			return nil, fmt.Errorf("principal %s: no policy", name)
		}
		pol, err := ParsePolicy(entry.Policy)
		if err != nil {
			return nil, fmt.Errorf("principal %s: %w", name, err)
		}
		p := &Principal{Name: name, AccessKeys: entry.AccessKeys, Policy: pol}
		for _, k := range entry.AccessKeys {
			if k == "" {
				return nil, fmt.Errorf("principal %s: an empty access key", name)
			}
			if other, dup := ps.byKey[k]; dup {
				return nil, fmt.Errorf("access key %s belongs to both %s and %s", k, other.Name, name)
			}
			ps.byKey[k] = p
		}
		ps.principals[name] = p
	}
	return ps, nil
}

func validPrincipalName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("+=,.@_-", c):
		default:
			return false
		}
	}
	return true
}

// policyDoc and statementDoc are an IAM policy document's JSON shape; strings-or-lists and
// statement-or-list are kept raw and decoded by hand.
type policyDoc struct {
	Version   string          `json:"Version"`
	ID        string          `json:"Id"`
	Statement json.RawMessage `json:"Statement"`
}

type statementDoc struct {
	Sid         string          `json:"Sid"`
	Effect      string          `json:"Effect"`
	Action      json.RawMessage `json:"Action"`
	NotAction   json.RawMessage `json:"NotAction"`
	Resource    json.RawMessage `json:"Resource"`
	NotResource json.RawMessage `json:"NotResource"`
	Principal   json.RawMessage `json:"Principal"`
	Condition   json.RawMessage `json:"Condition"`
}

// ParsePolicy parses one IAM identity policy document in the supported subset.
func ParsePolicy(data []byte) (*Policy, error) {
	var doc policyDoc
	if err := strictUnmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	switch doc.Version {
	case "2012-10-17", "2008-10-17":
	case "":
		return nil, errors.New(`policy: Version is required ("2012-10-17")`)
	default:
		return nil, fmt.Errorf("policy: Version %q is not an IAM policy version", doc.Version)
	}
	raw := bytes.TrimSpace(doc.Statement)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("policy: Statement is required")
	}
	var docs []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &docs); err != nil {
			return nil, fmt.Errorf("policy: Statement: %w", err)
		}
	} else {
		docs = []json.RawMessage{raw}
	}
	pol := &Policy{}
	for i, d := range docs {
		st, err := parseStatement(d)
		if err != nil {
			return nil, fmt.Errorf("policy: Statement %d: %w", i+1, err)
		}
		pol.Statements = append(pol.Statements, st)
	}
	return pol, nil
}

func parseStatement(data []byte) (Statement, error) {
	var d statementDoc
	if err := strictUnmarshal(data, &d); err != nil {
		return Statement{}, err
	}
	st := Statement{Sid: d.Sid}
	switch d.Effect {
	case "Allow":
	case "Deny":
		st.Deny = true
	default:
		return st, fmt.Errorf("Effect must be Allow or Deny, not %q", d.Effect)
	}
	for _, unsupported := range []struct {
		name string
		v    json.RawMessage
	}{{"Condition", d.Condition}, {"NotResource", d.NotResource}, {"Principal", d.Principal}} {
		if unsupported.v != nil {
			return st, fmt.Errorf("%s is not supported by glaux (docs/security.md lists what is)", unsupported.name)
		}
	}
	var err error
	switch {
	case d.Action != nil && d.NotAction != nil:
		return st, errors.New("a statement has Action or NotAction, not both")
	case d.Action != nil:
		if st.Actions, err = stringList("Action", d.Action); err != nil {
			return st, err
		}
	case d.NotAction != nil:
		if st.NotActions, err = stringList("NotAction", d.NotAction); err != nil {
			return st, err
		}
	default:
		return st, errors.New("a statement needs Action or NotAction")
	}
	for _, list := range [][]string{st.Actions, st.NotActions} {
		for i, a := range list {
			if a != "*" && !strings.Contains(a, ":") {
				return st, fmt.Errorf("action %q is not service:Operation (e.g. athena:GetSession) or *", a)
			}
			list[i] = strings.ToLower(a)
		}
	}
	if d.Resource == nil {
		return st, errors.New("a statement needs Resource")
	}
	if st.Resources, err = stringList("Resource", d.Resource); err != nil {
		return st, err
	}
	return st, nil
}

// stringList decodes a string or a non-empty list of strings.
func stringList(member string, raw json.RawMessage) ([]string, error) {
	var out []string
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		out = []string{s}
	} else if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		return nil, fmt.Errorf("%s must be a string or a list of strings", member)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists nothing", member)
	}
	for _, s := range out {
		if s == "" {
			return nil, fmt.Errorf("%s has an empty entry", member)
		}
		if strings.Contains(s, "${") {
			return nil, fmt.Errorf("%s %q: policy variables are not supported", member, s)
		}
	}
	return out, nil
}

// strictUnmarshal decodes one JSON value, refusing unknown members and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
