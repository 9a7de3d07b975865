package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Running sessions beyond one machine (docs/cluster.md): a session's Spark driver always
// runs beside glaux (client deploy mode), and its executors run on the cluster its master
// URL names. Executors are sized from DPUs and come and go with dynamic allocation, bounded
// by the session's MaxConcurrentDpus. Sessions reach S3-compatible stores (s3a://) through
// Hadoop's S3A connector, configured from the same settings as glaux's own object backend.

// WorkGroupSparkPrefix marks the keys of a workgroup's AdditionalConfiguration JSON that are
// Spark properties of every session of the workgroup, e.g. {"spark.master":"spark://h:7077"}.
const WorkGroupSparkPrefix = "spark."

const (
	// defaultMaxConcurrentDPUs applies when a (pre-2023) client leaves MaxConcurrentDpus out.
	defaultMaxConcurrentDPUs = 20
	// executorIdleTimeout is how long an executor may idle before dynamic allocation gives
	// its DPUs back to the cluster (Spark's own default, made explicit).
	executorIdleTimeout = "60s"
	// masterProbeTimeout bounds the reachability check of a standalone master.
	masterProbeTimeout = 3 * time.Second
)

// S3AConfig is how sessions reach an S3-compatible store through Hadoop's S3A connector.
// The zero value configures nothing.
type S3AConfig struct {
	Endpoint  string // e.g. http://127.0.0.1:7070; "" leaves S3A on AWS's endpoints
	Region    string
	PathStyle bool
	// AccessKey and SecretKey, when set, are the credentials of every s3a:// access.
	AccessKey, SecretKey string
	// Jars put the connector on the classpath (hadoop-aws and the AWS SDK bundle);
	// they are shipped to the executors through spark.jars.
	Jars []string
}

// clusterConf is what a session's Spark needs beyond sparkConf's base: the workgroup's own
// Spark properties (AdditionalConfiguration), S3A, and, when the master is not local, the
// executors' sizing and dynamic allocation. base is the configuration so far (server
// defaults applied); what the server's SparkDefaults or the workgroup set is not replaced by
// a computed value. The session's SparkProperties are applied after it and win.
func (s *Service) clusterConf(sess *Session, base map[string]string) map[string]string {
	out := map[string]string{}
	wg := s.workGroupSparkConf(sess.WorkGroup)
	for k, v := range wg {
		out[k] = v
	}
	// A computed value gives way to one an administrator chose.
	def := func(k, v string) {
		if _, ok := s.cfg.SparkDefaults[k]; ok {
			return
		}
		if _, ok := wg[k]; ok {
			return
		}
		out[k] = v
	}
	for k, v := range s.s3aConf() {
		def(k, v)
	}
	// Jars come beside each other: the server's (table formats), S3A's, the workgroup's.
	if jars := joinJars(s.cfg.SparkDefaults["spark.jars"], strings.Join(s.cfg.S3A.Jars, ","), wg["spark.jars"]); jars != "" {
		out["spark.jars"] = jars
	}
	master := firstNonEmpty(sessionSparkProperties(&sess.EngineConfiguration)["spark.master"], wg["spark.master"], base["spark.master"])
	if master == "" || strings.HasPrefix(master, "local") {
		return out
	}

	ec := sess.EngineConfiguration
	execDPUs := int32(1)
	if ec.DefaultExecutorDpuSize != nil && *ec.DefaultExecutorDpuSize > 0 {
		execDPUs = *ec.DefaultExecutorDpuSize
	}
	maxDPUs := int32(defaultMaxConcurrentDPUs)
	if ec.MaxConcurrentDpus != nil {
		maxDPUs = *ec.MaxConcurrentDpus
	}
	// MaxConcurrentDpus holds the coordinator (the driver, here beside glaux) and the
	// executors; each executor holds DefaultExecutorDpuSize DPUs.
	maxExecutors := max(1, (maxDPUs-coordinatorDPUs(&ec))/execDPUs)
	cores := s.cfg.CoresPerDPU * int(execDPUs)
	def("spark.submit.deployMode", "client")
	def("spark.executor.cores", strconv.Itoa(cores))
	def("spark.executor.memory", strconv.Itoa(s.cfg.MemoryMBPerDPU*int(execDPUs))+"m")
	def("spark.dynamicAllocation.enabled", "true")
	def("spark.dynamicAllocation.shuffleTracking.enabled", "true")
	def("spark.dynamicAllocation.minExecutors", "0")
	def("spark.dynamicAllocation.maxExecutors", strconv.Itoa(int(maxExecutors)))
	def("spark.dynamicAllocation.executorIdleTimeout", executorIdleTimeout)
	// Standalone masters hand out cores, not executors: cap them too, so that a session
	// that turns dynamic allocation off still holds at most MaxConcurrentDpus.
	def("spark.cores.max", strconv.Itoa(int(maxExecutors)*cores))
	host := s.cfg.SparkDriverHost
	if host == "" && loopbackMaster(master) {
		host = "127.0.0.1" // a cluster on this machine reaches the driver on loopback
	}
	if host != "" {
		def("spark.driver.host", host)
		def("spark.driver.bindAddress", host)
	}
	return out
}

// joinJars joins comma-separated jar lists, leaving out empty ones.
func joinJars(lists ...string) string {
	var out []string
	for _, l := range lists {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, ",")
}

