package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"glaux/internal/athena"
)

// runnerEnv builds the runner's environment; later entries win, so cfg.Env can override.
func runnerEnv(cfg Config, spec athena.RunnerSpec) ([]string, error) {
	conf := spec.SparkConf
	if conf == nil {
		conf = map[string]string{}
	}
	confJSON, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin:/bin",
		"LANG": "C.UTF-8",
	}
	// Only these come from glaux's own environment: user code runs in the runner, so
	// anything else (credentials, tokens) must not leak into it.
	for _, k := range []string{"PATH", "HOME", "USER", "LOGNAME", "JAVA_HOME", "LANG", "LC_ALL", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	vars["TMPDIR"] = filepath.Join(spec.ScratchDir, "tmp")
	vars["GLAUX_SESSION_ID"] = spec.SessionID
	vars["GLAUX_WORKGROUP"] = spec.WorkGroup
	vars["GLAUX_ENGINE_VERSION"] = spec.EngineVersion
	vars["GLAUX_SPARK_CONF"] = string(confJSON)
	vars["MPLBACKEND"] = "Agg"
	vars["PYSPARK_PYTHON"] = cfg.Python
	vars["PYTHONUNBUFFERED"] = "1" // runner.log should show a crash's last words
	if cfg.RunnerPath != "" {
		vars["PYTHONPATH"] = cfg.RunnerPath
	}
	for _, kv := range cfg.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			vars[k] = v
		}
	}
	for k, v := range spec.Env {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env, nil
}

// fakeSpark reports whether env runs the runner without Spark (and so without a UI).
func fakeSpark(env []string) bool {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GLAUX_FAKE_SPARK="); ok {
			return v != "" && v != "0"
		}
	}
	return false
}
