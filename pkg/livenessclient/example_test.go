package livenessclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// An app server's whole flow. It needs a cluster running the operator, so it is compiled
// but not run by go test.
func Example() {
	ctx := context.Background()
	c, err := livenessclient.NewFromKubeconfig("", "shop") // kubeconfig as kubectl finds it
	if err != nil {
		log.Fatal(err)
	}

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := c.Start(startCtx, livenessclient.Spec{OperationMode: "PassiveActive"})
	var stalled *livenessclient.StalledError
	if errors.As(err, &stalled) {
		log.Fatalf("the operator needs a human: %s: %s", stalled.Reason, stalled.Message)
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println("hand this to the frontend:", s.Name, s.ExpiresAt) // and s.AuthToken, never logged

	// ... the frontend runs the Face SDK with the token and reports back ...
	if err := c.Completed(ctx, s.Name); err != nil {
		log.Fatal(err)
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	r, err := c.Outcome(waitCtx, s.Name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("outcome:", r.Outcome, r.LivenessDecision)
	if err := c.Release(ctx, s.Name); err != nil {
		log.Fatal(err)
	}
}

// A liveness-with-verify session: the reference image's bytes are stored in a Secret owned
// by the session.
func ExampleClient_Start_verify() {
	ctx := context.Background()
	c, err := livenessclient.NewFromKubeconfig("", "kyc")
	if err != nil {
		log.Fatal(err)
	}
	photo, err := os.ReadFile("id-photo.jpg")
	if err != nil {
		log.Fatal(err)
	}
	s, err := c.Start(ctx, livenessclient.Spec{Verification: &livenessclient.Verification{
		ReferenceImage:      photo,
		ConfidenceThreshold: "0.8",
	}})
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Outcome(ctx, s.Name)
	if err != nil {
		log.Fatal(err)
	}
	if a := r.Latest(); a != nil {
		fmt.Println(r.Outcome, "match confidence", a.MatchConfidence)
	}
}
