package athena

// A calculation's results, in one place: the three files its runner writes into the
// calculation's scratch directory (docs/runner-protocol.md), each stored as the object of
// the same name under the calculation's working directory, and result.json's schema.
const (
	StdoutFile = "stdout.txt"
	StderrFile = "stderr.txt"
	ResultFile = "result.json"
)

// ResultFiles are the three, in the order they are stored.
var ResultFiles = []string{StdoutFile, StderrFile, ResultFile}

// isResultFile reports whether name is one of ResultFiles.
func isResultFile(name string) bool {
	for _, f := range ResultFiles {
		if name == f {
			return true
		}
	}
	return false
}

// ResultDocument is result.json (version 1), as python/glaux_runner/shell.py writes it.
type ResultDocument struct {
	Version       int            `json:"version"`
	CalculationID string         `json:"calculation_id"`
	Status        string         `json:"status,omitempty"` // ok, error or aborted
	Outputs       []ResultOutput `json:"outputs"`
	Error         *ResultError   `json:"error,omitempty"` // when Status is error or aborted
}

// ResultOutput is one display output: an execute_result or display_data with its MIME bundle.
type ResultOutput struct {
	OutputType     string         `json:"output_type"`
	ExecutionCount int            `json:"execution_count,omitempty"` // of an execute_result
	Data           map[string]any `json:"data"`
	Metadata       map[string]any `json:"metadata"`
}

// ResultError is the calculation's exception.
type ResultError struct {
	EName     string   `json:"ename"`
	EValue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}
