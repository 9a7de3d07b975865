// The Spark configuration a session's driver starts with.
package athena

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// sparkConf is the Spark configuration of a session: server defaults, DPU sizing, then the
// user's SparkProperties, which win.
func (s *Service) sparkConf(sess *Session, scratch string) map[string]string {
	conf := s.baseSparkConf(sess, scratch)
	for k, v := range sessionSparkProperties(&sess.EngineConfiguration) { // deps.go
		if k == "spark.jars" && conf[k] != "" {
			v = conf[k] + "," + v // the session's jars come beside the server's (S3A), not instead
		}
		conf[k] = v
	}
	return conf
}

// baseSparkConf is a session's Spark configuration before its own SparkProperties.
func (s *Service) baseSparkConf(sess *Session, scratch string) map[string]string {
	conf := map[string]string{
		"spark.master":                 s.cfg.SparkMaster,
		"spark.app.name":               "glaux-" + sess.ID,
		"spark.driver.memory":          strconv.Itoa(s.cfg.MemoryMBPerDPU) + "m",
		"spark.driver.cores":           strconv.Itoa(s.cfg.CoresPerDPU),
		"spark.ui.enabled":             "true",
		"spark.ui.port":                "0",
		"spark.ui.showConsoleProgress": "false",
		// One warehouse for the installation: a warm runner cannot move it (a static conf).
		"spark.sql.warehouse.dir":       filepath.Join(s.cfg.ScratchDir, "warehouse"),
		"spark.driver.extraJavaOptions": "-Dderby.system.home=" + filepath.Join(scratch, "derby"),
		// Java ignores TMPDIR: keep Spark's shuffle and temp files in the session's scratch.
		"spark.local.dir": filepath.Join(scratch, "spark-local"),
	}
	if conf["spark.master"] == "" {
		conf["spark.master"] = fmt.Sprintf("local[%d]", max(1, s.cfg.CoresPerDPU))
	}
	for k, v := range s.cfg.SparkDefaults {
		conf[k] = v
	}
	for k, v := range s.clusterConf(sess, conf) { // workgroup, cluster executors, S3A: cluster.go
		conf[k] = v
	}
	return conf
}

// withEnv returns env (nil allowed) with key set to value.
func withEnv(env map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for k, v := range env {
		out[k] = v
	}
	out[key] = value
	return out
}

// localSparkEnv keeps a local-mode driver on loopback: its RPC and UI otherwise bind every
// interface (Spark reads the UI's address from SPARK_LOCAL_IP only). A cluster session's
// driver must be reachable by the workers, so it is left to the cluster settings.
func localSparkEnv(conf map[string]string) map[string]string {
	if strings.HasPrefix(conf["spark.master"], "local") {
		return map[string]string{"SPARK_LOCAL_IP": "127.0.0.1"}
	}
	return nil
}
