package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// TestServeThreadContext: in a Kubernetes thread, "what if we need GPUs?"
// without a mention is answered for EKS, and a second follow-up keeps the
// context; chatter in between changes nothing.
func TestServeThreadContext(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, "LOG_LEVEL=debug")}

	thread, first := v.mention("C1", "we want to run our containers on Kubernetes on AWS")
	if !strings.Contains(topServices(first), "EKS") {
		t.Fatalf("the Kubernetes question was not answered with EKS:\n%s", blocksText(first))
	}
	v.send(srv.EventEnvelope("", threadMessage(srv, "C1", thread, "what if we need GPUs?")))
	gpu := v.posts("C1", thread, 2)[1]
	if text := blocksText(gpu); !strings.Contains(topServices(gpu), "EKS") || !strings.Contains(strings.ToLower(text), "gpu") {
		t.Errorf("\"what if we need GPUs?\" in the Kubernetes thread is not answered for EKS with GPUs:\n%s", text)
	}
	v.send(srv.EventEnvelope("", threadMessage(srv, "C1", thread, "thanks, will do")))
	v.send(srv.EventEnvelope("", threadMessage(srv, "C1", thread, "and how do we keep costs down with spot?")))
	spot := v.posts("C1", thread, 3)[2]
	if text := blocksText(spot); !strings.Contains(topServices(spot), "EKS") || !strings.Contains(strings.ToLower(text), "spot") {
		t.Errorf("the second follow-up lost the Kubernetes context:\n%s", text)
	}
}
