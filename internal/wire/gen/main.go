// Command gen writes the wire shapes, their validators and the operation table of the Athena
// operations glaux serves, from the AWS service model (a JSON file given with -model), and
// their restJson1 routes and bindings from a model with HTTP traits (-rest-model: botocore's,
// whose Athena speaks rest-json). Both models live in internal/wire/model.
//
//	go generate ./internal/wire
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Served lists the operations glaux implements; every other model operation is answered
// with a plain "not supported by glaux" error.
var Served = []string{
	"CreateWorkGroup", "GetWorkGroup", "UpdateWorkGroup", "ListWorkGroups", "DeleteWorkGroup",
	"ListEngineVersions", "TagResource", "UntagResource", "ListTagsForResource",
	"CreateNotebook", "ImportNotebook", "ExportNotebook", "UpdateNotebook", "UpdateNotebookMetadata",
	"GetNotebookMetadata", "ListNotebookMetadata", "DeleteNotebook", "ListNotebookSessions",
	"CreatePresignedNotebookUrl", "ListApplicationDPUSizes",
	"StartSession", "GetSession", "GetSessionStatus", "ListSessions", "TerminateSession",
	"StartCalculationExecution", "GetCalculationExecution", "GetCalculationExecutionStatus",
	"GetCalculationExecutionCode", "ListCalculationExecutions", "StopCalculationExecution",
	"ListExecutors", "GetResourceDashboard", "GetSessionEndpoint",
	// The Athena SQL operations dbt-athena needs, run as Spark SQL (docs/dbt.md).
	"StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution",
}

// handWritten names the string shapes whose model patterns Go's regexp cannot compile
// (lookahead, \u escapes); their checks live in patterns.go.
var handWritten = map[string]string{
	"NotebookName": "validNotebookName",
	"KeyString":    "validKeyString",
	// The same pattern as KeyString's.
	"CatalogNameString": "validKeyString",
}

type member struct {
	Shape        string `json:"shape"`
	Location     string `json:"location"`     // restJson1: uri, querystring, header, headers, statusCode
	LocationName string `json:"locationName"` // restJson1: the label, query key or header name
}

type shape struct {
	Type     string            `json:"type"`
	Members  map[string]member `json:"members"`
	Required []string          `json:"required"`
	Member   *member           `json:"member"`
	Key      *member           `json:"key"`
	Value    *member           `json:"value"`
	Min      *float64          `json:"min"`
	Max      *float64          `json:"max"`
	Pattern  string            `json:"pattern"`
	Enum     []string          `json:"enum"`
	Error    bool              `json:"exception"`
	Payload  string            `json:"payload"`
}

type operation struct {
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input  *member  `json:"input"`
	Output *member  `json:"output"`
	Errors []member `json:"errors"`
}

type model struct {
	Operations map[string]operation `json:"operations"`
	Shapes     map[string]shape     `json:"shapes"`
}

func main() {
	modelPath := flag.String("model", "internal/wire/model/athena-service-2.json", "AWS service model")
	restPath := flag.String("rest-model", "internal/wire/model/athena-service-2.botocore-1.44.18.json", "AWS service model with restJson1 HTTP traits")
	out := flag.String("out", "internal", "directory holding the wire and api packages")
	flag.Parse()
	g := &gen{m: readModel(*modelPath), rest: readModel(*restPath), used: map[string]bool{}, output: map[string]bool{}}
	m := g.m
	for _, op := range Served {
		o, ok := m.Operations[op]
		if !ok {
			log.Fatalf("operation %s not in model", op)
		}
		g.walk(o.Input.Shape, false)
		g.walk(o.Output.Shape, true)
	}
	write(filepath.Join(*out, "wire", "shapes_gen.go"), g.shapes())
	write(filepath.Join(*out, "wire", "validate_gen.go"), g.validators())
	write(filepath.Join(*out, "wire", "ops_gen.go"), g.ops())
	write(filepath.Join(*out, "api", "dispatch_gen.go"), g.dispatch())
}

func readModel(path string) model {
	raw, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var m model
	if err := json.Unmarshal(raw, &m); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	return m
}

