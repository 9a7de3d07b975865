package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	glaux "glaux/internal/athena"
	"glaux/internal/sqlite"
	"glaux/internal/testenv"
)

// TestConnect drives the Spark Connect engine end to end on one server and one session:
// glaux with TLS (--tls-cert/--tls-key, a certificate the test makes) and a warm pool, the
// aws-sdk-go-v2 client for the Athena side, the pinned pyspark[connect] client
// (tests/python/connect_client.py, run with GLAUX_PYTHON) for Spark Connect with
// use_ssl=true, and raw HTTP/2 gRPC calls for the proxy's refusals. Plaintext h2c is
// covered by tests/python/test_connect.py.
func TestConnect(t *testing.T) {
	py := testPython(t)
	if out, err := exec.Command(py, "-c", "import grpc, grpc_status, google.rpc, zstandard, pyspark.sql.connect.session").CombinedOutput(); err != nil {
		testenv.Missing(t, testenv.Python, "GLAUX_PYTHON %s lacks the Spark Connect client (pyspark[connect], python/requirements.txt): %v\n%s; rebuild it with scripts/pyenv.sh", py, err, out)
	}
	dir := t.TempDir()
	certFile, keyFile, roots := selfSignedCert(t, dir)
	cfg := newConfig(t, filepath.Join(dir, "data"))
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	cfg.WarmPool, cfg.MaxSessions = 1, 1 // the session takes the warm runner; the pool does not refill
	s := startServer(t, cfg)
	s.Endpoint = strings.Replace(s.Endpoint, "http://", "https://", 1)
	tlsConfig := &tls.Config{RootCAs: roots}
	s.Client = athena.New(athena.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:     connectionRetryer(),
		HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig.Clone()}},
	})
	c, ctx := s.Client, context.Background()

	// 1. The engine and its workgroup.
	ev, err := c.ListEngineVersions(ctx, &athena.ListEngineVersionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range ev.EngineVersions {
		names = append(names, aws.ToString(v.SelectedEngineVersion))
	}
	if !slices.Contains(names, "Apache Spark version 3.5") || !slices.Contains(names, "PySpark engine version 3") {
		t.Fatalf("ListEngineVersions = %v, want both Spark engines", names)
	}
	const wg = "connect-wg"
	createEngineWorkGroup(t, c, wg, "Apache Spark version 3.5")
	createEngineWorkGroup(t, c, "pyspark3-wg", "PySpark engine version 3")
	_, err = c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("pyspark3-wg"), ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{
		EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String("Apache Spark version 3.5")}}})
	invalidRequest("cannot be upgraded between Spark engines")(t, err)
	_, err = c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String(wg), Name: aws.String("nb")})
	invalidRequest("Notebooks are not supported on Apache Spark version 3.5")(t, err)
	for _, bad := range []struct {
		edit func(*athena.StartSessionInput)
		msg  string
	}{
		{func(in *athena.StartSessionInput) {
			in.EngineConfiguration.SparkProperties = map[string]string{"spark.x": "1"}
		}, "SparkProperties is not supported"},
		{func(in *athena.StartSessionInput) {
			in.EngineConfiguration.Classifications = []types.Classification{{Name: aws.String("hive-site")}}
		}, `Classifications[0].Name "hive-site" is not supported`},
		{func(in *athena.StartSessionInput) { in.NotebookVersion = aws.String("Athena notebook version 1") }, "Notebooks are not supported"},
		{func(in *athena.StartSessionInput) { in.ExecutionRole = aws.String("not-an-arn") }, "'executionRole' failed to satisfy constraint"},
	} {
		in := &athena.StartSessionInput{WorkGroup: aws.String(wg), EngineConfiguration: &types.EngineConfiguration{}}
		bad.edit(in)
		_, err := c.StartSession(ctx, in)
		invalidRequest(bad.msg)(t, err)
	}
	_, err = c.GetSessionEndpoint(ctx, &athena.GetSessionEndpointInput{SessionId: aws.String("no-such-session")})
	notFound("Session no-such-session is not found")(t, err)

	// 2. A session from the warm pool, with the 2025 fields; endpoint usable at once.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if ready, _ := s.Svc.PoolSize(); ready == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the warm runner was not ready within 3 minutes")
		}
	}
	start := time.Now()
	started, err := c.StartSession(ctx, &athena.StartSessionInput{
		WorkGroup:     aws.String(wg),
		ExecutionRole: aws.String("arn:aws:iam::123456789012:role/connect"),
		EngineConfiguration: &types.EngineConfiguration{Classifications: []types.Classification{
			{Name: aws.String("spark-defaults"), Properties: map[string]string{"spark.sql.shuffle.partitions": "3"}}}},
		MonitoringConfiguration: &types.MonitoringConfiguration{ManagedLoggingConfiguration: &types.ManagedLoggingConfiguration{Enabled: aws.Bool(true)}},
		Tags:                    []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
		CopyWorkGroupTags:       aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	id := *started.SessionId
	if started.State != types.SessionStateIdle {
		t.Fatalf("StartSession from the warm pool answered %s, want IDLE", started.State)
	}
	endpoint, err := c.GetSessionEndpoint(ctx, &athena.GetSessionEndpointInput{SessionId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetSessionEndpoint: %v", err)
	}
	if aws.ToString(endpoint.EndpointUrl) != s.Endpoint || aws.ToString(endpoint.AuthToken) == "" ||
		endpoint.AuthTokenExpirationTime == nil || time.Until(*endpoint.AuthTokenExpirationTime) < 50*time.Minute {
		t.Fatalf("GetSessionEndpoint = %s %q %v", aws.ToString(endpoint.EndpointUrl), aws.ToString(endpoint.AuthToken), endpoint.AuthTokenExpirationTime)
	}
	token := *endpoint.AuthToken
	// Its own TLS config: an HTTP/2 transport adds "h2" to the ALPN list of the one it is given.
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig.Clone(), Protocols: h2Only()}}
	if code, msg := grpcCall(t, h2, s.Endpoint, map[string]string{"x-aws-proxy-auth": token}); code == "16" || code == "7" || code == "9" || code == "14" {
		t.Fatalf("a call with the session's token was refused: %s %s", code, msg)
	}
	t.Logf("StartSession (warm) -> first Spark Connect answer: %s", time.Since(start).Round(time.Millisecond))
	_, err = c.StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(id), CodeBlock: aws.String("1")})
	invalidRequest("Calculations are not supported on Apache Spark version 3.5")(t, err)
	_, err = c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(id)})
	invalidRequest("Calculations are not supported")(t, err)

	// 3. The proxy's refusals, each a gRPC status in the trailers.
	secret := installationSecretOf(t, cfg)
	otherSessions := glaux.SignConnectToken(secret, "another-session", time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name    string
		headers map[string]string
		code    string
		msg     string
	}{
		{"missing", nil, "16", "has no x-aws-proxy-auth token"},
		{"tampered", map[string]string{"x-aws-proxy-auth": tamper(token)}, "16", "token is not valid"},
		{"expired", map[string]string{"x-aws-proxy-auth": glaux.SignConnectToken(secret, id, time.Now().Add(-time.Second))}, "16", "expired"},
		{"other secret", map[string]string{"x-aws-proxy-auth": glaux.SignConnectToken([]byte("not the server's secret"), id, time.Now().Add(time.Hour))}, "16", "token is not valid"},
		{"notebook token", map[string]string{"x-aws-proxy-auth": glaux.SignNotebookToken(secret, glaux.NotebookToken{SessionID: id, Expires: time.Now().Add(time.Hour).Unix()})}, "16", "token is not valid"},
		{"other session's", map[string]string{"x-aws-proxy-auth": otherSessions, "x-athena-session-id": id}, "7", "is for session another-session, not session " + id},
		{"session not serving", map[string]string{"x-aws-proxy-auth": otherSessions}, "9", "session another-session is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := grpcCall(t, h2, s.Endpoint, tc.headers)
			if code != tc.code || !strings.Contains(msg, tc.msg) {
				t.Fatalf("grpc-status %s %q, want %s with %q", code, msg, tc.code, tc.msg)
			}
		})
	}

	// 4. The pyspark[connect] client over TLS: DataFrame, SQL, a Python UDF; BUSY while its
	// job runs, IDLE after.
	remote := "sc://" + strings.TrimPrefix(s.Endpoint, "https://") + "/;use_ssl=true;x-aws-proxy-auth=" + token
	env := append(os.Environ(), "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH="+certFile)
	clientCtx, cancelClient := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelClient()
	client := startConnectClient(t, clientCtx, py, remote, env, "work", "sleep=6")
	first, ok := <-client.lines
	if !ok {
		t.Fatalf("the Spark Connect client printed nothing: %v", client.wait())
	}
	if first["count"] != 1000.0 || first["sql"] != 42.0 || first["udf"] != 6.0 {
		t.Fatalf("work = %v", first)
	}
	t.Logf("Spark %v answered through glaux over TLS", first["version"])
	waitSession(t, c, id, 30*time.Second, types.SessionStateBusy)
	<-client.lines
	if err := client.wait(); err != nil {
		t.Fatalf("client: %v", err)
	}
	waitSession(t, c, id, 30*time.Second, types.SessionStateIdle)

	// 4b. A Spark Connect 3.5 client, the Spark line of Athena's engine, against glaux's newer
	// server: the same work, and interruptAll() cancels its running job.
	t.Run("Spark Connect 3.5 client", func(t *testing.T) {
		testenv.Need(t, testenv.Connect35)
		py35 := os.Getenv("GLAUX_CONNECT35_PYTHON")
		if py35 == "" {
			testenv.Missing(t, testenv.Connect35, "GLAUX_CONNECT35_PYTHON is not set: run with GLAUX_CONNECT35_PYTHON=$(scripts/pyenv.sh python/requirements-connect35.txt) or scripts/test")
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		client := startConnectClient(t, cctx, py35, remote, env, "work", "interrupt")
		checks := map[string]map[string]any{}
		for m := range client.lines {
			checks[fmt.Sprint(m["check"])] = m
		}
		if err := client.wait(); err != nil {
			t.Fatalf("the 3.5 client: %v", err)
		}
		if w := checks["work"]; w["count"] != 1000.0 || w["sql"] != 42.0 || w["udf"] != 6.0 {
			t.Fatalf("work = %v (all checks: %v)\nstderr:\n%s", w, checks, client.stderr.String())
		}
		in := checks["interrupt"]
		if in["finished"] != true || in["error"] == nil || in["elapsed"] == nil || in["elapsed"].(float64) >= 60 {
			t.Fatalf("interrupt = %v: the 120 s job was not cancelled", in)
		}
		t.Logf("a Spark Connect 3.5 client ran on Spark %v; its interrupted job: %v", checks["work"]["version"], in["error"])
	})
	waitSession(t, c, id, 30*time.Second, types.SessionStateIdle)

	// 4c. The session's Spark UI (GetResourceDashboard), as for the other engine: the Jobs
	// page of the driver the Connect clients ran their jobs on.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: tlsConfig.Clone()}}
	u := dashboardURL(t, c, wg, id)
	if !strings.HasPrefix(u, s.Endpoint+"/sparkui/"+id+"/?token=") {
		t.Fatalf("dashboard Url %q", u)
	}
	if status, page, _ := get(t, browser, "GET", u, nil); status != 200 || !strings.Contains(page, "Spark Jobs") || !strings.Contains(page, "Completed Jobs") {
		t.Fatalf("the Connect session's Jobs page: %d %.1500s", status, page)
	}

	// 5. TerminateSession ends the server: the endpoint is refused, and so is the token.
	if _, err := c.TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	waitSession(t, c, id, time.Minute, types.SessionStateTerminated)
	_, err = c.GetSessionEndpoint(ctx, &athena.GetSessionEndpointInput{SessionId: aws.String(id)})
	invalidRequest("TERMINATED state")(t, err)
	if code, msg := grpcCall(t, h2, s.Endpoint, map[string]string{"x-aws-proxy-auth": token}); code != "9" || !strings.Contains(msg, "TERMINATED") {
		t.Fatalf("a call to the ended session: grpc-status %s %q, want 9 (TERMINATED)", code, msg)
	}
}

