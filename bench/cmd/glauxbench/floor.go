package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"glaux/internal/sigv4"
)

// The floor is what the load generator gets from the cheapest honest server on this machine:
// Go's net/http reading the body and verifying SigV4 with glaux's own verifier, then writing
// a canned answer. glaux/floor says how much of the floor glaux keeps; the rest is its work.

const floorFlag = "-floor-server"

// floorServer runs the floor server (in this process, started as `glauxbench -floor-server
// FILE`); FILE maps operation names to the answer bodies to send: glaux's own answers.
func floorServer(answersFile string) int {
	var answers map[string]string
	b, err := os.ReadFile(answersFile)
	if err == nil {
		err = json.Unmarshal(b, &answers)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	v := &sigv4.Verifier{Creds: sigv4.StaticCredentials{akid: secret}, Service: service}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := v.Verify(r, body); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		answer, ok := answers[strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena.")]
		if !ok {
			answer = "{}"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, answer)
	})
	fmt.Fprintf(os.Stderr, "endpoint=http://%s\n", ln.Addr())
	return exitCode(http.Serve(ln, h))
}

func exitCode(err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startFloor starts this binary as the floor server, answering each op with answers[op].
func startFloor(work string, answers map[string]string) (*proc, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	answersFile := filepath.Join(work, "floor-answers.json")
	b, _ := json.Marshal(answers)
	if err := os.WriteFile(answersFile, b, 0o600); err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(work, "floor.log")
	found := make(chan string, 1)
	p, err := startProc("floor server", exec.Command(self, floorFlag, answersFile), logPath, func(line string) {
		if m := endpointRE.FindStringSubmatch(line); m != nil {
			select {
			case found <- m[1]:
			default:
			}
		}
	})
	if err != nil {
		return nil, "", err
	}
	select {
	case ep := <-found:
		return p, ep, nil
	case <-p.done:
		return nil, "", fmt.Errorf("the floor server exited (%v); see %s", p.err, logPath)
	}
}