// workGroupSparkConf is the "spark.*" part of a workgroup's AdditionalConfiguration JSON
// object (string values only; the reserved "spark.athena." prefix is ignored).
func (s *Service) workGroupSparkConf(name string) map[string]string {
	var wg *WorkGroup
	err := s.store.View(context.Background(), func(tx Tx) error {
		var err error
		wg, err = tx.GetWorkGroup(name)
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.log.Warn("reading the workgroup's Spark configuration", "workgroup", name, "err", err)
		}
		return nil
	}
	if wg.Configuration.AdditionalConfiguration == nil {
		return nil
	}
	return workGroupSparkProperties(*wg.Configuration.AdditionalConfiguration)
}

// workGroupSparkProperties picks the Spark properties out of AdditionalConfiguration.
func workGroupSparkProperties(additional string) map[string]string {
	var obj map[string]any
	if err := json.Unmarshal([]byte(additional), &obj); err != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range obj {
		str, ok := v.(string)
		if !ok || !strings.HasPrefix(k, WorkGroupSparkPrefix) || strings.HasPrefix(k, "spark.athena.") {
			continue
		}
		out[k] = str
	}
	return out
}

// s3aConf configures Hadoop's S3A connector from the S3 settings.
func (s *Service) s3aConf() map[string]string {
	c := s.cfg.S3A
	out := map[string]string{}
	if len(c.Jars) > 0 {
		out["spark.jars"] = strings.Join(c.Jars, ",")
		// Athena's own Spark reads s3:// paths; S3A serves them as well as s3a://.
		out["spark.hadoop.fs.s3.impl"] = "org.apache.hadoop.fs.s3a.S3AFileSystem"
	}
	if c.Endpoint == "" && c.AccessKey == "" {
		return out
	}
	if c.Endpoint != "" {
		out["spark.hadoop.fs.s3a.endpoint"] = c.Endpoint
		out["spark.hadoop.fs.s3a.connection.ssl.enabled"] = strconv.FormatBool(!strings.HasPrefix(c.Endpoint, "http://"))
		out["spark.hadoop.fs.s3a.path.style.access"] = strconv.FormatBool(c.PathStyle)
	}
	if c.Region != "" {
		out["spark.hadoop.fs.s3a.endpoint.region"] = c.Region
	}
	if c.AccessKey != "" {
		out["spark.hadoop.fs.s3a.aws.credentials.provider"] = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
		out["spark.hadoop.fs.s3a.access.key"] = c.AccessKey
		out["spark.hadoop.fs.s3a.secret.key"] = c.SecretKey
	}
	return out
}

// masterAddrs lists the host:port pairs of a master URL: spark://h1:7077,h2:7077 (a
// standalone master, with standby masters), k8s://https://h:6443. Others give none.
func masterAddrs(master string) []string {
	var rest, defPort string
	switch {
	case strings.HasPrefix(master, "spark://"):
		rest, defPort = strings.TrimPrefix(master, "spark://"), "7077"
	case strings.HasPrefix(master, "k8s://"):
		rest = strings.TrimPrefix(master, "k8s://")
		defPort = "443"
		if after, ok := strings.CutPrefix(rest, "http://"); ok {
			rest, defPort = after, "80"
		}
		rest = strings.TrimPrefix(rest, "https://")
		rest, _, _ = strings.Cut(rest, "/")
	default:
		return nil
	}
	var out []string
	for _, hp := range strings.Split(rest, ",") {
		hp = strings.TrimSpace(hp)
		if hp == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(hp); err != nil {
			hp = net.JoinHostPort(strings.Trim(hp, "[]"), defPort)
		}
		out = append(out, hp)
	}
	return out
}

// loopbackMaster reports whether every host of the master URL is this machine's loopback.
func loopbackMaster(master string) bool {
	addrs := masterAddrs(master)
	if len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		host, _, _ := net.SplitHostPort(a)
		if host == "localhost" {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// CheckMaster wraps a Runtime so that a session whose standalone master (spark://) cannot
// be reached fails at once, with the reason, instead of after Spark's own registration
// retries (3 × 20 s, then a stopped SparkContext whose error names no cause).
func CheckMaster(rt Runtime) Runtime { return masterCheck{rt: rt, timeout: masterProbeTimeout} }

type masterCheck struct {
	rt      Runtime
	timeout time.Duration
}

func (m masterCheck) Start(ctx context.Context, spec RunnerSpec, sink func(RunnerEvent)) (Runner, error) {
	master := spec.SparkConf["spark.master"]
	if strings.HasPrefix(master, "spark://") {
		if err := probe(ctx, masterAddrs(master), m.timeout); err != nil {
			return nil, fmt.Errorf("the Spark master %s is unreachable (%v); check --spark-master or the workgroup's spark.master", master, err)
		}
	}
	return m.rt.Start(ctx, spec, sink)
}

// probe succeeds when any of addrs accepts a TCP connection within timeout.
func probe(ctx context.Context, addrs []string, timeout time.Duration) error {
	if len(addrs) == 0 {
		return errors.New("the URL names no host")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	var errs []string
	for _, a := range addrs {
		c, err := d.DialContext(ctx, "tcp", a)
		if err == nil {
			c.Close()
			return nil
		}
		errs = append(errs, err.Error())
	}
	return errors.New(strings.Join(errs, "; "))
}