type gen struct {
	m      model
	rest   model           // the HTTP bindings; shapes come from m
	used   map[string]bool // structure shapes reachable from served operations
	output map[string]bool // structure shapes that appear in an output
}

func (g *gen) walk(name string, output bool) {
	s := g.m.Shapes[name]
	switch s.Type {
	case "structure":
		if output {
			if g.output[name] {
				return
			}
			g.output[name] = true
		} else if g.used[name] {
			return
		}
		g.used[name] = true
		for _, mem := range s.Members {
			g.walk(mem.Shape, output)
		}
	case "list":
		g.walk(s.Member.Shape, output)
	case "map":
		g.walk(s.Key.Shape, output)
		g.walk(s.Value.Shape, output)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// goType is the Go type of a member of the given shape; scalars are pointers so that
// "unset" and "zero" differ, as they do on the wire.
func (g *gen) goType(name string, pointer bool) string {
	s := g.m.Shapes[name]
	p := ""
	if pointer {
		p = "*"
	}
	switch s.Type {
	case "string":
		return p + "string"
	case "integer":
		return p + "int32"
	case "long":
		return p + "int64"
	case "boolean":
		return p + "bool"
	case "double":
		return p + "float64"
	case "timestamp":
		return p + "Time"
	case "structure":
		return p + name
	case "list":
		return "[]" + g.goType(s.Member.Shape, false)
	case "map":
		return "map[" + g.goType(s.Key.Shape, false) + "]" + g.goType(s.Value.Shape, false)
	}
	log.Fatalf("unsupported shape type %s for %s", s.Type, name)
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const header = "// Code generated by internal/wire/gen from the AWS Athena service model. DO NOT EDIT.\n\n"

func (g *gen) shapes() []byte {
	var b bytes.Buffer
	b.WriteString(header + "package wire\n\n")
	for _, name := range sortedKeys(g.used) {
		s := g.m.Shapes[name]
		fmt.Fprintf(&b, "type %s struct {\n", name)
		for _, mn := range sortedKeys(s.Members) {
			mem := s.Members[mn]
			tag := mn + ",omitempty"
			// An empty list or map the service built is sent as [] / {} (boto3 callers index
			// it unchecked); only an unset (nil) one is left out.
			if t := g.m.Shapes[mem.Shape].Type; t == "list" || t == "map" {
				tag = mn + ",omitzero"
			}
			// Required output members are sent even when empty (e.g. an empty list as []).
			if g.output[name] && contains(s.Required, mn) {
				tag = mn
			}
			fmt.Fprintf(&b, "\t%s %s `json:\"%s\"`\n", mn, g.goType(mem.Shape, true), tag)
		}
		b.WriteString("}\n\n")
	}
	// Enum values as constants, for the domain's convenience.
	enums := map[string]bool{}
	for _, name := range sortedKeys(g.used) {
		for _, mem := range g.m.Shapes[name].Members {
			if len(g.m.Shapes[mem.Shape].Enum) > 0 {
				enums[mem.Shape] = true
			}
		}
	}
	for _, name := range sortedKeys(enums) {
		b.WriteString("const (\n")
		for _, v := range g.m.Shapes[name].Enum {
			fmt.Fprintf(&b, "\t%s%s = %q\n", name, constName(v), v)
		}
		b.WriteString(")\n\n")
	}
	return b.Bytes()
}

func constName(v string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '_' || r == ' ' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
	}
	return b.String()
}

// validators writes Validate methods for input structures: required members, lengths,
// ranges, patterns and enums, with AWS's wording and the member path in the message.
func (g *gen) validators() []byte {
	var b bytes.Buffer
	b.WriteString(header + "package wire\n\nimport \"regexp\"\n\n")
	patterns := map[string]string{}
	for _, name := range sortedKeys(g.used) {
		if g.output[name] && !g.isInput(name) {
			continue
		}
		s := g.m.Shapes[name]
		fmt.Fprintf(&b, "func (v *%s) validate(c *checker, path string) {\n", name)
		fmt.Fprintf(&b, "\tif v == nil {\n\t\treturn\n\t}\n")
		for _, mn := range sortedKeys(s.Members) {
			mem := s.Members[mn]
			ms := g.m.Shapes[mem.Shape]
			field := "v." + mn
			p := fmt.Sprintf("c.join(path, %q)", lowerFirst(mn))
			if contains(s.Required, mn) {
				fmt.Fprintf(&b, "\tif %s == nil {\n\t\tc.required(%s)\n\t}\n", field, p)
			}
			g.check(&b, mem.Shape, ms, field, p, true, patterns)
		}
		b.WriteString("}\n\n")
	}
	for _, op := range Served {
		in := g.m.Operations[op].Input.Shape
		fmt.Fprintf(&b, "// Validate checks every constraint of the model on a %s request.\nfunc (v *%s) Validate() error {\n\tc := &checker{}\n\tv.validate(c, \"\")\n\treturn c.err()\n}\n\n", op, in)
	}
	b.WriteString("var (\n")
	for _, name := range sortedKeys(patterns) {
		fmt.Fprintf(&b, "\tpattern%s = regexp.MustCompile(%q)\n", name, "^(?:"+patterns[name]+")$")
	}
	b.WriteString(")\n")
	return b.Bytes()
}

func (g *gen) isInput(name string) bool {
	// A structure reached from an input is validated; shapes reached only from outputs are not.
	for _, op := range Served {
		if g.reaches(g.m.Operations[op].Input.Shape, name, map[string]bool{}) {
			return true
		}
	}
	return false
}

func (g *gen) reaches(from, to string, seen map[string]bool) bool {
	if from == to {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	s := g.m.Shapes[from]
	switch s.Type {
	case "structure":
		for _, mem := range s.Members {
			if g.reaches(mem.Shape, to, seen) {
				return true
			}
		}
	case "list":
		return g.reaches(s.Member.Shape, to, seen)
	case "map":
		return g.reaches(s.Value.Shape, to, seen)
	}
	return false
}

// check writes the checks of one value; ptr says whether expr is a pointer.
func (g *gen) check(b *bytes.Buffer, name string, s shape, expr, path string, ptr bool, patterns map[string]string) {
	deref := expr
	if ptr {
		deref = "*" + expr
	}
	switch s.Type {
	case "string":
		var lines []string
		if s.Min != nil && *s.Min > 0 {
			lines = append(lines, fmt.Sprintf("c.minLen(%s, %s, %d)", path, deref, int(*s.Min)))
		}
		if s.Max != nil {
			lines = append(lines, fmt.Sprintf("c.maxLen(%s, %s, %d)", path, deref, int(*s.Max)))
		}
		if fn, ok := handWritten[name]; ok {
			lines = append(lines, fmt.Sprintf("c.pattern(%s, %s, %s(%s), %q)", path, deref, fn, deref, s.Pattern))
		} else if s.Pattern != "" {
			patterns[name] = s.Pattern
			lines = append(lines, fmt.Sprintf("c.pattern(%s, %s, pattern%s.MatchString(%s), %q)", path, deref, name, deref, s.Pattern))
		}
		if len(s.Enum) > 0 {
			lines = append(lines, fmt.Sprintf("c.enum(%s, %s, %#v)", path, deref, s.Enum))
		}
		g.guard(b, expr, ptr, lines)
	case "integer", "long":
		var lines []string
		if s.Min != nil {
			lines = append(lines, fmt.Sprintf("c.min(%s, int64(%s), %d)", path, deref, int64(*s.Min)))
		}
		if s.Max != nil {
			lines = append(lines, fmt.Sprintf("c.max(%s, int64(%s), %d)", path, deref, int64(*s.Max)))
		}
		g.guard(b, expr, ptr, lines)
	case "structure":
		fmt.Fprintf(b, "\t%s.validate(c, %s)\n", expr, path)
	case "list":
		if s.Min != nil && *s.Min > 0 {
			fmt.Fprintf(b, "\tif %s != nil {\n\t\tc.minItems(%s, len(%s), %d)\n\t}\n", expr, path, expr, int(*s.Min))
		}
		if s.Max != nil {
			fmt.Fprintf(b, "\tc.maxItems(%s, len(%s), %d)\n", path, expr, int(*s.Max))
		}
		ms := g.m.Shapes[s.Member.Shape]
		var inner bytes.Buffer
		g.check(&inner, s.Member.Shape, ms, "item", "c.index("+path+", i)", ms.Type == "structure", patterns)
		if inner.Len() > 0 {
			if ms.Type == "structure" {
				fmt.Fprintf(b, "\tfor i := range %s {\n\t\titem := &%s[i]\n%s\t}\n", expr, expr, inner.String())
			} else {
				fmt.Fprintf(b, "\tfor i, item := range %s {\n\t\t_, _ = i, item\n%s\t}\n", expr, inner.String())
			}
		}
	case "map":
		if s.Max != nil {
			fmt.Fprintf(b, "\tc.maxItems(%s, len(%s), %d)\n", path, expr, int(*s.Max))
		}
		var inner bytes.Buffer
		g.check(&inner, s.Key.Shape, g.m.Shapes[s.Key.Shape], "k", "c.key("+path+", k)", false, patterns)
		vs := g.m.Shapes[s.Value.Shape]
		if vs.Type == "string" {
			g.check(&inner, s.Value.Shape, vs, "val", "c.key("+path+", k)", false, patterns)
		}
		if inner.Len() > 0 {
			fmt.Fprintf(b, "\tfor k, val := range %s {\n\t\t_, _ = k, val\n%s\t}\n", expr, inner.String())
		}
	}
}

func (g *gen) guard(b *bytes.Buffer, expr string, ptr bool, lines []string) {
	if len(lines) == 0 {
		return
	}
	if ptr {
		fmt.Fprintf(b, "\tif %s != nil {\n", expr)
	} else {
		b.WriteString("\t{\n")
	}
	for _, l := range lines {
		fmt.Fprintf(b, "\t\t%s\n", l)
	}
	b.WriteString("\t}\n")
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

func (g *gen) ops() []byte {
	var b bytes.Buffer
	b.WriteString(header + "package wire\n\n")
	b.WriteString("// Errors lists, per served operation, the error shapes the model allows it to return;\n// clients (aws-sdk-go-v2) only recognise these.\nvar Errors = map[string][]string{\n")
	for _, op := range Served {
		var errs []string
		for _, e := range g.m.Operations[op].Errors {
			errs = append(errs, e.Shape)
		}
		sort.Strings(errs)
		fmt.Fprintf(&b, "\t%q: %#v,\n", op, errs)
	}
	b.WriteString("}\n\n// ModelOperations names every operation of the Athena model, served or not.\nvar ModelOperations = map[string]bool{\n")
	for _, op := range sortedKeys(g.m.Operations) {
		fmt.Fprintf(&b, "\t%q: true,\n", op)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func (g *gen) dispatch() []byte {
	var b bytes.Buffer
	b.WriteString(header + "package api\n\nimport (\n\t\"context\"\n\n\t\"glaux/internal/wire\"\n)\n\n")
	b.WriteString("// Service is what the API serves: one method per Athena operation.\ntype Service interface {\n")
	for _, op := range Served {
		o := g.m.Operations[op]
		fmt.Fprintf(&b, "\t%s(ctx context.Context, in *wire.%s) (*wire.%s, error)\n", op, o.Input.Shape, o.Output.Shape)
	}
	b.WriteString("}\n\n")
	b.WriteString("// restRoutes is the restJson1 request line of every operation of the model, served or\n// not, from its http traits; status is the operation's success status.\nvar restRoutes = []restRoute{\n")
	for _, op := range sortedKeys(g.rest.Operations) {
		h := g.rest.Operations[op].HTTP
		if h.Method == "" || h.RequestURI == "" {
			log.Fatalf("operation %s has no http trait in the rest model", op)
		}
		status := h.ResponseCode
		if status == 0 {
			status = 200
		}
		fmt.Fprintf(&b, "\t{op: %q, method: %q, path: %q, status: %d},\n", op, h.Method, h.RequestURI, status)
	}
	b.WriteString("}\n\n")
	b.WriteString("// decodeInput decodes and validates one operation's input. rr carries a restJson1 request's\n// path labels, query string and headers, whose members overwrite the body's; nil for AWS\n// JSON 1.1.\n")
	b.WriteString("func decodeInput(op string, body []byte, rr *restRequest) (input, error) {\n\tswitch op {\n")
	for _, op := range Served {
		o := g.m.Operations[op]
		fmt.Fprintf(&b, "\tcase %q:\n\t\tin := new(wire.%s)\n\t\tif err := decode(body, in); err != nil {\n\t\t\treturn nil, err\n\t\t}\n", op, o.Input.Shape)
		if bind := g.restBindings(op); bind != "" {
			fmt.Fprintf(&b, "\t\tif rr != nil {\n%s\t\t}\n", bind)
		}
		b.WriteString("\t\tif err := in.Validate(); err != nil {\n\t\t\treturn nil, err\n\t\t}\n\t\treturn in, nil\n")
	}
	b.WriteString("\t}\n\treturn nil, errUnknownOperation\n}\n\n")
	b.WriteString("// run calls the operation with the input decodeInput made for it.\nfunc run(ctx context.Context, svc Service, op string, in input) (any, error) {\n\tswitch op {\n")
	for _, op := range Served {
		o := g.m.Operations[op]
		fmt.Fprintf(&b, "\tcase %q:\n\t\treturn svc.%s(ctx, in.(*wire.%s))\n", op, op, o.Input.Shape)
	}
	b.WriteString("\t}\n\treturn nil, errUnknownOperation\n}\n")
	return b.Bytes()
}

// restBindings writes the statements that set an operation's input members bound to the
// path, query string or headers. Bindings glaux does not need (outputs in headers, payload
// members, non-string lists) stop the generator rather than being served wrong.
func (g *gen) restBindings(op string) string {
	ro, ok := g.rest.Operations[op]
	if !ok {
		log.Fatalf("served operation %s not in the rest model", op)
	}
	in, out := g.rest.Shapes[ro.Input.Shape], g.rest.Shapes[ro.Output.Shape]
	if in.Payload != "" || out.Payload != "" {
		log.Fatalf("%s: payload members are not supported", op)
	}
	for mn, mem := range out.Members {
		if mem.Location != "" {
			log.Fatalf("%s: output member %s bound to %s is not supported", op, mn, mem.Location)
		}
	}
	local := g.m.Shapes[g.m.Operations[op].Input.Shape]
	var b strings.Builder
	for _, mn := range sortedKeys(in.Members) {
		mem := in.Members[mn]
		if mem.Location == "" {
			continue
		}
		if _, ok := local.Members[mn]; !ok {
			log.Fatalf("%s: bound member %s is not in the served model", op, mn)
		}
		if mem.Location != "uri" && mem.Location != "querystring" && mem.Location != "header" {
			log.Fatalf("%s: member %s: location %s is not supported", op, mn, mem.Location)
		}
		name := mem.LocationName
		if name == "" {
			name = mn
		}
		field := "in." + mn
		src := fmt.Sprintf("rr.value(%q, %q)", mem.Location, name)
		switch s := g.m.Shapes[mem.Shape]; s.Type {
		case "string":
			fmt.Fprintf(&b, "\t\t\t%s = %s\n", field, src)
		case "integer", "long", "boolean":
			set := map[string]string{"integer": "setInt32", "long": "setInt64", "boolean": "setBool"}[s.Type]
			fmt.Fprintf(&b, "\t\t\tif err := %s(&%s, %q, %s); err != nil {\n\t\t\t\treturn nil, err\n\t\t\t}\n", set, field, name, src)
		case "list":
			if g.m.Shapes[s.Member.Shape].Type != "string" {
				log.Fatalf("%s: member %s: only lists of strings can be bound", op, mn)
			}
			fmt.Fprintf(&b, "\t\t\t%s = rr.values(%q, %q)\n", field, mem.Location, name)
		default:
			log.Fatalf("%s: member %s of type %s cannot be bound to %s", op, mn, s.Type, mem.Location)
		}
	}
	return b.String()
}

func write(path string, src []byte) {
	out, err := format.Source(src)
	if err != nil {
		os.WriteFile(path+".broken", src, 0o644)
		log.Fatalf("%s: %v", path, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		log.Fatal(err)
	}
}
