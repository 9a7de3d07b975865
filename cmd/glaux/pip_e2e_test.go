package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"glaux/internal/objects"
)

// zipOf is a zip archive of the given files (name -> content).
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeWheel writes a pure-Python wheel of a module whose VALUE is value (built here: no
// network, no build backend) and returns its path.
func writeWheel(t testing.TB, dir, name, version string, value int) string {
	t.Helper()
	info := name + "-" + version + ".dist-info/"
	files := map[string]string{
		name + "/__init__.py": fmt.Sprintf("VALUE = %d\n", value),
		info + "METADATA":     "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n",
		info + "WHEEL":        "Wheel-Version: 1.0\nGenerator: glaux-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	}
	var record strings.Builder
	for p, c := range files {
		sum := sha256.Sum256([]byte(c))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", p, base64.RawURLEncoding.EncodeToString(sum[:]), len(c))
	}
	record.WriteString(info + "RECORD,,\n")
	files[info+"RECORD"] = record.String()
	path := filepath.Join(dir, name+"-"+version+"-py3-none-any.whl")
	if err := os.WriteFile(path, zipOf(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// venvSnapshot lists every file of the runtime environment with its size and mtime.
func venvSnapshot(t testing.TB, python string) map[string]string {
	t.Helper()
	out, err := exec.Command(python, "-c", "import sys; print(sys.prefix)").Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	snap := map[string]string{}
	err = filepath.WalkDir(strings.TrimSpace(string(out)), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		snap[p] = fmt.Sprint(info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestPipPerSession: %pip install in one session reaches its driver and its Python workers
// (a UDF imports the package), leaves the shared environment as it was and is not seen by
// another session; a bad package fails the calculation with pip's message and the session
// goes on. The other session gets Python files, a zip and a jar from the object store
// through SparkProperties and AdditionalConfigs, Athena's way.
func TestPipPerSession(t *testing.T) {
	s, session := sharedSpark(t)
	python := testPython(t)
	ctx := context.Background()
	dir := t.TempDir()
	wheel := writeWheel(t, dir, "glauxpipdemo", "1.0", 42)
	before := venvSnapshot(t, python)

	stdout := wantCompleted(t, s, session, "%pip install --no-index "+wheel+"\n"+
		"import glauxpipdemo\n"+
		"from pyspark.sql.functions import udf\n"+
		"plus = udf(lambda x: glauxpipdemo.VALUE + x, 'int')\n"+
		"print(glauxpipdemo.VALUE, [r[0] for r in spark.range(3).select(plus('id')).collect()])")
	if !strings.Contains(stdout, "Successfully installed glauxpipdemo-1.0") || !strings.Contains(stdout, "42 [42, 43, 44]") {
		t.Errorf("stdout of %%pip install and the UDF:\n%s", stdout)
	}
	after := venvSnapshot(t, python)
	for p, v := range before {
		if after[p] != v {
			t.Errorf("the shared environment changed: %s", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("the shared environment changed: %s is new", p)
		}
	}

	bad := runCalculation(t, s.Client, session, "%pip install --no-index glaux-no-such-package")
	_, stderr := wantResult(t, s, bad)
	if bad.Status.State != types.CalculationExecutionStateFailed || !strings.Contains(aws.ToString(bad.Status.StateChangeReason), "No matching distribution found for glaux-no-such-package") {
		t.Errorf("a bad package: %s %q", bad.Status.State, aws.ToString(bad.Status.StateChangeReason))
	}
	if !strings.Contains(stderr, "No matching distribution found") {
		t.Errorf("stderr of a bad package:\n%s", stderr)
	}
	if got := wantCompleted(t, s, session, "print(glauxpipdemo.VALUE + 1)"); got != "43\n" {
		t.Errorf("after a bad package the session printed %q", got)
	}

	// The other session's files, in the object backend.
	store := objects.New(filepath.Join(s.cfg.DataDir, "objects"))
	put := func(uri string, content []byte) {
		if err := store.Put(ctx, uri, bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	put("s3://glaux-deps/py/glauxdep.py", []byte("NAME = 'from a .py'\n"))
	put("s3://glaux-deps/py/glauxzipdep.zip", zipOf(t, map[string]string{"glauxzipdep/__init__.py": "NAME = 'from a zip'\n"}))
	put("s3://glaux-deps/jars/glaux-resource.jar", zipOf(t, map[string]string{"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n", "glaux-resource.txt": "a resource of a jar\n"}))
	other := startIdleSession(t, s.Client, sparkWG, func(in *athena.StartSessionInput) {
		in.EngineConfiguration.SparkProperties = map[string]string{"spark.submit.pyFiles": "s3://glaux-deps/py/glauxdep.py,s3://glaux-deps/py/glauxzipdep.zip"}
		in.EngineConfiguration.AdditionalConfigs = map[string]string{"spark.jars": "s3://glaux-deps/jars/glaux-resource.jar"}
	})
	defer s.Client.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(other)})
	stdout = wantCompleted(t, s, other, "import importlib.util, glauxdep, glauxzipdep\n"+
		"print('pip package:', importlib.util.find_spec('glauxpipdemo'))\n"+
		"def names(x):\n    import glauxdep, glauxzipdep\n    return glauxdep.NAME + ' / ' + glauxzipdep.NAME\n"+
		"print(sc.parallelize([0], 1).map(names).first())\n"+
		"loader = spark._jvm.java.lang.Thread.currentThread().getContextClassLoader()\n"+
		"print('jar resource:', loader.getResource('glaux-resource.txt') is not None)\n"+
		"print('jars:', [j for j in sc._jsc.sc().listJars().mkString(',').split(',') if 'glaux-resource' in j])")
	for _, want := range []string{"pip package: None\n", "from a .py / from a zip\n", "jar resource: True\n", "glaux-resource.jar"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the other session's stdout lacks %q:\n%s", want, stdout)
		}
	}

	// A missing object fails the session's start, saying which.
	out2, err := s.Client.StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String(sparkWG), EngineConfiguration: &types.EngineConfiguration{
		MaxConcurrentDpus: aws.Int32(2), SparkProperties: map[string]string{"spark.submit.pyFiles": "s3://glaux-deps/py/missing.py"}}})
	if err != nil {
		t.Fatal(err)
	}
	st := waitSession(t, s.Client, *out2.SessionId, 30*time.Second, types.SessionStateFailed, types.SessionStateIdle)
	if st.State != types.SessionStateFailed || !strings.Contains(aws.ToString(st.StateChangeReason), "s3://glaux-deps/py/missing.py") {
		t.Errorf("a missing pyFile: %s %q", st.State, aws.ToString(st.StateChangeReason))
	}
}
