package perf

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/liveness-operator/liveness-operator/internal/face"
)

// baselineNamespace holds the bare app server's Secrets.
const baselineNamespace = "baseline"

// closedLoop is the result of n sessions driven by a fixed number of closed-loop clients.
type closedLoop struct {
	Secret durations // create call -> token Secret seen by the watch
	Ready  durations // create call -> Ready=True seen by the watch (operator only)
	// Wall runs from the first create call to the last token Secret seen (Secret) and to the
	// last Ready seen (operator only).
	WallSecret, WallReady time.Duration
	Start                 time.Time
	LastReady             time.Time
}

// waitSecret waits for the named token Secret, which a client asked for at start, and records
// its latency; mu guards res across the loop's clients.
func (res *closedLoop) waitSecret(tr *tracker, mu *sync.Mutex, ns, name string, start time.Time) error {
	seen, err := tr.wait(markSecret, ns, name, time.Minute)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	res.Secret = append(res.Secret, seen.Sub(start))
	res.WallSecret = max(res.WallSecret, seen.Sub(res.Start))
	return nil
}

// rate is sessions per second over a wall time.
func rate(n int, wall time.Duration) float64 { return float64(n) / wall.Seconds() }

// runBaseline is the bare app server TARGETS.md compares against: each of the clients does one
// Face create with the real Face client and one Secret create holding the token, then waits
// until the watch sees the Secret, exactly like the operator's burst clients wait.
func runBaseline(ctx context.Context, c *cluster, fe *faceEmulator, tr *tracker, prefix string, n, clients int) (closedLoop, error) {
	fc, err := face.NewClient(face.Options{Endpoint: fe.URL, APIKey: faceKey})
	if err != nil {
		return closedLoop{}, err
	}
	var (
		mu  sync.Mutex
		res closedLoop
	)
	res.Start = time.Now()
	err = forEach(ctx, newSessions(prefix, n), clients, func(ctx context.Context, s session) error {
		start := time.Now()
		if err := bareAppServerSession(ctx, c, fc, s); err != nil {
			return err
		}
		return res.waitSecret(tr, &mu, baselineNamespace, s.Name, start)
	})
	return res, err
}

// bareAppServerSession is what the bare app server does for one session: a Face create with
// the real Face client, then one Secret create holding the token in baselineNamespace.
func bareAppServerSession(ctx context.Context, c *cluster, fc face.Client, s session) error {
	fs, err := faceCreate(ctx, fc, s)
	if err != nil {
		return fmt.Errorf("baseline Face create: %w", err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: baselineNamespace},
		Immutable:  ptr.To(true),
		StringData: map[string]string{"authToken": fs.AuthToken, "sessionId": fs.SessionID},
	}
	if err := retryCreate(ctx, func(ctx context.Context) error { return c.Admin.Create(ctx, secret) }); err != nil {
		return fmt.Errorf("baseline Secret create: %w", err)
	}
	return nil
}

// faceCreate is an app server's Face create for a session: Passive, the session's device, the
// default 600 s token.
func faceCreate(ctx context.Context, fc face.Client, s session) (*face.LivenessSession, error) {
	return fc.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{
		LivenessOperationMode:        face.LivenessOperationMode("Passive"),
		DeviceCorrelationID:          s.Device,
		AuthTokenTimeToLiveInSeconds: ptr.To[int32](600),
	})
}
