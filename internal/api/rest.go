package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// restJson1: the protocol today's botocore (and so the AWS CLI, PyAthena, awswrangler) speaks
// to Athena. Every operation has a request line (method and path template, restRoutes in
// dispatch_gen.go); members bound to path labels, the query string or headers come from
// there, the rest from the JSON body, into the same input structs AWS JSON 1.1 decodes.

// restRoute is one operation's request line; path is the model's requestUri template with
// {Label} (one segment) and {Label+} (the rest of the path) labels.
type restRoute struct {
	op, method, path string
	status           int
}

// restRequest is what a restJson1 request carries outside its body.
type restRequest struct {
	labels map[string]string // percent-decoded path labels
	query  url.Values
	header http.Header
}

// routeSegments is each route's template split at '/', once.
var routeSegments = func() [][]string {
	out := make([][]string, len(restRoutes))
	for i, rt := range restRoutes {
		out[i] = strings.Split(strings.TrimPrefix(rt.path, "/"), "/")
	}
	return out
}()

// matchRoute finds the route of a method and escaped path. Among routes whose template
// matches, the one with more literal segments wins (/workgroups/{WorkGroup}/notebooks/list
// over a label in its place); a path matching some route with another method is reported as
// methodMismatch so the error can say so.
func matchRoute(method, escapedPath string) (route *restRoute, labels map[string]string, methodMismatch bool) {
	segs := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	best, bestIdx := -1, -1
	for i := range restRoutes {
		literals, ok := matchTemplate(routeSegments[i], segs)
		if !ok {
			continue
		}
		if restRoutes[i].method != method {
			methodMismatch = true
			continue
		}
		if literals > best {
			best, bestIdx = literals, i
		}
	}
	if bestIdx < 0 {
		return nil, nil, methodMismatch
	}
	labels, ok := bindLabels(routeSegments[bestIdx], segs)
	if !ok {
		return nil, nil, false
	}
	return &restRoutes[bestIdx], labels, false
}

func isLabel(ts string) bool { return strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") }

func isGreedy(ts string) bool { return strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "+}") }

// matchTemplate tells whether the path segments fit a template (labels non-empty), and
// how many of its segments are literal.
func matchTemplate(tsegs, segs []string) (int, bool) {
	literals := 0
	for i, ts := range tsegs {
		if i >= len(segs) {
			return 0, false
		}
		switch {
		case isGreedy(ts):
			return literals, segs[i] != ""
		case isLabel(ts):
			if segs[i] == "" {
				return 0, false
			}
		case segs[i] != ts:
			return 0, false
		default:
			literals++
		}
	}
	return literals, len(segs) == len(tsegs)
}

// bindLabels decodes the labels of a matched template, each once (botocore percent-encodes
// labels, so an ARN's ':' and '/' arrive as %3A and %2F). A malformed escape matches nothing.
func bindLabels(tsegs, segs []string) (map[string]string, bool) {
	var labels map[string]string
	for i, ts := range tsegs {
		raw, name := segs[i], ""
		switch {
		case isGreedy(ts):
			raw, name = strings.Join(segs[i:], "/"), ts[1:len(ts)-2]
		case isLabel(ts):
			name = ts[1 : len(ts)-1]
		default:
			continue
		}
		v, err := url.PathUnescape(raw)
		if err != nil || v == "" {
			return nil, false
		}
		labels = setLabel(labels, name, v)
		if isGreedy(ts) {
			break
		}
	}
	return labels, true
}

func setLabel(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// value is the member bound to a label, query key or header; nil when absent.
func (rr *restRequest) value(location, name string) *string {
	var v string
	switch location {
	case "uri":
		l, ok := rr.labels[name]
		if !ok {
			return nil
		}
		v = l
	case "querystring":
		vs, ok := rr.query[name]
		if !ok || len(vs) == 0 {
			return nil
		}
		v = vs[0]
	case "header":
		vs := rr.header.Values(name)
		if len(vs) == 0 {
			return nil
		}
		v = strings.Join(vs, ",")
	}
	return &v
}

// values is a list member: a repeated query key, or a header's comma-separated values.
func (rr *restRequest) values(location, name string) []string {
	switch location {
	case "querystring":
		return rr.query[name]
	case "header":
		var out []string
		for _, v := range rr.header.Values(name) {
			for _, part := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(part))
			}
		}
		return out
	}
	return nil
}

func bindingError(name, kind, v string) error {
	return &apiError{status: http.StatusBadRequest, Type: "SerializationException",
		Message: "Member " + name + " must be " + kind + ", not " + strconv.Quote(v)}
}

// setInt32, setInt64 and setBool set a member from its bound text (nil when absent).
func setInt32(dst **int32, name string, v *string) error {
	*dst = nil
	if v == nil {
		return nil
	}
	n, err := strconv.ParseInt(*v, 10, 32)
	if err != nil {
		return bindingError(name, "an integer", *v)
	}
	i := int32(n)
	*dst = &i
	return nil
}

func setInt64(dst **int64, name string, v *string) error {
	*dst = nil
	if v == nil {
		return nil
	}
	n, err := strconv.ParseInt(*v, 10, 64)
	if err != nil {
		return bindingError(name, "an integer", *v)
	}
	*dst = &n
	return nil
}

func setBool(dst **bool, name string, v *string) error {
	*dst = nil
	if v == nil {
		return nil
	}
	var b bool
	switch *v {
	case "true":
		b = true
	case "false":
	default:
		return bindingError(name, "true or false", *v)
	}
	*dst = &b
	return nil
}
