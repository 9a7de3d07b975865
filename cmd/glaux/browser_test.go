package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"glaux/internal/testenv"
)

// browserTools finds what the browser tests run: the checkout's root, node with
// web/node_modules/playwright-core (npm ci --prefix web), and Chromium (/usr/bin/chromium
// or $CHROMIUM).
func browserTools(t *testing.T) (root, node, chromium string) {
	t.Helper()
	testenv.Need(t, testenv.Browser)
	root, _ = filepath.Abs("../..")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, testenv.Browser, "node is not installed: the browser tests need Node.js")
	}
	if _, err := os.Stat(filepath.Join(root, "web/node_modules/playwright-core")); err != nil {
		testenv.Missing(t, testenv.Browser, "web/node_modules/playwright-core is missing: run `npm ci --prefix web`")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, testenv.Browser, "Chromium is not at %s: `apt-get install -y chromium`, or set CHROMIUM", chromium)
	}
	return root, node, chromium
}

// runBrowserScript runs one of web/test's Chromium scripts with env and returns its output;
// it fails the test if the script fails or leaves no screenshot (GLAUX_SCREENSHOT=<png>
// keeps it; otherwise it goes to a temp dir as shotName).
func runBrowserScript(t *testing.T, root, node, script string, timeout time.Duration, shotName string, env ...string) string {
	t.Helper()
	shot := os.Getenv("GLAUX_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), shotName)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), env...), "GLAUX_SCREENSHOT="+shot)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	return string(out)
}
