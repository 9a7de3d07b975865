package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadResult is one closed-loop load run: `clients` goroutines, each sending the next signed
// request as soon as the previous answer is read.
type loadResult struct {
	Requests int           // successful (HTTP 200) requests completed inside the measured window
	Errors   int           // non-200 answers and transport errors inside the window
	Window   time.Duration // the measured window
	P50, P99 time.Duration
	FirstErr string
	Other    float64 // share of the machine other work took during the window
}

func (r loadResult) RPS() float64 { return float64(r.Requests) / r.Window.Seconds() }

// runLoad warms up for warmup, then measures for dur. A request counts if it started and
// finished inside the window; latency is from signing to the last byte of the answer.
func runLoad(ctx context.Context, endpoint, op string, body []byte, clients int, warmup, dur time.Duration) loadResult {
	transport := newTransport(clients)
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	begin := time.Now()
	windowStart, windowEnd := begin.Add(warmup), begin.Add(warmup+dur)
	ctx, cancel := context.WithDeadline(ctx, windowEnd.Add(10*time.Second))
	defer cancel()

	type worker struct {
		lat      []time.Duration
		errs     int
		firstErr string
	}
	workers := make([]worker, clients)
	meterc := make(chan *meter, 1)
	go func() {
		time.Sleep(time.Until(windowStart))
		meterc <- startMeter()
	}()
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, 1<<14)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := time.Now()
				if !start.Before(windowEnd) || ctx.Err() != nil {
					return
				}
				err := oneRequest(ctx, hc, endpoint, op, body)
				end := time.Now()
				if start.Before(windowStart) || end.After(windowEnd) {
					continue
				}
				if err != nil {
					w.errs++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
					continue
				}
				w.lat = append(w.lat, end.Sub(start))
			}
		}()
	}
	wg.Wait()

	var res loadResult
	res.Other = (<-meterc).other()
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		res.Errors += w.errs
		if res.FirstErr == "" {
			res.FirstErr = w.firstErr
		}
	}
	res.Requests = len(all)
	res.Window = dur
	slices.Sort(all)
	res.P50, res.P99 = percentile(all, 0.50), percentile(all, 0.99)
	return res
}

func oneRequest(ctx context.Context, hc *http.Client, endpoint, op string, body []byte) error {
	req, err := newRequest(ctx, endpoint, op, body)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d (%d bytes)", resp.StatusCode, n)
	}
	return nil
}

// percentile is the nearest-rank percentile of sorted d (0 when empty).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