// connectClient is tests/python/connect_client.py running against a Spark Connect URL: its
// JSON lines arrive on lines, closed when it exits.
type connectClient struct {
	cmd    *exec.Cmd
	lines  chan map[string]any
	stderr bytes.Buffer
}

func startConnectClient(t *testing.T, ctx context.Context, py, remote string, env []string, checks ...string) *connectClient {
	t.Helper()
	c := &connectClient{lines: make(chan map[string]any, 8)}
	c.cmd = exec.CommandContext(ctx, py, append([]string{"../../tests/python/connect_client.py", remote}, checks...)...)
	c.cmd.Env = env
	c.cmd.Stderr = &c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				c.lines <- m
			}
		}
	}()
	return c
}

// wait returns once the client has exited: its error, with its stderr.
func (c *connectClient) wait() error {
	for range c.lines { // the rest of its output
	}
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("%w\n%s", err, c.stderr.String())
	}
	return nil
}

func createEngineWorkGroup(t testing.TB, c *athena.Client, name, engine string) {
	t.Helper()
	_, err := c.CreateWorkGroup(context.Background(), &athena.CreateWorkGroupInput{
		Name: aws.String(name),
		Configuration: &types.WorkGroupConfiguration{
			EngineVersion:       &types.EngineVersion{SelectedEngineVersion: aws.String(engine)},
			ExecutionRole:       aws.String("arn:aws:iam::123456789012:role/glaux-spark"),
			ResultConfiguration: &types.ResultConfiguration{OutputLocation: aws.String("s3://results/" + name + "/")},
		},
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("tests")}},
	})
	if err != nil {
		t.Fatalf("CreateWorkGroup %s: %v", name, err)
	}
}

