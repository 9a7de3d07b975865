package athena

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"glaux/internal/wire"
)

// clusterSession stores a workgroup (with additional, if any) and returns a session of it.
func clusterSession(t *testing.T, e *testEnv, additional string, ec wire.EngineConfiguration) *Session {
	t.Helper()
	cfg := sparkConfig()
	if additional != "" {
		cfg.AdditionalConfiguration = refOf(additional)
	}
	name := "wg-" + e.ids.Next()
	e.createWorkGroup(name, cfg)
	return &Session{ID: e.ids.Next(), WorkGroup: name, EngineConfiguration: ec}
}

func TestClusterConf(t *testing.T) {
	dpus := func(max, exec int32) wire.EngineConfiguration {
		ec := wire.EngineConfiguration{MaxConcurrentDpus: refOf(max)}
		if exec > 0 {
			ec.DefaultExecutorDpuSize = refOf(exec)
		}
		return ec
	}
	clusterKeys := []string{"spark.submit.deployMode", "spark.executor.cores", "spark.executor.memory", "spark.dynamicAllocation.enabled",
		"spark.dynamicAllocation.maxExecutors", "spark.dynamicAllocation.shuffleTracking.enabled", "spark.cores.max"}
	tests := []struct {
		name       string
		master     string // --spark-master
		driverHost string // --spark-driver-host
		defaults   map[string]string
		additional string // the workgroup's AdditionalConfiguration
		ec         wire.EngineConfiguration
		want       map[string]string
		absent     []string
	}{
		{name: "local by default", ec: dpus(4, 0),
			want: map[string]string{"spark.master": "local[2]"}, absent: clusterKeys},
		{name: "local master", master: "local[*]", ec: dpus(4, 0),
			want: map[string]string{"spark.master": "local[*]"}, absent: clusterKeys},
		{name: "server standalone master on loopback", master: "spark://127.0.0.1:7077", ec: dpus(3, 0),
			want: map[string]string{
				"spark.master": "spark://127.0.0.1:7077", "spark.submit.deployMode": "client",
				"spark.executor.cores": "2", "spark.executor.memory": "1536m",
				"spark.dynamicAllocation.enabled": "true", "spark.dynamicAllocation.shuffleTracking.enabled": "true",
				"spark.dynamicAllocation.minExecutors": "0", "spark.dynamicAllocation.maxExecutors": "2",
				"spark.dynamicAllocation.executorIdleTimeout": "60s", "spark.cores.max": "4",
				"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
			}},
		{name: "executor DPU size", master: "spark://localhost:7077", ec: dpus(9, 2),
			want: map[string]string{"spark.executor.cores": "4", "spark.executor.memory": "3072m",
				"spark.dynamicAllocation.maxExecutors": "4", "spark.cores.max": "16"}},
		{name: "coordinator DPUs count", master: "spark://127.0.0.1:7077",
			ec:   wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(10)), CoordinatorDpuSize: refOf(int32(4))},
			want: map[string]string{"spark.dynamicAllocation.maxExecutors": "6"}},
		{name: "no MaxConcurrentDpus", master: "spark://127.0.0.1:7077",
			want: map[string]string{"spark.dynamicAllocation.maxExecutors": "19"}},
		{name: "workgroup master overrides the server's", master: "local[*]", additional: `{"spark.master":"spark://10.1.2.3:7077"}`, ec: dpus(4, 0),
			want:   map[string]string{"spark.master": "spark://10.1.2.3:7077", "spark.dynamicAllocation.maxExecutors": "3"},
			absent: []string{"spark.driver.host", "spark.driver.bindAddress"}},
		{name: "workgroup other keys, non-string and reserved ignored", additional: `{"spark.sql.shuffle.partitions":"7","spark.x":1,"spark.athena.y":"z","NotebookVersion":"1"}`, ec: dpus(4, 0),
			want:   map[string]string{"spark.sql.shuffle.partitions": "7", "spark.master": "local[2]"},
			absent: []string{"spark.x", "spark.athena.y", "NotebookVersion"}},
		{name: "driver host flag", master: "spark://10.1.2.3:7077,10.1.2.4:7077", driverHost: "10.1.2.1", ec: dpus(4, 0),
			want: map[string]string{"spark.driver.host": "10.1.2.1", "spark.driver.bindAddress": "10.1.2.1"}},
		{name: "server defaults win over computed values", master: "spark://127.0.0.1:7077", ec: dpus(4, 0),
			defaults: map[string]string{"spark.executor.memory": "5g", "spark.dynamicAllocation.executorIdleTimeout": "10s"},
			want:     map[string]string{"spark.executor.memory": "5g", "spark.dynamicAllocation.executorIdleTimeout": "10s", "spark.executor.cores": "2"}},
		{name: "workgroup wins over server defaults", master: "spark://127.0.0.1:7077", ec: dpus(4, 0),
			defaults:   map[string]string{"spark.master": "spark://127.0.0.1:7000"},
			additional: `{"spark.master":"spark://127.0.0.1:7001"}`,
			want:       map[string]string{"spark.master": "spark://127.0.0.1:7001"}},
		{name: "session properties win", master: "spark://127.0.0.1:7077",
			ec:   wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(4)), SparkProperties: map[string]string{"spark.executor.memory": "700m", "spark.dynamicAllocation.enabled": "false"}},
			want: map[string]string{"spark.executor.memory": "700m", "spark.dynamicAllocation.enabled": "false", "spark.cores.max": "6"}},
		{name: "session master local", master: "spark://127.0.0.1:7077",
			ec:   wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(4)), SparkProperties: map[string]string{"spark.master": "local[1]"}},
			want: map[string]string{"spark.master": "local[1]"}, absent: clusterKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.svc.cfg.CoresPerDPU, e.svc.cfg.MemoryMBPerDPU = 2, 1536
			e.svc.cfg.SparkMaster, e.svc.cfg.SparkDriverHost, e.svc.cfg.SparkDefaults = tc.master, tc.driverHost, tc.defaults
			sess := clusterSession(t, e, tc.additional, tc.ec)
			conf := e.svc.sparkConf(sess, t.TempDir())
			for k, v := range tc.want {
				if conf[k] != v {
					t.Errorf("%s = %q; want %q", k, conf[k], v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := conf[k]; ok {
					t.Errorf("%s = %q; want it unset", k, v)
				}
			}
		})
	}
}

