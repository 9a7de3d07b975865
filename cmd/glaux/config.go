package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"glaux/internal/catalog"
)

// Config is everything `glaux serve` is told by flags and environment variables; a flag
// wins over its variable, which wins over the default.
type Config struct {
	Addr           string
	DataDir        string
	Region         string
	AccountID      string
	Credentials    map[string]string // access key id -> secret
	Python         string
	SparkMaster    string
	CoresPerDPU    int
	MemoryMBPerDPU int
	MaxSessions    int
	MaxDPUs        int
	QueueDepth     int
	WarmPool       int // runners kept warm for StartSession
	OutputLocation string
	SparkStart     time.Duration
	LogLevel       string
	FakeSpark      bool
	// Cluster and S3-compatible stores (docs/cluster.md).
	SparkDriverHost string // address the cluster's executors reach session drivers at
	Objects         string // object backend: "dir" (default, under DataDir) or "s3"
	S3Endpoint      string // --objects s3: the store's URL ("" = AWS S3)
	S3Region        string
	S3PathStyle     bool
	S3AccessKey     string
	S3SecretKey     string
	S3AJars         string // directory of the S3A connector's jars (scripts/cluster-deps.sh)
	// S3Addr serves the dir backend's objects over S3, read-only ("" disables); serve
	// replaces a :0 port with the bound one.
	S3Addr string
	// S3AddrSet says --s3-addr or GLAUX_S3_ADDR was given: then failing to bind it is fatal.
	S3AddrSet bool
	// Security (docs/security.md).
	PolicyFile string // principals' IAM-style policies; "" lets every valid key do everything
	RunnerUser string // OS user whose subordinate ids runners run as; "" runs them as glaux's user
	// Table catalog (docs/catalog.md). parseConfig defaults Catalog to "derby"; a Config made
	// in code with Catalog "" gets the per-session in-memory catalog.
	Catalog     string // derby, memory, or hive (an external metastore at CatalogURI)
	CatalogURI  string // thrift://host:port of an external Hive metastore
	CatalogPort int    // port of the embedded metastore database on 127.0.0.1; 0: a free one
	CatalogJars string // directory of derbynet and derbyclient (scripts/cluster-deps.sh catalog)
	TableJars   string // directory of the Iceberg and Delta jars (scripts/cluster-deps.sh tables); "": neither format
	Warehouse   string // where managed tables live; "": <data-dir>/warehouse, s3a://<results bucket>/warehouse/ with --objects s3
	// TLS on the listener (docs/connect.md): both or neither; without them it serves
	// plaintext HTTP/1.1 and h2c.
	TLSCert string
	TLSKey  string
	// PublicURL is glaux's address as clients reach it (scheme://host[:port]), put in the
	// URLs it hands out: presigned notebooks, Spark UI dashboards, Spark Connect endpoints.
	// "": the listener's own address.
	PublicURL string
}

// defaultCacheDir is where scripts/cluster-deps.sh puts what it fetches.
func defaultCacheDir() string {
	if d := os.Getenv("GLAUX_CACHE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/cache/glaux" // as scripts/pyenv.sh: reachable by the runner user
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".glaux-cache"
	}
	return filepath.Join(home, ".cache", "glaux")
}

