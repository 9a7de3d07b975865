package athena

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glaux/internal/wire"
)

// TestSessionDepsFromTheObjectStore: s3:// URIs of spark.submit.pyFiles, spark.jars and
// spark.files (SparkProperties, else AdditionalConfigs) become local copies before the
// runner starts; other entries stay; the session's jars join the server's; a missing
// object fails the session naming it, and no runner starts.
func TestSessionDepsFromTheObjectStore(t *testing.T) {
	e := newRuntimeEnv(t, func(c *Config) { c.S3A.Jars = []string{"/c/hadoop-aws.jar"} })
	put := func(uri, content string) { mustOK(t, e.objs.Put(e.ctx, uri, strings.NewReader(content))) }
	put("s3://libs/a/dep.py", "A = 1\n")
	put("s3://libs/b/dep.py", "B = 2\n") // the same name as another: both kept
	put("s3://libs/x.jar", "jar")
	_, err := e.svc.StartSession(e.ctx, valid(t, &wire.StartSessionRequest{
		WorkGroup: refOf("spark"),
		EngineConfiguration: &wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(4)),
			SparkProperties:   map[string]string{"spark.submit.pyFiles": "s3://libs/a/dep.py, /local/keep.zip,s3://libs/b/dep.py"},
			AdditionalConfigs: map[string]string{"spark.jars": "s3://libs/x.jar", "spark.submit.pyFiles": "s3://ignored/by/SparkProperties.py"}},
	}))
	mustOK(t, err)
	r := e.rt.next(t)
	conf := r.spec.SparkConf
	py := strings.Split(conf["spark.submit.pyFiles"], ",")
	if len(py) != 3 || py[1] != " /local/keep.zip" {
		t.Fatalf("spark.submit.pyFiles = %q", conf["spark.submit.pyFiles"])
	}
	for i, want := range map[int]string{0: "A = 1\n", 2: "B = 2\n"} {
		if !strings.HasPrefix(py[i], r.spec.ScratchDir+string(filepath.Separator)) {
			t.Errorf("%s is not in the session's scratch dir %s", py[i], r.spec.ScratchDir)
		}
		if b, err := os.ReadFile(py[i]); err != nil || string(b) != want {
			t.Errorf("%s: %q %v; want %q", py[i], b, err, want)
		}
	}
	jars := strings.Split(conf["spark.jars"], ",")
	if len(jars) != 2 || jars[0] != "/c/hadoop-aws.jar" || filepath.Base(jars[1]) != "x.jar" {
		t.Errorf("spark.jars = %q; want the server's jar, then the session's local copy", conf["spark.jars"])
	}

	missing, err := e.svc.StartSession(e.ctx, valid(t, &wire.StartSessionRequest{
		WorkGroup: refOf("spark"),
		EngineConfiguration: &wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(4)),
			SparkProperties: map[string]string{"spark.files": "s3://libs/missing.txt"}},
	}))
	mustOK(t, err)
	sess := e.session(*missing.SessionId)
	if sess.State != wire.SessionStateFailed || !strings.Contains(sess.StateChangeReason, "s3://libs/missing.txt") {
		t.Errorf("a missing object: %s %q", sess.State, sess.StateChangeReason)
	}
	e.rt.none(t)
}