func TestS3AConf(t *testing.T) {
	e := newTestEnv(t)
	e.svc.cfg.CoresPerDPU, e.svc.cfg.MemoryMBPerDPU = 1, 1024
	sess := clusterSession(t, e, "", wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(2))})
	if conf := e.svc.sparkConf(sess, t.TempDir()); conf["spark.jars"] != "" || conf["spark.hadoop.fs.s3a.endpoint"] != "" {
		t.Errorf("S3A configured without settings: %v", conf)
	}
	e.svc.cfg.S3A = S3AConfig{Endpoint: "http://127.0.0.1:7070", Region: "eu-west-1", PathStyle: true, AccessKey: "AK", SecretKey: "SK",
		Jars: []string{"/c/hadoop-aws-3.4.1.jar", "/c/bundle-2.24.6.jar"}}
	conf := e.svc.sparkConf(sess, t.TempDir())
	want := map[string]string{
		"spark.jars":                                   "/c/hadoop-aws-3.4.1.jar,/c/bundle-2.24.6.jar",
		"spark.hadoop.fs.s3.impl":                      "org.apache.hadoop.fs.s3a.S3AFileSystem",
		"spark.hadoop.fs.s3a.endpoint":                 "http://127.0.0.1:7070",
		"spark.hadoop.fs.s3a.endpoint.region":          "eu-west-1",
		"spark.hadoop.fs.s3a.path.style.access":        "true",
		"spark.hadoop.fs.s3a.connection.ssl.enabled":   "false",
		"spark.hadoop.fs.s3a.access.key":               "AK",
		"spark.hadoop.fs.s3a.secret.key":               "SK",
		"spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
	}
	for k, v := range want {
		if conf[k] != v {
			t.Errorf("%s = %q; want %q", k, conf[k], v)
		}
	}
	// The server's jars (the table formats') and a workgroup's come beside S3A's.
	e.svc.cfg.SparkDefaults = map[string]string{"spark.jars": "/t/iceberg.jar,/t/delta.jar"}
	sess = clusterSession(t, e, `{"spark.jars":"/w/wg.jar"}`, wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(2))})
	if got, want := e.svc.sparkConf(sess, t.TempDir())["spark.jars"], "/t/iceberg.jar,/t/delta.jar,/c/hadoop-aws-3.4.1.jar,/c/bundle-2.24.6.jar,/w/wg.jar"; got != want {
		t.Errorf("spark.jars = %q; want %q", got, want)
	}
	e.svc.cfg.SparkDefaults = nil
	e.svc.cfg.S3A.Endpoint = "https://s3.example.com"
	if conf := e.svc.sparkConf(sess, t.TempDir()); conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] != "true" {
		t.Errorf("https endpoint: ssl.enabled = %q", conf["spark.hadoop.fs.s3a.connection.ssl.enabled"])
	}
}

