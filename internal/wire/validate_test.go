package wire

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// The validators are tested from the model itself: for every served operation, a request
// with only its required members (each with a valid value) passes; then, for every member
// reachable through structures, each constraint the model gives it (required, length,
// enum, pattern, range, items) is broken in turn, and Validate must report exactly that
// member and that rule in AWS's words. So a constraint the generator misses, or checks at
// the wrong path, fails here.

// modelPaths are where the service model is: the copy in the tree, else the shared spec
// next to the checkout (as internal/wire/gen's usage says).
var modelPaths = []string{"model/athena-service-2.json", "../../../shared/spec/athena-service-2.json"}

type modelRef struct {
	Shape string `json:"shape"`
}

type modelShape struct {
	Type     string              `json:"type"`
	Members  map[string]modelRef `json:"members"`
	Required []string            `json:"required"`
	Member   *modelRef           `json:"member"`
	Min      *float64            `json:"min"`
	Max      *float64            `json:"max"`
	Pattern  string              `json:"pattern"`
	Enum     []string            `json:"enum"`
}

type serviceModel struct {
	Operations map[string]struct {
		Input modelRef `json:"input"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

// inputs are the served operations' request types.
var inputs = map[string]any{
	"CreateWorkGroup": &CreateWorkGroupInput{}, "GetWorkGroup": &GetWorkGroupInput{}, "UpdateWorkGroup": &UpdateWorkGroupInput{},
	"ListWorkGroups": &ListWorkGroupsInput{}, "DeleteWorkGroup": &DeleteWorkGroupInput{}, "ListEngineVersions": &ListEngineVersionsInput{},
	"TagResource": &TagResourceInput{}, "UntagResource": &UntagResourceInput{}, "ListTagsForResource": &ListTagsForResourceInput{},
	"CreateNotebook": &CreateNotebookInput{}, "ImportNotebook": &ImportNotebookInput{}, "ExportNotebook": &ExportNotebookInput{},
	"UpdateNotebook": &UpdateNotebookInput{}, "UpdateNotebookMetadata": &UpdateNotebookMetadataInput{},
	"GetNotebookMetadata": &GetNotebookMetadataInput{}, "ListNotebookMetadata": &ListNotebookMetadataInput{},
	"DeleteNotebook": &DeleteNotebookInput{}, "ListNotebookSessions": &ListNotebookSessionsRequest{},
	"CreatePresignedNotebookUrl": &CreatePresignedNotebookUrlRequest{}, "ListApplicationDPUSizes": &ListApplicationDPUSizesInput{},
	"StartSession": &StartSessionRequest{}, "GetSession": &GetSessionRequest{}, "GetSessionStatus": &GetSessionStatusRequest{},
	"ListSessions": &ListSessionsRequest{}, "TerminateSession": &TerminateSessionRequest{},
	"StartCalculationExecution": &StartCalculationExecutionRequest{}, "GetCalculationExecution": &GetCalculationExecutionRequest{},
	"GetCalculationExecutionStatus": &GetCalculationExecutionStatusRequest{}, "GetCalculationExecutionCode": &GetCalculationExecutionCodeRequest{},
	"ListCalculationExecutions": &ListCalculationExecutionsRequest{}, "StopCalculationExecution": &StopCalculationExecutionRequest{},
	"ListExecutors":        &ListExecutorsRequest{},
	"GetResourceDashboard": &GetResourceDashboardRequest{},
	"StartQueryExecution":  &StartQueryExecutionInput{}, "GetQueryExecution": &GetQueryExecutionInput{},
	"GetQueryResults": &GetQueryResultsInput{}, "StopQueryExecution": &StopQueryExecutionInput{},
	"GetSessionEndpoint": &GetSessionEndpointRequest{},
}

// patternSamples are, per string shape with a pattern, a value it accepts and one it refuses.
var patternSamples = map[string][2]string{
	"AwsAccountId":              {"123456789012", "12345678901a"},
	"CatalogNameString":         {"AwsDataCatalog", "a\x01b"},
	"QueryExecutionId":          {"0b9f8a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "a b"},
	"ClientRequestToken":        {"0b9f8a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "0B9F8A3E-1C2D-4E5F-8A9B-0C1D2E3F4A5B"},
	"IdentityCenterInstanceArn": {"arn:aws:sso:::instance/ssoins-0123456789abcdef", "arn:aws:sso:::instance/ins-short"},
	"KeyString":                 {"key", "a\x01b"},
	"KmsKey":                    {"alias/glaux", "not a key"},
	"LogGroupName":              {"/aws/athena", "a b"},
	"LogStreamNamePrefix":       {"glaux", "a:b"},
	"NotebookId":                {"0b9f8a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "NOT-A-UUID"},
	"NotebookName":              {"My notebook", "a/b"},
	"RoleArn":                   {"arn:aws:iam::123456789012:role/glaux", "arn:aws:iam::123:role/glaux-short-account"},
	"S3OutputLocation":          {"s3://bucket/prefix/", "s3://Bucket/"},
	"S3Uri":                     {"s3://bucket/key", "ftp://bucket/key"},
	"WorkGroupName":             {"primary", "a b"},
}

func loadModel(t *testing.T) *serviceModel {
	t.Helper()
	for _, p := range modelPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var m serviceModel
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return &m
	}
	t.Fatalf("the Athena service model is in none of %v", modelPaths)
	return nil
}

// wirePath is a member's name in a validation message: lower camel case.
func wirePath(path, member string) string {
	r := []rune(member)
	r[0] = unicode.ToLower(r[0])
	if path == "" {
		return string(r)
	}
	return path + "." + string(r)
}

type builder struct {
	t *testing.T
	m *serviceModel
}

// valid sets v (of model shape name) to a value meeting every constraint, with only the
// required members of structures.
func (b *builder) valid(v reflect.Value, name string, depth int) {
	s := b.m.Shapes[name]
	if v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch s.Type {
	case "structure":
		if depth > 8 {
			b.t.Fatalf("shape %s nests too deep", name)
		}
		for _, m := range s.Required {
			b.valid(b.field(v, m), s.Members[m].Shape, depth+1)
		}
	case "string":
		v.SetString(b.validString(name, s))
	case "integer", "long":
		n := int64(1)
		if s.Min != nil {
			n = int64(*s.Min)
		}
		v.SetInt(n)
	case "boolean":
		v.SetBool(true)
	case "list":
		n := 1
		if s.Min != nil {
			n = max(int(*s.Min), 1)
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			b.valid(v.Index(i), s.Member.Shape, depth+1)
		}
	case "map":
		v.Set(reflect.MakeMap(v.Type()))
	default:
		b.t.Fatalf("shape %s: type %s", name, s.Type)
	}
}

func (b *builder) validString(name string, s modelShape) string {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Pattern != "" {
		sample, ok := patternSamples[name]
		if !ok {
			b.t.Fatalf("string shape %s has pattern %q: add a valid and an invalid sample to patternSamples", name, s.Pattern)
		}
		return sample[0]
	}
	n := 1
	if s.Min != nil {
		n = max(int(*s.Min), 1)
	}
	return strings.Repeat("x", n)
}

func (b *builder) field(v reflect.Value, member string) reflect.Value {
	f := v.FieldByName(member)
	if !f.IsValid() {
		b.t.Fatalf("%s has no field %s", v.Type(), member)
	}
	return f
}

// breach is one broken constraint: what to do to a valid request, and the message it
// must cause.
type breach struct {
	name  string
	apply func()
	want  string
}

// breaches lists, for the struct of shape name at path (what get returns, once reset made
// the request valid), every constraint of its members broken in turn.
func (b *builder) breaches(get func() reflect.Value, name, path string, reset func(), depth int) []breach {
	s := b.m.Shapes[name]
	var out []breach
	for member, ref := range s.Members {
		ms := b.m.Shapes[ref.Shape]
		p := wirePath(path, member)
		f := func() reflect.Value { return b.field(get(), member) }
		msg := func(rule string) string {
			return fmt.Sprintf("at '%s' failed to satisfy constraint: Member must %s", p, rule)
		}
		set := func(x any) func() {
			return func() { b.valid(f(), ref.Shape, depth+1); b.assign(f(), x) }
		}
		if contains(s.Required, member) {
			out = append(out, breach{p + " missing", func() { f().Set(reflect.Zero(f().Type())) }, msg("not be null")})
		}
		switch ms.Type {
		case "string":
			if ms.Min != nil && *ms.Min > 0 {
				out = append(out, breach{p + " too short", set(strings.Repeat("x", int(*ms.Min)-1)), msg(fmt.Sprintf("have length greater than or equal to %d", int(*ms.Min)))})
			}
			if ms.Max != nil {
				out = append(out, breach{p + " too long", set(strings.Repeat("x", int(*ms.Max)+1)), msg(fmt.Sprintf("have length less than or equal to %d", int(*ms.Max)))})
			}
			if len(ms.Enum) > 0 {
				out = append(out, breach{p + " not in the enum", set("NOT_A_MEMBER_OF_THE_ENUM"), msg("satisfy enum value set")})
			}
			if ms.Pattern != "" {
				b.validString(ref.Shape, ms) // fails without samples
				out = append(out, breach{p + " against the pattern", set(patternSamples[ref.Shape][1]), msg("satisfy regular expression pattern")})
			}
		case "integer", "long":
			if ms.Min != nil {
				out = append(out, breach{p + " too small", set(int64(*ms.Min) - 1), msg(fmt.Sprintf("have value greater than or equal to %d", int64(*ms.Min)))})
			}
			if ms.Max != nil {
				out = append(out, breach{p + " too large", set(int64(*ms.Max) + 1), msg(fmt.Sprintf("have value less than or equal to %d", int64(*ms.Max)))})
			}
		case "list":
			if ms.Max != nil {
				n := int(*ms.Max) + 1
				out = append(out, breach{p + " too many items", func() {
					b.valid(f(), ref.Shape, depth+1)
					item := reflect.New(f().Type().Elem()).Elem()
					b.valid(item, ms.Member.Shape, depth+1)
					l := reflect.MakeSlice(f().Type(), n, n)
					for i := range n {
						l.Index(i).Set(item)
					}
					f().Set(l)
				}, msg(fmt.Sprintf("have length less than or equal to %d", n-1))})
			}
		case "structure":
			// Its own members' constraints, with the structure present and valid.
			inner := func() reflect.Value {
				x := f()
				if x.Kind() == reflect.Pointer {
					return x.Elem()
				}
				return x
			}
			present := func() { reset(); b.valid(f(), ref.Shape, depth+1) }
			for _, in := range b.breaches(inner, ref.Shape, p, present, depth+1) {
				apply := in.apply
				out = append(out, breach{in.name, func() { present(); apply() }, in.want})
			}
		}
	}
	return out
}

// assign stores a string or an integer into a (pointer to a) string or integer field.
func (b *builder) assign(f reflect.Value, x any) {
	if f.Kind() == reflect.Pointer {
		f = f.Elem()
	}
	switch x := x.(type) {
	case string:
		f.SetString(x)
	case int64:
		f.SetInt(x)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestValidatorsFromTheModel(t *testing.T) {
	m := loadModel(t)
	if len(inputs) != len(Errors) {
		t.Errorf("%d request types for %d served operations", len(inputs), len(Errors))
	}
	checked := 0
	for op := range Errors {
		in, ok := inputs[op]
		if !ok {
			t.Errorf("no request type for %s", op)
			continue
		}
		shape := m.Operations[op].Input.Shape
		if got := reflect.TypeOf(in).Elem().Name(); got != shape {
			t.Errorf("%s takes %s, the model says %s", op, got, shape)
			continue
		}
		t.Run(op, func(t *testing.T) {
			b := &builder{t: t, m: m}
			v := reflect.New(reflect.TypeOf(in).Elem())
			reset := func() { v.Elem().Set(reflect.Zero(v.Elem().Type())); b.valid(v.Elem(), shape, 0) }
			reset()
			validate := func() error { return v.Interface().(interface{ Validate() error }).Validate() }
			if err := validate(); err != nil {
				t.Fatalf("a request with its required members only: %v", err)
			}
			for _, br := range b.breaches(v.Elem, shape, "", reset, 0) {
				reset()
				br.apply()
				err := validate()
				if err == nil || !strings.Contains(err.Error(), br.want) {
					t.Errorf("%s: Validate() = %v\nwant a problem %q", br.name, err, br.want)
				}
				checked++
			}
		})
	}
	t.Logf("%d broken constraints checked", checked)
}

// The message is AWS's: the count, then each problem in member order, the value quoted and
// cut at 64 runes.
func TestValidationMessage(t *testing.T) {
	long := strings.Repeat("é", 1025)
	err := (&StartSessionRequest{Description: &long}).Validate()
	want := "3 validation errors detected: " +
		"Value '" + strings.Repeat("é", 64) + "...' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024; " +
		"Value null at 'engineConfiguration' failed to satisfy constraint: Member must not be null; " +
		"Value null at 'workGroup' failed to satisfy constraint: Member must not be null"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
	ok := strings.Repeat("é", 1024) // runes, not bytes, are counted
	wg := "primary"
	if err := (&StartSessionRequest{Description: &ok, WorkGroup: &wg, EngineConfiguration: &EngineConfiguration{MaxConcurrentDpus: new(int32(2))}}).Validate(); err != nil {
		t.Errorf("1024 two-byte runes: %v", err)
	}
}
