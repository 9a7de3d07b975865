package runtime

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"glaux/internal/athena"
)

func TestMessageEvents(t *testing.T) {
	tests := []struct {
		line string
		want athena.RunnerEvent
		ok   bool
	}{
		{`{"type":"ready","spark_version":"4.0.1","app_id":"local-1","ui_url":"http://127.0.0.1:4041"}`,
			athena.RunnerEvent{Type: athena.EventReady, SparkVersion: "4.0.1", AppID: "local-1", UIURL: "http://127.0.0.1:4041"}, true},
		{`{"type":"ready","spark_version":"fake","app_id":"fake","ui_url":null}`,
			athena.RunnerEvent{Type: athena.EventReady, SparkVersion: "fake", AppID: "fake"}, true},
		{`{"type":"started","id":"c1"}`, athena.RunnerEvent{Type: athena.EventStarted, CalculationID: "c1"}, true},
		{`{"type":"progress","id":"c1","text":"stage 3: 140/200 tasks","fraction":0.7}`,
			athena.RunnerEvent{Type: athena.EventProgress, CalculationID: "c1", Progress: "stage 3: 140/200 tasks", Fraction: 0.7}, true},
		{`{"type":"done","id":"c1","status":"error","ename":"NameError","evalue":"name 'x' is not defined"}`,
			athena.RunnerEvent{Type: athena.EventDone, CalculationID: "c1", Status: "error", EName: "NameError", EValue: "name 'x' is not defined"}, true},
		{`{"type":"failed","ename":"Py4JJavaError","evalue":"boom"}`, athena.RunnerEvent{}, false},
		{`{"type":"stream","id":"c1","text":"later protocol versions"}`, athena.RunnerEvent{}, false},
	}
	for _, tc := range tests {
		m, err := decodeMessage([]byte(tc.line))
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		got, ok := m.event()
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s:\n got %+v, %v\nwant %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []string{``, `not json`, `{}`, `{"type":""}`, `[1]`} {
		if _, err := decodeMessage([]byte(bad)); err == nil {
			t.Errorf("decodeMessage(%q) succeeded", bad)
		}
	}
}

func TestEncodeCommand(t *testing.T) {
	b, err := encodeCommand(command{Type: "execute", ID: "c1", Code: "print('a\nb')", Dir: "/d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"execute","id":"c1","code":"print('a\nb')","dir":"/d"}` + "\n"; string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
	if strings.Count(string(b), "\n") != 1 {
		t.Fatal("a command must be exactly one line")
	}
	b, _ = encodeCommand(command{Type: "shutdown"})
	if string(b) != `{"type":"shutdown"}`+"\n" {
		t.Fatalf("shutdown = %s", b)
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 100)
	input := "a\n" + long + "\n\nb\nlast-without-newline"
	br := bufio.NewReaderSize(strings.NewReader(input), 16) // smaller than a line: exercises ErrBufferFull
	var got []string
	var errs []error
	for {
		line, err := readLine(br, 50)
		if len(line) > 0 || err == nil {
			got = append(got, string(line))
		}
		if err != nil {
			errs = append(errs, err)
			if errors.Is(err, errLineTooLong) {
				continue
			}
			break
		}
	}
	if want := []string{"a", "", "b", "last-without-newline"}; !slices.Equal(got, want) {
		t.Fatalf("lines = %q; want %q", got, want)
	}
	if len(errs) != 2 || !errors.Is(errs[0], errLineTooLong) || !errors.Is(errs[1], io.EOF) {
		t.Fatalf("errors = %v", errs)
	}
}

func TestFailureReason(t *testing.T) {
	if got := failureReason("Py4JJavaError", "An error occurred\n: java.net.BindException"); got != "Py4JJavaError: An error occurred\n: java.net.BindException" {
		t.Errorf("got %q", got)
	}
	if got := failureReason("", "no java"); got != "Spark failed to start: no java" {
		t.Errorf("got %q", got)
	}
	long := failureReason("E", strings.Repeat("é", 2000))
	if len(long) > maxReason || !strings.HasSuffix(long, "...") || !strings.HasPrefix(long, "E: é") {
		t.Errorf("clipped reason: %d bytes, %q...", len(long), long[:10])
	}
}

func TestRunnerEnv(t *testing.T) {
	t.Setenv("GLAUX_SECRET_PROBE", "x")
	t.Setenv("JAVA_HOME", "/opt/java")
	cfg := Config{Python: "/venv/bin/python", RunnerPath: "/src/python", Env: []string{"GLAUX_FAKE_SPARK=1", "LANG=en_US.UTF-8"}}
	env, err := runnerEnv(cfg, athena.RunnerSpec{SessionID: "s1", WorkGroup: "wg", EngineVersion: "PySpark engine version 3",
		SparkConf: map[string]string{"spark.master": "local[2]"}, ScratchDir: "/scratch/s1"})
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := vars[k]; dup {
			t.Errorf("%s set twice", k)
		}
		vars[k] = v
	}
	for k, want := range map[string]string{
		"GLAUX_SESSION_ID": "s1", "GLAUX_WORKGROUP": "wg", "GLAUX_ENGINE_VERSION": "PySpark engine version 3",
		"GLAUX_SPARK_CONF": `{"spark.master":"local[2]"}`, "PYTHONPATH": "/src/python", "PYSPARK_PYTHON": "/venv/bin/python",
		"MPLBACKEND": "Agg", "TMPDIR": "/scratch/s1/tmp", "JAVA_HOME": "/opt/java", "GLAUX_FAKE_SPARK": "1",
		"LANG": "en_US.UTF-8",
	} {
		if vars[k] != want {
			t.Errorf("%s = %q; want %q", k, vars[k], want)
		}
	}
	if _, ok := vars["GLAUX_SECRET_PROBE"]; ok {
		t.Error("glaux's own environment leaked into the runner")
	}
	if !fakeSpark(env) || fakeSpark([]string{"GLAUX_FAKE_SPARK=0"}) || fakeSpark(nil) {
		t.Error("fakeSpark misreads GLAUX_FAKE_SPARK")
	}
}
