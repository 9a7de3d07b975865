package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"glaux/internal/sigv4"
)

// Every request is signed with SigV4 as a real client (botocore, aws-sdk-go-v2) signs it:
// fresh X-Amz-Date and signature per request.
const (
	akid    = "test"
	secret  = "test"
	region  = "us-east-1"
	service = "athena"
)

// newTransport keeps one idle connection per client, as an SDK's pool does.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns + 8,
		MaxIdleConnsPerHost: conns + 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// newRequest builds a signed AWS JSON 1.1 request for op, or, when op is a restJson1 request
// line ("GET /workgroups/bench"), that request with body (empty for GET).
func newRequest(ctx context.Context, endpoint, op string, body []byte) (*http.Request, error) {
	if method, path, ok := strings.Cut(op, " "); ok {
		req, err := http.NewRequestWithContext(ctx, method, endpoint+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		sigv4.Sign(req, body, akid, secret, region, service, time.Now())
		return req, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonAthena."+op)
	sigv4.Sign(req, body, akid, secret, region, service, time.Now())
	return req, nil
}

// client makes single signed calls (setup, polling).
type client struct {
	endpoint string
	http     *http.Client
}

func newClient(endpoint string) *client {
	return &client{endpoint: endpoint, http: &http.Client{Transport: newTransport(4), Timeout: 30 * time.Second}}
}

// call sends in (marshalled to JSON) as op and decodes the 200 answer into out (if not nil).
func (c *client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := newRequest(ctx, c.endpoint, op, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decoding %q: %w", op, data, err)
	}
	return nil
}

type statusOut struct {
	Status struct {
		State             string
		StateChangeReason string
	}
}

// sessionState is GetSessionStatus' state (and reason).
func (c *client) sessionState(ctx context.Context, id string) (string, string, error) {
	var out statusOut
	err := c.call(ctx, "GetSessionStatus", map[string]string{"SessionId": id}, &out)
	return out.Status.State, out.Status.StateChangeReason, err
}

// calcState is GetCalculationExecutionStatus' state (and reason).
func (c *client) calcState(ctx context.Context, id string) (string, string, error) {
	var out statusOut
	err := c.call(ctx, "GetCalculationExecutionStatus", map[string]string{"CalculationExecutionId": id}, &out)
	return out.Status.State, out.Status.StateChangeReason, err
}

// waitSession polls (every interval) until the session reaches one of the final-for-us
// states; it returns the state and when it was first observed.
func (c *client) waitSession(ctx context.Context, id string, interval, timeout time.Duration, want ...string) (string, time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, reason, err := c.sessionState(ctx, id)
		seen := time.Now()
		if err != nil {
			return "", seen, err
		}
		for _, w := range want {
			if st == w {
				return st, seen, nil
			}
		}
		if st == "FAILED" || st == "TERMINATED" || st == "DEGRADED" {
			return st, seen, fmt.Errorf("session %s is %s: %s", id, st, reason)
		}
		if seen.After(deadline) {
			return st, seen, fmt.Errorf("session %s still %s after %s", id, st, timeout)
		}
		if interval > 0 {
			time.Sleep(interval)
		}
		if err := ctx.Err(); err != nil {
			return st, seen, err
		}
	}
}

// runCalculation submits code and polls GetCalculationExecutionStatus every interval (0 = as
// fast as one client can) until COMPLETED; it returns the calculation id and the time from
// submitting to COMPLETED observed.
func (c *client) runCalculation(ctx context.Context, session, code string, interval, timeout time.Duration) (string, time.Duration, error) {
	start := time.Now()
	var out struct{ CalculationExecutionId string }
	if err := c.call(ctx, "StartCalculationExecution", map[string]string{"SessionId": session, "CodeBlock": code}, &out); err != nil {
		return "", 0, err
	}
	deadline := start.Add(timeout)
	for {
		st, reason, err := c.calcState(ctx, out.CalculationExecutionId)
		if err != nil {
			return out.CalculationExecutionId, 0, err
		}
		switch st {
		case "COMPLETED":
			return out.CalculationExecutionId, time.Since(start), nil
		case "FAILED", "CANCELED":
			return out.CalculationExecutionId, 0, fmt.Errorf("calculation %s (%q) ended %s: %s", out.CalculationExecutionId, code, st, reason)
		}
		if time.Now().After(deadline) {
			return out.CalculationExecutionId, 0, fmt.Errorf("calculation %s still %s after %s", out.CalculationExecutionId, st, timeout)
		}
		if interval > 0 {
			time.Sleep(interval)
		}
		if err := ctx.Err(); err != nil {
			return out.CalculationExecutionId, 0, err
		}
	}
}

// sparkWorkGroup is the CreateWorkGroup input of a PySpark workgroup.
func sparkWorkGroup(name string) map[string]any {
	return map[string]any{
		"Name": name,
		"Configuration": map[string]any{
			"EngineVersion": map[string]string{"SelectedEngineVersion": "PySpark engine version 3"},
			"ExecutionRole": "arn:aws:iam::123456789012:role/x",
		},
	}
}

// startSession starts a session in wg and returns its id.
func (c *client) startSession(ctx context.Context, wg string) (string, error) {
	var out struct{ SessionId string }
	err := c.call(ctx, "StartSession", map[string]any{
		"WorkGroup":           wg,
		"EngineConfiguration": map[string]any{"MaxConcurrentDpus": 2},
	}, &out)
	return out.SessionId, err
}
