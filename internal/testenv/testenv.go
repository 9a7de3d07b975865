// Package testenv decides what a test does when a real component it needs is missing: it
// fails, saying what is missing, unless GLAUX_SKIP names the component. Nothing is skipped
// quietly: every skip is an opt-out somebody asked for, and scripts/test lists them at the
// end of the run (docs/testing.md).
package testenv

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The components a test may need; GLAUX_SKIP takes a comma-separated list of them, or all.
const (
	Python    = "python"    // GLAUX_PYTHON, a session runtime with PySpark (every e2e test)
	Spark     = "spark"     // a real Spark driver: Java and PySpark (internal/runtime)
	Cluster   = "cluster"   // a Spark standalone cluster and versitygw (scripts/cluster-deps.sh)
	S3        = "s3"        // versitygw, an S3-compatible server (scripts/cluster-deps.sh)
	Isolation = "isolation" // root and the glaux-runner user: runners under other uids
	Root      = "root"      // root for anything else (mounting a tmpfs)
	Browser   = "browser"   // node, the page's npm packages and Chromium
	Tools     = "tools"     // the test tools' environment on PATH: the AWS CLI
	DBT       = "dbt"       // GLAUX_DBT_PYTHON, the released dbt-athena (python/requirements-dbt.txt)
	Connect35 = "connect35" // GLAUX_CONNECT35_PYTHON, a Spark Connect 3.5 client (python/requirements-connect35.txt)
)

// Known lists every component, for checking GLAUX_SKIP.
var Known = []string{Python, Spark, Cluster, S3, Isolation, Root, Browser, Tools, DBT, Connect35}

// Skipped reports whether GLAUX_SKIP opts out of component.
func Skipped(component string) bool {
	for _, c := range strings.Split(os.Getenv("GLAUX_SKIP"), ",") {
		if c = strings.TrimSpace(c); c == component || c == "all" {
			return true
		}
	}
	return false
}

// Missing is for a test that cannot run because component is missing (what says what and
// how to get it): it fails the test, or skips it when GLAUX_SKIP names the component,
// noting the skip in the file $GLAUX_SKIP_LOG if set.
func Missing(t testing.TB, component, what string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(what, args...)
	if !slices.Contains(Known, component) {
		t.Fatalf("testenv: unknown component %q (%s)", component, msg)
	}
	if !Skipped(component) {
		t.Fatalf("%s (set GLAUX_SKIP=%s to leave this test out)", msg, component)
	}
	note(t.Name(), component, msg)
	t.Skipf("GLAUX_SKIP=%s: %s", component, msg)
}

// Need skips a test whose component GLAUX_SKIP opts out of, before it looks for it; it
// returns normally otherwise, and the test goes on to find what it needs (calling Missing
// for what is not there).
func Need(t testing.TB, component string) {
	t.Helper()
	if Skipped(component) {
		note(t.Name(), component, "left out")
		t.Skipf("GLAUX_SKIP=%s", component)
	}
}

var logMu sync.Mutex

func note(test, component, msg string) {
	path := os.Getenv("GLAUX_SKIP_LOG")
	if path == "" {
		return
	}
	logMu.Lock()
	defer logMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%s\t%s\n", component, test, strings.ReplaceAll(msg, "\n", " "))
}
