package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// connectResults is part 4: the Spark Connect engine.
type connectResults struct {
	// StartSession sent -> the first Spark Connect answer through glaux, warm pool of one.
	Start []time.Duration
	// spark.range(1000).count() round trips, one client each: through glaux, and against a
	// bare Spark Connect server in a plain driver.
	Glaux, Bare []time.Duration
	Other       float64
}

const connectEngine = "Apache Spark version 3.5"

// connectRoundTrip is the measured Spark Connect call.
const connectRoundTrip = "spark.range(1000).count()"

// startConnectServer is run in the bare driver: the Spark Connect server of the pyspark
// wheel on 127.0.0.1, a free port, no authentication; its port is written to a file.
const startConnectServer = `
jsc = sc._jsc.sc()
conf = jsc.conf()
conf.set("spark.connect.grpc.binding.address", "127.0.0.1")
conf.set("spark.connect.grpc.binding.port", "0")
svc = sc._jvm.org.apache.spark.sql.connect.service
svc.SparkConnectService.start(jsc)
open(%q, "w").write(str(getattr(getattr(svc, "SparkConnectService$"), "MODULE$").localPort()))
`

// connectPart measures the Spark Connect engine on a glaux as configured by default (a warm
// pool of one runner): StartSession -> first answer, then the round trip of one call through
// glaux against the same client and call on a bare server started by the bench.
func connectPart(ctx context.Context, o options, res *results) error {
	g, ep, waitReady, err := startWarmGlaux(ctx, o, "glaux-connect")
	if err != nil {
		return err
	}
	defer g.terminate(60 * time.Second)
	logf("glaux (real Spark, --warm-pool 1) at %s for Spark Connect", ep)
	c := newClient(ep)
	const wg = "bench-connect"
	if err := c.call(ctx, "CreateWorkGroup", map[string]any{"Name": wg, "Configuration": map[string]any{
		"EngineVersion": map[string]string{"SelectedEngineVersion": connectEngine},
		"ExecutionRole": "arn:aws:iam::123456789012:role/bench",
	}}, nil); err != nil {
		return err
	}
	cr := &res.Connect
	h2c := &http.Client{Transport: &http.Transport{Protocols: h2cOnly()}, Timeout: time.Minute}
	var id, token string
	for i := range o.sessionRuns {
		if err := waitReady(); err != nil {
			return err
		}
		time.Sleep(time.Second)
		if id != "" {
			if err := terminateSession(ctx, c, g, id, 1); err != nil {
				return err
			}
		}
		var d time.Duration
		err := quietly(ctx, fmt.Sprintf("Spark Connect session start %d", i+1), func() (float64, error) {
			m := startMeter()
			start := time.Now()
			var started struct{ SessionId, State string }
			if err := c.call(ctx, "StartSession", map[string]any{"WorkGroup": wg, "EngineConfiguration": map[string]any{}}, &started); err != nil {
				return 0, err
			}
			var endpoint struct{ EndpointUrl, AuthToken string }
			for {
				err := c.call(ctx, "GetSessionEndpoint", map[string]string{"SessionId": started.SessionId}, &endpoint)
				if err == nil {
					break
				}
				if time.Since(start) > 4*time.Minute {
					return 0, err
				}
				time.Sleep(10 * time.Millisecond)
			}
			for { // until Spark itself answers (any status but the proxy's own refusals)
				code, msg, err := grpcConfigCall(ctx, h2c, endpoint.EndpointUrl, endpoint.AuthToken)
				if err != nil {
					return 0, err
				}
				if code != "9" && code != "14" && code != "16" && code != "7" {
					break
				}
				if time.Since(start) > 4*time.Minute {
					return 0, fmt.Errorf("no Spark Connect answer within 4 minutes: %s %s", code, msg)
				}
				time.Sleep(10 * time.Millisecond)
			}
			d = time.Since(start)
			id, token = started.SessionId, endpoint.AuthToken
			logf("Spark Connect StartSession (%s) -> first answer: %s", started.State, fmtDur(d))
			return m.other(), nil
		})
		if err != nil {
			return err
		}
		cr.Start = append(cr.Start, d)
	}
	// The pool refills behind the last session: measure once it is idle again.
	if err := waitReady(); err != nil {
		return err
	}

	bare, err := startBare(o.python, o.script, o.work, filepath.Join(o.work, "bare-connect.log"), "local[1]", "1024m")
	if err != nil {
		return err
	}
	defer bare.quit()
	portFile := filepath.Join(o.work, "bare-connect.port")
	if _, err := bare.exec(fmt.Sprintf(startConnectServer, portFile), 1); err != nil {
		return fmt.Errorf("starting the bare Spark Connect server: %w", err)
	}
	b, err := os.ReadFile(portFile)
	if err != nil {
		return err
	}
	bport, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("bare Spark Connect port %q: %w", b, err)
	}
	host := strings.TrimPrefix(ep, "http://")
	viaGlaux, err := startBare(o.python, o.script, o.work, filepath.Join(o.work, "connect-client-glaux.log"),
		"--remote", "sc://"+host+"/;use_ssl=false;x-aws-proxy-auth="+token)
	if err != nil {
		return fmt.Errorf("Spark Connect client through glaux: %w", err)
	}
	defer viaGlaux.quit()
	direct, err := startBare(o.python, o.script, o.work, filepath.Join(o.work, "connect-client-bare.log"),
		"--remote", fmt.Sprintf("sc://127.0.0.1:%d/;use_ssl=false", bport))
	if err != nil {
		return fmt.Errorf("Spark Connect client of the bare server: %w", err)
	}
	defer direct.quit()
	for _, cl := range []*bareDriver{viaGlaux, direct} { // warm-up: the JIT and both servers' caches
		if _, err := cl.exec(connectRoundTrip, 10); err != nil {
			return err
		}
	}
	const rounds, perRound = 10, 10
	return quietly(ctx, "Spark Connect round trips", func() (float64, error) {
		cr.Glaux, cr.Bare = nil, nil
		m := startMeter()
		for r := range rounds {
			order := []*bareDriver{viaGlaux, direct}
			if (r+res.Started.Second())%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, cl := range order {
				ds, err := cl.exec(connectRoundTrip, perRound)
				if err != nil {
					return 0, err
				}
				name := "bare"
				if cl == viaGlaux {
					name = "glaux"
					cr.Glaux = append(cr.Glaux, ds...)
				} else {
					cr.Bare = append(cr.Bare, ds...)
				}
				logf("Spark Connect round %d, %s: median %s of %d", r+1, name, fmtDur(median(ds)), len(ds))
			}
		}
		cr.Other = m.other()
		logf("Spark Connect %s: glaux median %s, bare %s", connectRoundTrip, fmtDur(median(cr.Glaux)), fmtDur(median(cr.Bare)))
		return cr.Other, nil
	})
}

func h2cOnly() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// grpcConfigCall is one unary Config call with an empty request through glaux's proxy; it
// returns the gRPC status and message.
func grpcConfigCall(ctx context.Context, c *http.Client, endpoint, token string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(endpoint, "/")+"/spark.connect.SparkConnectService/Config", bytes.NewReader(make([]byte, 5)))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	req.Header.Set("x-aws-proxy-auth", token)
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	code, msg := resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if code == "" {
		code, msg = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	return code, msg, nil
}
