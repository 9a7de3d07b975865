package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// protoRow is GetWorkGroup at one client count through both protocols of the same server.
type protoRow struct {
	Clients    int
	JSON, REST loadResult
}

// targetProtocolRatio: restJson1 within 10 % of AWS JSON 1.1.
const targetProtocolRatio = 0.9

// protocolPart measures GetWorkGroup through AWS JSON 1.1 and restJson1 against one glaux
// (--fake-spark), twice each per client count in the order A B B A, after checking that
// both answer the same bytes.
func protocolPart(ctx context.Context, o options, res *results) error {
	g, ep, err := startGlaux(o.glaux, o.python, filepath.Join(o.work, "glaux-protocols"), filepath.Join(o.work, "glaux-protocols.log"),
		[]string{"--fake-spark", "--warm-pool", "0"}, nil)
	if err != nil {
		return err
	}
	defer g.terminate(30 * time.Second)
	const wg = "bench"
	if err := newClient(ep).call(ctx, "CreateWorkGroup", sparkWorkGroup(wg), nil); err != nil {
		return err
	}
	jsonOp, jsonBody := "GetWorkGroup", []byte(`{"WorkGroup":"bench"}`)
	restOp := "GET /workgroups/" + wg
	a, err := answer(ctx, ep, jsonOp, jsonBody)
	if err != nil {
		return err
	}
	b, err := answer(ctx, ep, restOp, nil)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("the protocols answer differently:\n AWS JSON 1.1 %s\n restJson1    %s", a, b)
	}
	type proto struct {
		name, op string
		body     []byte
	}
	jsonP, restP := proto{"AWS JSON 1.1", jsonOp, jsonBody}, proto{"restJson1", restOp, nil}
	for _, n := range o.clients {
		// A, B, B, A: drift of the machine over the four windows weighs on both alike.
		var runs [2][]loadResult
		for i, p := range []proto{jsonP, restP, restP, jsonP} {
			what := fmt.Sprintf("GetWorkGroup, %d clients, %s", n, p.name)
			var r loadResult
			err := quietly(ctx, what, func() (float64, error) {
				logf("%s", what)
				r = runLoad(ctx, ep, p.op, p.body, n, o.warmup, o.duration)
				logf("  %s", r)
				return r.Other, nil
			})
			if err != nil {
				return err
			}
			k := 0
			if i == 1 || i == 2 {
				k = 1
			}
			runs[k] = append(runs[k], r)
		}
		res.Protocols = append(res.Protocols, protoRow{Clients: n, JSON: merge(runs[0]...), REST: merge(runs[1]...)})
	}
	return ctx.Err()
}

// merge pools runs of one load: requests, errors and windows add up (so req/s is over all
// of them); the latencies are the worst run's, as the samples are not kept.
func merge(runs ...loadResult) loadResult {
	var m loadResult
	for _, r := range runs {
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Window += r.Window
		m.P50, m.P99, m.Other = max(m.P50, r.P50), max(m.P99, r.P99), max(m.Other, r.Other)
		if m.FirstErr == "" {
			m.FirstErr = r.FirstErr
		}
	}
	return m
}

// answer is the body of one signed 200 answer.
func answer(ctx context.Context, endpoint, op string, body []byte) ([]byte, error) {
	req, err := newRequest(ctx, endpoint, op, body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !json.Valid(raw) {
		return nil, fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, raw)
	}
	return raw, nil
}

func (r *results) protocolsMarkdown(b *strings.Builder) {
	if len(r.Protocols) == 0 {
		return
	}
	o := r.Options
	fmt.Fprintf(b, "**Protocols** (GetWorkGroup on one glaux `--fake-spark`, SigV4-signed, closed loop, two windows of %s per protocol and row, each after %s warm-up, in the order JSON, REST, REST, JSON; latencies are the worse window's: `POST /` + `X-Amz-Target` vs `GET /workgroups/bench`)\n\n", o.duration, o.warmup)
	b.WriteString("| clients | AWS JSON 1.1 req/s | p50 | p99 | errors | restJson1 req/s | p50 | p99 | errors | restJson1 / JSON 1.1 | target ≥ 0.9 |\n")
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, p := range r.Protocols {
		ratio := p.REST.RPS() / p.JSON.RPS()
		fmt.Fprintf(b, "| %d | %.0f%s | %s | %s | %d | %.0f%s | %s | %s | %d | %.2f | %s |\n",
			p.Clients, p.JSON.RPS(), mark(p.JSON.Other), fmtDur(p.JSON.P50), fmtDur(p.JSON.P99), p.JSON.Errors,
			p.REST.RPS(), mark(p.REST.Other), fmtDur(p.REST.P50), fmtDur(p.REST.P99), p.REST.Errors,
			ratio, verdict(ratio >= targetProtocolRatio && p.JSON.Errors == 0 && p.REST.Errors == 0))
	}
	b.WriteString("\n")
}
