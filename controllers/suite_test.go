package controllers_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// One control plane serves every integration test in this package, started by the first test
// that needs it (unit tests run without it); each test isolates itself in its own namespace
// with its own emulator and manager. The client reads straight from the API server.
var (
	cpConfig  *rest.Config
	k8sClient client.Client
	shared    = harness.SharedControlPlane{OnStart: func(cp *harness.ControlPlane, admin client.Client) {
		cpConfig, k8sClient = cp.Config, admin
	}}
)

func TestMain(m *testing.M) {
	// The reconcilers' logs go to a file (LIVENESS_TEST_LOG) when asked for, else nowhere.
	logger := logr.Discard()
	if path := os.Getenv("LIVENESS_TEST_LOG"); path != "" {
		if f, err := os.Create(path); err == nil {
			defer f.Close()
			logger = zap.New(zap.WriteTo(f), zap.UseDevMode(true))
		}
	}
	ctrl.SetLogger(logger)
	os.Exit(shared.Run(m))
}

// needControlPlane starts the shared control plane on first use.
func needControlPlane(t *testing.T) {
	t.Helper()
	shared.Start(t)
}

// newNamespace starts the control plane if needed and creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	needControlPlane(t)
	name := harness.NamespaceName("t", t)
	require.NoError(t, k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	return name
}

// newSession is a minimal valid LivenessSession with a device correlation id unique to it,
// so the emulator's inventory can be searched for its sessions.
func newSession(ns, name string) *facev1.LivenessSession {
	return &facev1.LivenessSession{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: facev1.LivenessSessionSpec{
			OperationMode:       facev1.OperationModePassive,
			DeviceCorrelationID: ns + "-" + name,
		},
	}
}

// get reads a LivenessSession straight from the API server.
func get(t *testing.T, ns, name string) *facev1.LivenessSession {
	t.Helper()
	ls := &facev1.LivenessSession{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, ls))
	return ls
}

// conditionIs returns "" when the session's condition has the status (and reason, if given),
// else a description of what it has.
func conditionIs(ls *facev1.LivenessSession, condType string, status metav1.ConditionStatus, reason string) string {
	c := meta.FindStatusCondition(ls.Status.Conditions, condType)
	if c == nil {
		return fmt.Sprintf("%s/%s has no %s condition yet", ls.Namespace, ls.Name, condType)
	}
	if c.Status != status || (reason != "" && c.Reason != reason) {
		return fmt.Sprintf("%s is %s/%s (%s), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
	}
	return ""
}

// waitCondition waits until the session's condition has the status and reason.
func waitCondition(t *testing.T, ns, name, condType string, status metav1.ConditionStatus, reason string) *facev1.LivenessSession {
	t.Helper()
	return waitConditionWithin(t, ns, name, condType, status, reason, 20*time.Second)
}

// waitConditionWithin is waitCondition with its own timeout.
func waitConditionWithin(t *testing.T, ns, name, condType string, status metav1.ConditionStatus, reason string, timeout time.Duration) *facev1.LivenessSession {
	t.Helper()
	var ls *facev1.LivenessSession
	harness.Eventually(t, timeout, func() string {
		ls = &facev1.LivenessSession{}
		if err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, ls); err != nil {
			return err.Error()
		}
		return conditionIs(ls, condType, status, reason)
	})
	return ls
}

// requestSync annotates the session the way an app server does when its frontend reports
// that the end user finished.
func requestSync(t *testing.T, ns, name string) {
	t.Helper()
	ls := get(t, ns, name)
	base := ls.DeepCopy()
	if ls.Annotations == nil {
		ls.Annotations = map[string]string{}
	}
	ls.Annotations[facev1.AnnotationSyncRequestedAt] = time.Now().UTC().Format(time.RFC3339Nano)
	require.NoError(t, k8sClient.Patch(context.Background(), ls, client.MergeFrom(base)))
}

// clientMergeFrom is a merge patch from base.
func clientMergeFrom(base client.Object) client.Patch { return client.MergeFrom(base) }