func h2Only() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP2(true)
	return p
}

// grpcCall sends one unary Spark Connect call (Config, an empty request message) and
// returns its grpc-status and grpc-message.
func grpcCall(t *testing.T, c *http.Client, endpoint string, headers map[string]string) (code, msg string) {
	t.Helper()
	req, err := http.NewRequest("POST", endpoint+"/spark.connect.SparkConnectService/Config", bytes.NewReader(make([]byte, 5)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("gRPC call: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("gRPC call: HTTP %d over %s", resp.StatusCode, resp.Proto)
	}
	code, msg = resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if code == "" { // a trailers-only answer
		code, msg = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	if m, err := url.PathUnescape(msg); err == nil {
		msg = m
	}
	return code, msg
}

// tamper changes the token's payload (the session it names) and keeps its signature.
func tamper(token string) string {
	p, sig, _ := strings.Cut(token, ".")
	b := []byte(p)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '.' {
		b[len(b)/2] = 'A'
	}
	return string(b) + "." + sig
}

// installationSecretOf reads the server's token secret from its database, to make the
// tokens a client cannot get (expired ones, another session's).
func installationSecretOf(t testing.TB, cfg *Config) []byte {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(cfg.DataDir, "glaux.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.GetMeta("notebook_token_secret")
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key into dir; roots trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "glaux test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}
