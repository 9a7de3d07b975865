package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"testing"

	"glaux/internal/wire"
)

// servedOps are the operations call serves, sorted.
func servedOps() []string {
	ops := make([]string, 0, len(wire.Errors))
	for op := range wire.Errors {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// TestInputsCoverServedOps keeps authorization's input table in step with the served
// operations: every served operation has an entry, of the type the Service method takes.
func TestInputsCoverServedOps(t *testing.T) {
	svc := reflect.TypeOf((*Service)(nil)).Elem()
	for _, op := range servedOps() {
		newIn, ok := inputs[op]
		if !ok {
			t.Errorf("inputs has no entry for served operation %s", op)
			continue
		}
		m, ok := svc.MethodByName(op)
		if !ok {
			t.Errorf("Service has no method %s", op)
			continue
		}
		if got, want := reflect.TypeOf(newIn()), m.Type.In(1); got != want {
			t.Errorf("inputs[%s] makes %v, Service.%s takes %v", op, got, op, want)
		}
	}
	for op := range inputs {
		if _, served := wire.Errors[op]; !served {
			t.Errorf("inputs has an entry for %s, which is not served", op)
		}
	}
}

func decodeValidate(op string, in input, body []byte) error {
	if err := decode(body, in); err != nil {
		return err
	}
	return in.Validate()
}

// FuzzDecodeValidate feeds every served operation's decoder and validator the same body:
// neither may panic, and the only errors are a SerializationException for what is not the
// operation's JSON and a ValidationError for what breaks the model. An accepted input must
// survive its own encoding (what glaux accepts, it can also read back).
func FuzzDecodeValidate(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"WorkGroup":"primary"}`, `{"WorkGroup":7}`, `{"WorkGroup":""}`,
		`{"SessionId":"11111111-2222-4333-8444-555555555555"}`, `{"SessionId":null}`,
		`{"CalculationExecutionId":"c","MaxResults":5,"NextToken":"t"}`, `{"MaxResults":-1}`, `{"MaxResults":1e100}`,
		`{"Name":"wg","Configuration":{"EngineVersion":{"SelectedEngineVersion":"PySpark engine version 3"},"ExecutionRole":"arn:aws:iam::123456789012:role/r"},"Tags":[{"Key":"k","Value":"v"}]}`,
		`{"WorkGroup":"primary","EngineConfiguration":{"MaxConcurrentDpus":2,"SparkProperties":{"a":"b"},"AdditionalConfigs":{"NotebookId":"n"}}}`,
		`{"SessionId":"s","CodeBlock":"print(1)","CalculationConfiguration":{"CodeBlock":"x"}}`,
		`{"ResourceARN":"arn:aws:athena:us-east-1:123456789012:workgroup/primary","TagKeys":["a"],"Tags":[{"Key":"aws:x"}]}`,
		`{"WorkGroup":"primary","Name":"nb","Payload":"{}","Type":"IPYNB","NotebookS3LocationUri":"s3://b/k"}`,
		`{"Filters":{"Name":"x"},"WorkGroup":"w"}`, `{"StateFilter":"IDLE","ExecutorStateFilter":"FAILED"}`,
		`{"WorkGroup":"primary","WorkGroup":"other"}`, `{"workgroup":"lower case member"}`, "{\"WorkGroup\":\"\\ud800\"}",
		`{"Tags":[null,{}]}`, `{"EngineConfiguration":{"SparkProperties":{"":""}}}`, `{"Description":"` + "\xff" + `"}`,
	} {
		f.Add([]byte(seed))
	}
	ops := servedOps()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range ops {
			in := inputs[op]()
			err := decodeValidate(op, in, body)
			if err == nil {
				b, merr := json.Marshal(in)
				if merr != nil {
					t.Fatalf("%s: accepted %q but cannot encode it: %v", op, body, merr)
				}
				again := inputs[op]()
				if err := decodeValidate(op, again, b); err != nil {
					t.Fatalf("%s: accepted %q but not its encoding %s: %v", op, body, b, err)
				}
				continue
			}
			var ae *apiError
			var ve *wire.ValidationError
			switch {
			case errors.As(err, &ae):
				if ae.Type != "SerializationException" || ae.status != http.StatusBadRequest || ae.Message == "" {
					t.Fatalf("%s: decode error %+v", op, ae)
				}
			case errors.As(err, &ve):
				if len(ve.Problems) == 0 {
					t.Fatalf("%s: a ValidationError without problems for %q", op, body)
				}
			default:
				t.Fatalf("%s: untyped error %T: %v", op, err, err)
			}
		}
	})
}