// defaultPython is the interpreter of the newest complete session-runtime environment
// scripts/pyenv.sh built in the cache (its marker names python/requirements.txt alone: PySpark
// and IPython, no test tools), else python3 from PATH.
func defaultPython() string {
	best, bestTime := "python3", time.Time{}
	markers, _ := filepath.Glob(filepath.Join(defaultCacheDir(), "venv-*", ".glaux-complete"))
	for _, m := range markers {
		fi, err := os.Stat(m)
		if err != nil || !fi.ModTime().After(bestTime) {
			continue
		}
		if holds, err := os.ReadFile(m); err != nil || strings.TrimSpace(string(holds)) != "requirements.txt" {
			continue
		}
		py := filepath.Join(filepath.Dir(m), "bin", "python")
		if _, err := os.Stat(py); err == nil {
			best, bestTime = py, fi.ModTime()
		}
	}
	return best
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "glaux")
	}
	if os.Geteuid() == 0 {
		return "/var/lib/glaux" // runners (another user) must be able to pass through it
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".glaux"
	}
	return filepath.Join(home, ".local", "share", "glaux")
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// parseConfig reads serve's flags; each also has a GLAUX_* environment variable.
func parseConfig(args []string) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", env("GLAUX_ADDR", "127.0.0.1:4477"), "listen address (GLAUX_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("GLAUX_DATA_DIR", defaultDataDir()), "where the database, result objects and session scratch live (GLAUX_DATA_DIR)")
	fs.StringVar(&c.Region, "region", env("GLAUX_REGION", "us-east-1"), "region used in ARNs (GLAUX_REGION)")
	fs.StringVar(&c.AccountID, "account-id", env("GLAUX_ACCOUNT_ID", "123456789012"), "12-digit account id used in ARNs (GLAUX_ACCOUNT_ID)")
	creds := fs.String("credentials", env("GLAUX_CREDENTIALS", ""), "access keys as AKID:SECRET[,AKID:SECRET...] (GLAUX_CREDENTIALS)")
	credFile := fs.String("credentials-file", env("GLAUX_CREDENTIALS_FILE", ""), "file with one AKID:SECRET per line (GLAUX_CREDENTIALS_FILE)")
	fs.StringVar(&c.Python, "python", env("GLAUX_PYTHON", defaultPython()), "Python interpreter with pyspark and ipython for session runners (GLAUX_PYTHON)")
	fs.StringVar(&c.SparkMaster, "spark-master", env("GLAUX_SPARK_MASTER", ""), "Spark master URL; empty runs Spark in local mode (GLAUX_SPARK_MASTER)")
	fs.IntVar(&c.CoresPerDPU, "cores-per-dpu", envInt("GLAUX_CORES_PER_DPU", 1), "CPU cores one DPU stands for (GLAUX_CORES_PER_DPU)")
	fs.IntVar(&c.MemoryMBPerDPU, "memory-per-dpu", envInt("GLAUX_MEMORY_PER_DPU", 1024), "memory in MiB one DPU stands for (GLAUX_MEMORY_PER_DPU)")
	fs.IntVar(&c.MaxSessions, "max-sessions", envInt("GLAUX_MAX_SESSIONS", 4), "active sessions at most; 0 for no cap (GLAUX_MAX_SESSIONS)")
	fs.IntVar(&c.MaxDPUs, "max-dpus", envInt("GLAUX_MAX_DPUS", 0), "DPUs held by active sessions at most; 0 for no cap (GLAUX_MAX_DPUS)")
	fs.IntVar(&c.WarmPool, "warm-pool", envInt("GLAUX_WARM_POOL", 1), "runners kept with Spark started, ready for the next StartSession; 0 disables the pool (GLAUX_WARM_POOL)")
	fs.IntVar(&c.QueueDepth, "queue-depth", envInt("GLAUX_QUEUE_DEPTH", 100), "calculations that may queue behind a running one, per session (GLAUX_QUEUE_DEPTH)")
	fs.StringVar(&c.OutputLocation, "default-output-location", env("GLAUX_DEFAULT_OUTPUT_LOCATION", "s3://glaux-results/"), "results location of workgroups without one (GLAUX_DEFAULT_OUTPUT_LOCATION)")
	fs.DurationVar(&c.SparkStart, "spark-start-timeout", 3*time.Minute, "how long a session's Spark may take to start")
	fs.StringVar(&c.LogLevel, "log-level", env("GLAUX_LOG_LEVEL", "info"), "debug, info, warn or error (GLAUX_LOG_LEVEL)")
	fs.BoolVar(&c.FakeSpark, "fake-spark", env("GLAUX_FAKE_SPARK", "") == "1", "run session runners without Spark (protocol tests only)")
	// Cluster and S3-compatible stores (docs/cluster.md).
	fs.StringVar(&c.SparkDriverHost, "spark-driver-host", env("GLAUX_SPARK_DRIVER_HOST", ""), "address a Spark cluster's executors reach session drivers at; empty: 127.0.0.1 for a master on loopback, else Spark's choice (GLAUX_SPARK_DRIVER_HOST)")
	fs.StringVar(&c.Objects, "objects", env("GLAUX_OBJECTS", "dir"), "object backend: dir (under --data-dir) or s3 (an S3-compatible store, see --s3-*) (GLAUX_OBJECTS)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", env("GLAUX_S3_ENDPOINT", ""), "S3-compatible store URL for --objects s3, e.g. http://127.0.0.1:7070; empty: AWS S3 (GLAUX_S3_ENDPOINT)")
	fs.StringVar(&c.S3Region, "s3-region", env("GLAUX_S3_REGION", "us-east-1"), "region the S3 store signs with (GLAUX_S3_REGION)")
	fs.BoolVar(&c.S3PathStyle, "s3-path-style", env("GLAUX_S3_PATH_STYLE", "") == "1" || env("GLAUX_S3_PATH_STYLE", "") == "true", "path-style S3 addressing (endpoint/bucket/key), which most self-hosted stores need (GLAUX_S3_PATH_STYLE=1)")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", env("GLAUX_S3_ACCESS_KEY", os.Getenv("AWS_ACCESS_KEY_ID")), "access key of the S3 store (GLAUX_S3_ACCESS_KEY, else AWS_ACCESS_KEY_ID)")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", env("GLAUX_S3_SECRET_KEY", os.Getenv("AWS_SECRET_ACCESS_KEY")), "secret key of the S3 store (GLAUX_S3_SECRET_KEY, else AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&c.S3AJars, "s3a-jars", env("GLAUX_S3A_JARS", filepath.Join(defaultCacheDir(), "jars")), "directory whose jars (hadoop-aws and the AWS SDK bundle, fetched by scripts/cluster-deps.sh) give sessions s3:// and s3a:// with --objects s3 (GLAUX_S3A_JARS)")
	fs.StringVar(&c.S3Addr, "s3-addr", env("GLAUX_S3_ADDR", "127.0.0.1:4479"), "listen address serving the dir backend's objects over S3, read-only; empty disables (GLAUX_S3_ADDR)")
	// Security (docs/security.md).
	fs.StringVar(&c.PolicyFile, "policy-file", env("GLAUX_POLICY_FILE", ""), "JSON file of principals: their access keys and IAM-style policies; without it every valid key may do everything (GLAUX_POLICY_FILE)")
	fs.StringVar(&c.RunnerUser, "runner-user", env("GLAUX_RUNNER_USER", defaultRunnerUser()), "OS user session runners run as, each under subordinate ids of its own (glaux must run as root); default glaux-runner when glaux runs as root and that user exists; '' runs them as glaux's own user (GLAUX_RUNNER_USER)")
	// Table catalog (docs/catalog.md).
	fs.StringVar(&c.Catalog, "catalog", env("GLAUX_CATALOG", "derby"), "table catalog: derby (one for every session, persistent, in --data-dir), memory (each session its own, gone with it) (GLAUX_CATALOG)")
	fs.StringVar(&c.CatalogURI, "catalog-uri", env("GLAUX_CATALOG_URI", ""), "thrift://host:port of an external Hive metastore every session uses instead of the embedded one (GLAUX_CATALOG_URI)")
	fs.IntVar(&c.CatalogPort, "catalog-port", envInt("GLAUX_CATALOG_PORT", 0), "port on 127.0.0.1 of the embedded catalog's database; 0 picks a free one (GLAUX_CATALOG_PORT)")
	fs.StringVar(&c.CatalogJars, "catalog-jars", env("GLAUX_CATALOG_JARS", filepath.Join(defaultCacheDir(), "catalog")), "directory of the Derby network server and client jars the embedded catalog needs (scripts/cluster-deps.sh catalog) (GLAUX_CATALOG_JARS)")
	fs.StringVar(&c.TableJars, "table-jars", env("GLAUX_TABLE_JARS", filepath.Join(defaultCacheDir(), "tables")), "directory of the Iceberg and Delta jars (scripts/cluster-deps.sh tables) that give sessions of the shared catalog USING iceberg and USING delta; '' serves neither (GLAUX_TABLE_JARS)")
	fs.StringVar(&c.Warehouse, "warehouse", env("GLAUX_WAREHOUSE", ""), "where managed tables of the shared catalog live; default <data-dir>/warehouse, or s3a://<bucket of --default-output-location>/warehouse/ with --objects s3 (GLAUX_WAREHOUSE)")
	// TLS (docs/connect.md).
	fs.StringVar(&c.TLSCert, "tls-cert", env("GLAUX_TLS_CERT", ""), "PEM certificate (chain) to serve HTTPS and HTTP/2 over TLS with, e.g. for Spark Connect clients' use_ssl=true; needs --tls-key (GLAUX_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("GLAUX_TLS_KEY", ""), "PEM private key of --tls-cert (GLAUX_TLS_KEY)")
	fs.StringVar(&c.PublicURL, "public-url", env("GLAUX_PUBLIC_URL", ""), "glaux's URL as clients reach it, e.g. https://glaux.example.com:443, for the notebook, Spark UI and Spark Connect URLs it hands out; empty: the listen address (GLAUX_PUBLIC_URL)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	_, c.S3AddrSet = os.LookupEnv("GLAUX_S3_ADDR")
	fs.Visit(func(f *flag.Flag) { c.S3AddrSet = c.S3AddrSet || f.Name == "s3-addr" })
	var err error
	if c.Credentials, err = parseCredentials(*creds, *credFile); err != nil {
		return nil, err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together: give both or neither")
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		return nil, err
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		return nil, fmt.Errorf("--account-id must be 12 digits, got %q", c.AccountID)
	}
	if len(c.Credentials) == 0 {
		if !loopback(c.Addr) {
			return nil, fmt.Errorf("refusing to listen on %s without credentials: set --credentials or --credentials-file (the test/test key is only accepted on a loopback address)", c.Addr)
		}
		c.Credentials = map[string]string{"test": "test"}
	}
	switch c.Objects {
	case "dir":
	case "s3":
		if c.S3AccessKey == "" || c.S3SecretKey == "" {
			return nil, fmt.Errorf("--objects s3 needs --s3-access-key and --s3-secret-key (or GLAUX_S3_ACCESS_KEY and GLAUX_S3_SECRET_KEY)")
		}
	default:
		return nil, fmt.Errorf("--objects must be dir or s3, got %q", c.Objects)
	}
	if c.S3Addr != "" && c.Objects == "dir" && !loopback(c.S3Addr) && *creds == "" && *credFile == "" {
		return nil, fmt.Errorf("refusing to serve objects on %s with the test/test key: set --credentials or --credentials-file, or --s3-addr to a loopback address", c.S3Addr)
	}
	if c.CatalogURI != "" {
		if c.Catalog == "memory" {
			return nil, fmt.Errorf("--catalog memory and --catalog-uri contradict each other")
		}
		if err := catalog.CheckURI(c.CatalogURI); err != nil {
			return nil, err
		}
		c.Catalog = "hive"
	}
	switch c.Catalog {
	case "derby", "memory", "hive":
	default:
		return nil, fmt.Errorf("--catalog must be derby or memory, got %q", c.Catalog)
	}
	if c.Catalog == "hive" && c.CatalogURI == "" {
		return nil, fmt.Errorf("--catalog hive needs --catalog-uri thrift://host:port")
	}
	if c.CatalogPort < 0 || c.CatalogPort > 65535 {
		return nil, fmt.Errorf("--catalog-port must be a port number, got %d", c.CatalogPort)
	}
	if c.CoresPerDPU < 1 || c.MemoryMBPerDPU < 256 {
		return nil, fmt.Errorf("--cores-per-dpu must be at least 1 and --memory-per-dpu at least 256")
	}
	return c, nil
}

func parseCredentials(list, file string) (map[string]string, error) {
	out := map[string]string{}
	add := func(entry, where string) error {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			return nil
		}
		id, secret, ok := strings.Cut(entry, ":")
		if !ok || id == "" || secret == "" {
			return fmt.Errorf("%s: credentials must be AKID:SECRET", where)
		}
		out[id] = secret
		return nil
	}
	for _, e := range strings.Split(list, ",") {
		if err := add(e, "--credentials"); err != nil {
			return nil, err
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if err := add(sc.Text(), file); err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loopback reports whether addr binds only loopback interfaces.
// checkPublicURL accepts "" or scheme://host[:port]: the handed-out URLs append their own
// paths, and glaux serves them at the root.
func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("--public-url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("--public-url must start with http:// or https://, got %q", v)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("--public-url needs a host, got %q", v)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("--public-url is scheme://host[:port] only (no user, path, query or fragment), got %q", v)
	}
	return nil
}

// advertisedURL is the URL to hand out for a listener at addr: the listener's own, with the
// loopback address for a wildcard host (0.0.0.0, ::), which no client can dial elsewhere.
func advertisedURL(scheme, addr string) (u string, wildcard bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr, false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return scheme + "://" + net.JoinHostPort("127.0.0.1", port), true
	}
	return scheme + "://" + addr, false
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultRunnerUser is glaux-runner when glaux runs as root and that user exists.
func defaultRunnerUser() string {
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := user.Lookup("glaux-runner"); err != nil {
		return ""
	}
	return "glaux-runner"
}
