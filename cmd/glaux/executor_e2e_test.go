package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// TestExecutorList: ListExecutors shows the live Spark driver as the REGISTERED coordinator
// of one DPU, with StartDateTime in epoch milliseconds.
func TestExecutorList(t *testing.T) {
	s, session := sharedSpark(t)
	c, ctx := s.Client, context.Background()
	started := aws.ToTime(getSession(t, c, session).Status.StartDateTime)
	for _, tc := range []struct {
		name   string
		filter types.ExecutorState
		want   bool // the coordinator is listed
	}{
		{"all", "", true},
		{"REGISTERED", types.ExecutorStateRegistered, true},
		{"TERMINATED", types.ExecutorStateTerminated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.ListExecutors(ctx, &athena.ListExecutorsInput{SessionId: aws.String(session), ExecutorStateFilter: tc.filter})
			if err != nil {
				t.Fatalf("ListExecutors: %v", err)
			}
			if aws.ToString(out.SessionId) != session {
				t.Errorf("SessionId %q", aws.ToString(out.SessionId))
			}
			var coordinators []types.ExecutorsSummary
			for _, e := range out.ExecutorsSummary {
				if tc.filter != "" && e.ExecutorState != tc.filter {
					t.Errorf("filter %s listed a %s executor", tc.filter, e.ExecutorState)
				}
				if e.ExecutorType == types.ExecutorTypeCoordinator {
					coordinators = append(coordinators, e)
				}
			}
			if !tc.want {
				if len(coordinators) != 0 {
					t.Errorf("filter %s listed the live coordinator: %+v", tc.filter, coordinators)
				}
				return
			}
			if len(coordinators) != 1 {
				t.Fatalf("want one coordinator, got %+v", out.ExecutorsSummary)
			}
			e := coordinators[0]
			if e.ExecutorState != types.ExecutorStateRegistered || aws.ToInt64(e.ExecutorSize) != 1 || aws.ToString(e.ExecutorId) == "" || e.TerminationDateTime != nil {
				t.Errorf("coordinator: id %q state %s size %d terminated %v", aws.ToString(e.ExecutorId), e.ExecutorState, aws.ToInt64(e.ExecutorSize), e.TerminationDateTime)
			}
			// Epoch milliseconds: within the session's life (seconds would be ~1000x smaller).
			ms := aws.ToInt64(e.StartDateTime)
			at := time.UnixMilli(ms)
			if at.Before(started.Add(-time.Minute)) || at.After(time.Now().Add(time.Second)) {
				t.Errorf("StartDateTime %d (%v) is not epoch millis within the session's life (started %v)", ms, at, started)
			}
		})
	}
	page, err := c.ListExecutors(ctx, &athena.ListExecutorsInput{SessionId: aws.String(session), MaxResults: aws.Int32(1)})
	if err != nil || len(page.ExecutorsSummary) != 1 {
		t.Errorf("ListExecutors MaxResults 1: %+v, %v", page, err)
	}
}
