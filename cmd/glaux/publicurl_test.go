package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
)

func TestPublicURLFlag(t *testing.T) {
	for _, tc := range []struct {
		value, err string
	}{
		{"", ""},
		{"https://glaux.example.com", ""},
		{"https://glaux.example.com:443/", ""},
		{"http://10.0.0.7:4477", ""},
		{"glaux.example.com:443", "http:// or https://"},
		{"ftp://glaux.example.com", "http:// or https://"},
		{"https://", "needs a host"},
		{"https://:443", "needs a host"},
		{"https://glaux.example.com/athena", "scheme://host[:port] only"},
		{"https://glaux.example.com/?x=1", "scheme://host[:port] only"},
		{"https://u:p@glaux.example.com", "scheme://host[:port] only"},
	} {
		_, err := parseConfig([]string{"--public-url", tc.value})
		if tc.err == "" && err != nil {
			t.Errorf("--public-url %q: %v", tc.value, err)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("--public-url %q: error %v, want one about %q", tc.value, err, tc.err)
		}
	}
}

func TestAdvertisedURL(t *testing.T) {
	for _, tc := range []struct {
		addr, want string
		wildcard   bool
	}{
		{"127.0.0.1:4477", "http://127.0.0.1:4477", false},
		{"10.1.2.3:80", "http://10.1.2.3:80", false},
		{"0.0.0.0:4477", "http://127.0.0.1:4477", true},
		{"[::]:4477", "http://127.0.0.1:4477", true},
	} {
		if got, wildcard := advertisedURL("http", tc.addr); got != tc.want || wildcard != tc.wildcard {
			t.Errorf("advertisedURL(%q) = %q, %v; want %q, %v", tc.addr, got, wildcard, tc.want, tc.wildcard)
		}
	}
}

// The URLs glaux hands out name --public-url, not the listener, when it is set.
func TestPublicURLInPresignedNotebookURL(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark, cfg.PublicURL = true, "https://glaux.example.com:8443/"
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "public")
	sid, _ := startNotebookSession(t, s, "public")
	out, err := s.Client.CreatePresignedNotebookUrl(context.Background(), &athena.CreatePresignedNotebookUrlInput{SessionId: aws.String(sid)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://glaux.example.com:8443/notebook/" + sid + "?token="; !strings.HasPrefix(*out.NotebookUrl, want) {
		t.Fatalf("NotebookUrl = %q, want it to start with %q", *out.NotebookUrl, want)
	}
}
