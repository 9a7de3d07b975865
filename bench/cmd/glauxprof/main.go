// TEMPORARY profiling harness (deleted before handing over).
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"glaux/internal/api"
	"glaux/internal/athena"
	"glaux/internal/objects"
	"glaux/internal/runtime"
	"glaux/internal/sigv4"
	"glaux/internal/sqlite"
)

func main() {
	dir, _ := os.MkdirTemp("", "prof")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "g.db"))
	if err != nil {
		panic(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := athena.NewService(athena.Config{Region: "us-east-1", AccountID: "123456789012", DefaultOutputLocation: "s3://x/",
		CoresPerDPU: 1, MemoryMBPerDPU: 1024, MaxSessions: 4, QueueDepth: 100, ScratchDir: dir, DPUSizes: []int32{1},
		NotebookVersion: "Athena notebook version 1", PublicURL: "http://x", TokenSecret: []byte("k")},
		athena.Deps{Store: db, Objects: objects.New(dir), Runtime: runtime.New(runtime.Config{Python: "python3"}, log), Log: log})
	if err := svc.EnsurePrimary(ctx); err != nil {
		panic(err)
	}
	h := api.NewHandler(svc, &sigv4.Verifier{Creds: sigv4.StaticCredentials{"test": "test"}, Service: "athena"}, log)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, h)
	ep := "http://" + ln.Addr().String()
	op, body := os.Args[1], []byte(os.Args[2])
	conc := 1
	fmt.Sscan(os.Args[3], &conc)
	// direct handler timing, no network
	{
		n := 20000
		t := time.Now()
		for range n {
			req, _ := http.NewRequest("POST", ep+"/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonAthena."+op)
			sigv4.Sign(req, body, "test", "test", "us-east-1", "athena", time.Now())
			req.Host = ln.Addr().String()
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.code != 0 && w.code != 200 {
				panic(w.code)
			}
		}
		fmt.Printf("in-process handler (incl. signing): %.1f µs/op\n", float64(time.Since(t).Microseconds())/float64(n))
	}
	f, _ := os.Create(os.Args[4])
	pprof.StartCPUProfile(f)
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	end := time.Now().Add(4 * time.Second)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for time.Now().Before(end) {
				req, _ := http.NewRequest("POST", ep+"/", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "AmazonAthena."+op)
				sigv4.Sign(req, body, "test", "test", "us-east-1", "athena", time.Now())
				resp, err := hc.Do(req)
				if err != nil {
					panic(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	pprof.StopCPUProfile()
	fmt.Printf("%s over HTTP, %d clients: %.0f req/s\n", op, conc, float64(total)/4)
}

type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(c int)           { d.code = c }
