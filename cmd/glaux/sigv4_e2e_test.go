package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/smithy-go"
)

// TestSigV4Refusals drives the server with clients whose signatures are wrong in each way
// AWS distinguishes, and checks the AWS error name and status of every refusal.
func TestSigV4Refusals(t *testing.T) {
	cfg := newConfig(t, "")
	cfg.Credentials = map[string]string{"test": "test", "AKIDGLAUXTEST0000001": "second-secret"}
	s := startServer(t, cfg)
	anonymous := athena.New(athena.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint),
		Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{},
	})
	// skewed signs a ListWorkGroups request as made d from now, with the SDK's own signer.
	skewed := func(d time.Duration) func(t *testing.T) (int, string, string) {
		return func(t *testing.T) (int, string, string) {
			req := newRawRequest(t, s.Endpoint, "/", "ListWorkGroups", []byte(`{}`))
			signRaw(t, req, []byte(`{}`), "test", "test", time.Now().Add(d))
			r := doRaw(t, req)
			msg, _ := r.Body["Message"].(string)
			typ, _ := r.Body["__type"].(string)
			return r.Status, typ, msg
		}
	}
	viaSDK := func(c *athena.Client) func(t *testing.T) (int, string, string) {
		return func(t *testing.T) (int, string, string) {
			_, err := c.ListWorkGroups(context.Background(), &athena.ListWorkGroupsInput{})
			if err == nil {
				return http.StatusOK, "", ""
			}
			var ae smithy.APIError
			var re *awshttp.ResponseError
			if !errors.As(err, &ae) || !errors.As(err, &re) {
				t.Fatalf("got %T %v, want an API error with an HTTP response", err, err)
			}
			return re.HTTPStatusCode(), ae.ErrorCode(), ae.ErrorMessage()
		}
	}
	tests := []struct {
		name   string
		call   func(t *testing.T) (status int, code, msg string)
		status int
		code   string
		msg    string
	}{
		{"valid", viaSDK(s.Client), 200, "", ""},
		{"second configured key", viaSDK(newClient(s.Endpoint, "AKIDGLAUXTEST0000001", "second-secret")), 200, "", ""},
		{"unknown key", viaSDK(newClient(s.Endpoint, "AKIDUNKNOWN", "test")), 403, "UnrecognizedClientException", "security token"},
		{"wrong secret", viaSDK(newClient(s.Endpoint, "test", "not-the-secret")), 403, "InvalidSignatureException", "signature we calculated does not match"},
		{"another key's secret", viaSDK(newClient(s.Endpoint, "AKIDGLAUXTEST0000001", "test")), 403, "InvalidSignatureException", "does not match"},
		{"missing signature", viaSDK(anonymous), 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"signed 16 minutes ago", skewed(-16 * time.Minute), 403, "InvalidSignatureException", "Signature expired"},
		{"signed 16 minutes ahead", skewed(16 * time.Minute), 403, "InvalidSignatureException", "Signature not yet current"},
		{"signed 14 minutes ago", skewed(-14 * time.Minute), 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := tc.call(t)
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %s (%s), want %d %s", status, code, msg, tc.status, tc.code)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
		})
	}
	// A refused request must not have had an effect.
	bad := newClient(s.Endpoint, "test", "not-the-secret")
	if _, err := bad.CreateWorkGroup(context.Background(), &athena.CreateWorkGroupInput{Name: aws.String("forged")}); err == nil {
		t.Fatal("CreateWorkGroup with a wrong secret succeeded")
	}
	_, err := s.Client.GetWorkGroup(context.Background(), &athena.GetWorkGroupInput{WorkGroup: aws.String("forged")})
	wantInvalid(t, err, "", "forged")
}

// TestSigV4BodyTampering: the signature covers the body, so a body changed after signing is
// refused.
func TestSigV4BodyTampering(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	signed := []byte(`{"Name":"wg-a"}`)
	req := newRawRequest(t, s.Endpoint, "/", "CreateWorkGroup", []byte(`{"Name":"wg-b"}`))
	signRaw(t, req, signed, "test", "test", time.Now())
	r := doRaw(t, req)
	if r.Status != 403 || r.Body["__type"] != "InvalidSignatureException" {
		t.Fatalf("tampered body: %d %s", r.Status, r.Raw)
	}
	for _, name := range []string{"wg-a", "wg-b"} {
		_, err := s.Client.GetWorkGroup(context.Background(), &athena.GetWorkGroupInput{WorkGroup: aws.String(name)})
		wantInvalid(t, err, "", name)
	}
}
