// Command glaux serves the Amazon Athena for Apache Spark API with real PySpark sessions.
//
//	glaux serve [flags]
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"glaux/internal/api"
	"glaux/internal/athena"
	"glaux/internal/authz"
	"glaux/internal/connect"
	"glaux/internal/glue"
	"glaux/internal/objects"
	"glaux/internal/runtime"
	"glaux/internal/s3serve"
	"glaux/internal/sigv4"
	"glaux/internal/sqlite"
	"glaux/internal/sts"
	runnerpy "glaux/python"
	"glaux/web"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: glaux serve [flags]   (glaux serve -h lists the flags)")
		os.Exit(2)
	}
	cfg, err := parseConfig(os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "glaux:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, nil); err != nil {
		fmt.Fprintln(os.Stderr, "glaux:", err)
		os.Exit(1)
	}
}

// testHookService, set only by tests, receives each server's Service (fault tests need a
// session's runner pid).
var testHookService func(*Config, *athena.Service)

// serve runs glaux until ctx ends. ready, when not nil, receives the bound address.
func serve(ctx context.Context, cfg *Config, ready chan<- string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	for _, d := range []string{cfg.DataDir, filepath.Join(cfg.DataDir, "objects"), filepath.Join(cfg.DataDir, "scratch"), filepath.Join(cfg.DataDir, "runner")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "glaux.db"))
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	defer db.Close()
	runnerPath, err := runnerpy.Install(filepath.Join(cfg.DataDir, "runner"))
	if err != nil {
		return fmt.Errorf("installing the session runner: %w", err)
	}
	rtCfg := runtime.Config{Python: cfg.Python, RunnerPath: runnerPath, StartTimeout: cfg.SparkStart}
	if cfg.FakeSpark {
		rtCfg.Env = []string{"GLAUX_FAKE_SPARK=1"}
	}
	secret, err := installationSecret(db)
	if err != nil {
		return err
	}
	// Object backend and S3A (docs/cluster.md).
	var objs athena.Objects = objects.New(filepath.Join(cfg.DataDir, "objects"))
	var s3a athena.S3AConfig
	if cfg.Objects == "s3" {
		b, err := objects.NewS3(objects.S3Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, PathStyle: cfg.S3PathStyle, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey})
		if err != nil {
			return err
		}
		jars, err := objects.S3AJars(cfg.S3AJars)
		if err != nil {
			return fmt.Errorf("--s3a-jars: %w", err)
		}
		if len(jars) == 0 {
			log.Warn("no S3A connector jars: sessions cannot use s3a:// paths; run scripts/cluster-deps.sh", "dir", cfg.S3AJars)
		}
		objs, s3a = b, athena.S3AConfig{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, PathStyle: cfg.S3PathStyle, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, Jars: jars}
	}
	// The table catalog every session shares (docs/catalog.md); stopped after the sessions.
	sparkDefaults, stopCatalog, err := startCatalog(ctx, cfg, secret, log)
	if err != nil {
		return err
	}
	defer stopCatalog()
	if cfg.SparkDriverHost != "" {
		rtCfg.Env = append(rtCfg.Env, "SPARK_LOCAL_IP="+cfg.SparkDriverHost) // the driver's UI too
	}
	if err := runtime.Isolate(&rtCfg, cfg.RunnerUser, cfg.DataDir, filepath.Join(cfg.DataDir, "scratch")); err != nil {
		return fmt.Errorf("--runner-user %s: %w", cfg.RunnerUser, err)
	}
	var policies *authz.Policies
	if cfg.PolicyFile != "" {
		if policies, err = authz.Load(cfg.PolicyFile); err != nil {
			return fmt.Errorf("--policy-file: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var tlsCert tls.Certificate
	scheme := "http"
	if cfg.TLSCert != "" {
		if tlsCert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			ln.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		scheme = "https"
	}
	endpoint := strings.TrimSuffix(cfg.PublicURL, "/")
	if endpoint == "" {
		var wildcard bool
		if endpoint, wildcard = advertisedURL(scheme, ln.Addr().String()); wildcard {
			log.Warn("listening on every interface without --public-url: the notebook, Spark UI and Spark Connect URLs glaux hands out name 127.0.0.1", "addr", ln.Addr().String())
		}
	}
	svc := athena.NewService(athena.Config{
		Region: cfg.Region, AccountID: cfg.AccountID, DefaultOutputLocation: cfg.OutputLocation,
		CoresPerDPU: cfg.CoresPerDPU, MemoryMBPerDPU: cfg.MemoryMBPerDPU,
		MaxSessions: cfg.MaxSessions, MaxSessionDPUs: cfg.MaxDPUs, QueueDepth: cfg.QueueDepth,
		ScratchDir: filepath.Join(cfg.DataDir, "scratch"), SparkMaster: cfg.SparkMaster,
		DPUSizes: []int32{1}, NotebookVersion: "Athena notebook version 1",
		PublicURL: endpoint, TokenSecret: secret, WarmPool: cfg.WarmPool, ConnectIdleGrace: 100 * time.Millisecond,
		SparkDriverHost: cfg.SparkDriverHost, S3A: s3a, SparkDefaults: sparkDefaults,
	}, athena.Deps{
		Store: db, Objects: objs,
		Runtime: athena.CheckMaster(runtime.New(rtCfg, log)), Log: log,
	})
	if testHookService != nil {
		testHookService(cfg, svc)
	}
	if err := svc.EnsurePrimary(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("creating the primary workgroup: %w", err)
	}
	if err := svc.Recover(ctx); err != nil {
		return fmt.Errorf("recovering sessions: %w", err)
	}
	svc.StartPool()
	verifier := &sigv4.Verifier{Creds: sigv4.StaticCredentials(cfg.Credentials), Service: "athena"}
	// The notebook page behind CreatePresignedNotebookUrl lives under /notebook/; everything
	// else, and every request with X-Amz-Target, is the JSON API.
	apiHandler, notebooks := api.NewHandler(svc, verifier, log), api.NewNotebookHandler(svc, web.Dist(), log)
	dashboards := api.NewDashboardHandler(svc, log)
	if policies != nil {
		apiHandler.UsePolicies(policies, svc, cfg.AccountID)
		if cfg.S3Addr != "" && cfg.Objects != "s3" {
			log.Warn("--policy-file does not cover the S3 endpoint: every valid key reads every result object there; set --s3-addr '' to close it", "s3_addr", cfg.S3Addr)
		}
	}
	// Clients that reuse the Athena endpoint for S3 (PyAthena reads results through it) reach
	// the read-only object server here too, told apart by the s3 credential scope; --s3-addr ''
	// closes both.
	var s3OnAPI http.Handler
	if cfg.S3Addr != "" && cfg.Objects != "s3" {
		s3OnAPI = s3serve.New(filepath.Join(cfg.DataDir, "objects"), &sigv4.Verifier{Creds: sigv4.StaticCredentials(cfg.Credentials), Service: "s3"}, log)
	}
	// Glue's catalog operations and STS GetCallerIdentity, for dbt-athena (docs/dbt.md), told
	// apart by their credential scope.
	glueAPI := glue.NewHandler(svc, &sigv4.Verifier{Creds: sigv4.StaticCredentials(cfg.Credentials), Service: "glue"}, cfg.AccountID, log)
	stsAPI := sts.NewHandler(&sigv4.Verifier{Creds: sigv4.StaticCredentials(cfg.Credentials), Service: "sts"}, cfg.AccountID, log)
	if policies != nil {
		glueAPI.UsePolicies(policies, cfg.Region)
	}
	// Spark Connect clients' gRPC calls (HTTP/2, application/grpc) go to their session's
	// server (docs/connect.md).
	connectProxy := connect.New(svc, log)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if connect.IsGRPC(r) {
				connectProxy.ServeHTTP(w, r)
				return
			}
			switch sigv4.ScopeService(r) {
			case "glue":
				glueAPI.ServeHTTP(w, r)
				return
			case "sts":
				stsAPI.ServeHTTP(w, r)
				return
			}
			if r.Header.Get("X-Amz-Target") == "" && strings.HasPrefix(r.URL.Path, "/notebook/") {
				notebooks.ServeHTTP(w, r)
				return
			}
			if r.Header.Get("X-Amz-Target") == "" && strings.HasPrefix(r.URL.Path, "/sparkui/") {
				dashboards.ServeHTTP(w, r) // GetResourceDashboard's Spark UI (docs/dashboard.md)
				return
			}
			if s3OnAPI != nil && r.Header.Get("X-Amz-Target") == "" && sigv4.ScopeService(r) == "s3" {
				s3OnAPI.ServeHTTP(w, r)
				return
			}
			apiHandler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 for the AWS clients, HTTP/2 for gRPC: over TLS, or as h2c (prior knowledge).
		Protocols: new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	if cfg.TLSCert != "" {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12}
	}
	srv.RegisterOnShutdown(notebooks.Close) // Shutdown leaves WebSockets open otherwise
	log.Info("glaux is serving the Athena API", "endpoint", endpoint, "data_dir", cfg.DataDir, "region", cfg.Region)
	if _, ok := cfg.Credentials["test"]; ok && len(cfg.Credentials) == 1 {
		fmt.Fprintf(os.Stderr, "\nPoint the AWS CLI at it:\n  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=%s\n  aws athena list-work-groups --endpoint-url %s\n\n", cfg.Region, endpoint)
	} else {
		fmt.Fprintf(os.Stderr, "\nPoint the AWS CLI at it:\n  aws athena list-work-groups --endpoint-url %s --region %s\n\n", endpoint, cfg.Region)
	}
	// The dir backend's objects over S3, read-only (docs/cluster.md).
	var s3ln net.Listener
	if cfg.S3Addr != "" && cfg.Objects != "s3" {
		s3ln, err = net.Listen("tcp", cfg.S3Addr)
		if err != nil && !cfg.S3AddrSet {
			// The default port is taken (another glaux): serve the API without it.
			log.Warn("not serving objects over S3: the default --s3-addr is in use", "addr", cfg.S3Addr, "err", err)
		} else if err != nil {
			ln.Close()
			return fmt.Errorf("--s3-addr: %w", err)
		}
	}
	if cfg.S3Addr != "" && cfg.Objects != "s3" && s3ln != nil {
		cfg.S3Addr = s3ln.Addr().String()
		s3srv := &http.Server{Handler: s3OnAPI, ReadHeaderTimeout: 10 * time.Second}
		go s3srv.Serve(s3ln)
		defer s3srv.Close()
		log.Info("serving result objects over S3, read-only", "endpoint", "http://"+cfg.S3Addr)
		fmt.Fprintf(os.Stderr, "Fetch result objects with:\n  aws s3 cp s3://BUCKET/KEY - --endpoint-url http://%s\n\n", cfg.S3Addr)
	}
	bg, cancelBg := context.WithCancel(context.Background())
	defer cancelBg()
	go svc.Run(bg)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "") // h2 and http/1.1 by ALPN
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and stopping sessions")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	svc.Close(shutCtx)
	return nil
}

// installationSecret is this installation's key for signing notebook tokens, made once and
// kept in the database (so links survive a restart, and the key never leaves the data dir).
func installationSecret(db *sqlite.DB) ([]byte, error) {
	v, err := db.GetMeta("notebook_token_secret")
	if err == nil && v != "" {
		return hex.DecodeString(v)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := db.PutMeta("notebook_token_secret", hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("saving the token secret: %w", err)
	}
	return b, nil
}