func TestMasterAddrs(t *testing.T) {
	for _, tc := range []struct{ master, want string }{
		{"spark://127.0.0.1:7077", "127.0.0.1:7077"},
		{"spark://h1:7077,h2", "h1:7077,h2:7077"},
		{"k8s://https://10.0.0.1:6443", "10.0.0.1:6443"},
		{"k8s://https://kube.example.com/", "kube.example.com:443"},
		{"k8s://http://[::1]", "[::1]:80"},
		{"yarn", ""},
		{"local[*]", ""},
	} {
		if got := strings.Join(masterAddrs(tc.master), ","); got != tc.want {
			t.Errorf("masterAddrs(%q) = %q; want %q", tc.master, got, tc.want)
		}
	}
	for master, want := range map[string]bool{
		"spark://127.0.0.1:7077": true, "spark://localhost:1,127.0.0.2:2": true, "k8s://https://[::1]:6443": true,
		"spark://127.0.0.1:7077,10.0.0.1:7077": false, "spark://example.com:7077": false, "yarn": false,
	} {
		if got := loopbackMaster(master); got != want {
			t.Errorf("loopbackMaster(%q) = %v; want %v", master, got, want)
		}
	}
}

// startRecorder is the runtime behind the master check: it records that Start was reached.
type startRecorder struct{ started []string }

var errRecorded = errors.New("recorded")

func (r *startRecorder) Start(_ context.Context, spec RunnerSpec, _ func(RunnerEvent)) (Runner, error) {
	r.started = append(r.started, spec.SparkConf["spark.master"])
	return nil, errRecorded
}

func TestCheckMaster(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goneAddr := gone.Addr().String()
	gone.Close() // nothing listens there now: connection refused

	rec := &startRecorder{}
	rt := CheckMaster(rec)
	start := func(master string) error {
		_, err := rt.Start(context.Background(), RunnerSpec{SparkConf: map[string]string{"spark.master": master}}, nil)
		return err
	}
	for _, master := range []string{"spark://" + up.Addr().String(), "spark://" + goneAddr + "," + up.Addr().String(), "local[1]", "k8s://https://" + goneAddr, "yarn"} {
		if err := start(master); !errors.Is(err, errRecorded) {
			t.Errorf("Start with master %s = %v; want it passed to the runtime", master, err)
		}
	}
	err = start("spark://" + goneAddr)
	if err == nil || errors.Is(err, errRecorded) {
		t.Fatalf("Start with an unreachable master = %v; want a refusal before the runtime", err)
	}
	for _, part := range []string{"spark://" + goneAddr, "unreachable", "connection refused"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	if len(rec.started) != 5 {
		t.Errorf("runtime started %d runners (%v); want 5", len(rec.started), rec.started)
	}
}
