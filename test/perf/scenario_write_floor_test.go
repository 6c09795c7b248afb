package perf

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// BenchmarkWriteFloor measures what the API server charges for a session's four writes when
// nothing but those writes happens: a script makes exactly the manager's writes (the claim
// patch, the token Secret create, the status patch at Ready), shaped like the manager's
// (copied from a session the real manager made Ready) and sent as the manager's user, after
// the load generator's create, while the manager's watches are replicated in this process and
// bin/manager is stopped. Next to the bare app server in the same rounds, it tells how much of
// the operator's API-server cost is the writes themselves (the floor for any implementation
// that keeps them) and how much is the operator's own.
//
// Each round: the bare app server; then each write kind on its own (every session's create,
// then every claim, ...), for the API-server CPU per request of each kind, with the status
// patch both as the manager writes it and with a minimal status (the session id and Ready
// only), to show what a smaller status would save; then the scripted sessions end to end from
// closed-loop clients, Face create included, for the throughput the writes alone allow.
func BenchmarkWriteFloor(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace, baselineNamespace}, []string{perfNamespace, baselineNamespace})
	tmpl, err := captureManagerWrites(ctx, sys)
	if err != nil {
		b.Fatal(err)
	}
	sys.mgr.stop()
	opc, err := operatorClient(sys.c)
	if err != nil {
		b.Fatal(err)
	}
	fc, err := face.NewClient(face.Options{Endpoint: sys.fe.URL, APIKey: faceKey})
	if err != nil {
		b.Fatal(err)
	}
	w := scriptedWriter{admin: sys.c.Admin, op: opc, tmpl: tmpl}
	var rounds []floorRound
	for r := 1; r <= s.BurstRounds; r++ {
		round, err := runFloorRound(ctx, sys, w, fc, fmt.Sprint(r), s)
		if err != nil {
			b.Fatal(err)
		}
		rounds = append(rounds, round)
	}
	med := medianFloor(rounds)
	b.ReportMetric(med.ScriptedMS, "scripted-apiserver-cpu-ms/session")
	b.ReportMetric(med.ScriptedMS/(4*med.BareMS), "scripted/4xbare")
	addSection("2b. The write floor: the manager's writes from a script", floorReport(rounds, med, s))
}

// managerWrites are a real session's writes by the manager, kept as templates: its status at
// Ready and its token Secret.
type managerWrites struct {
	Status facev1.LivenessSessionStatus
	Secret *corev1.Secret
}

// captureManagerWrites has the real manager make one session Ready and keeps what it wrote.
func captureManagerWrites(ctx context.Context, sys system) (managerWrites, error) {
	s := newSessions("template", 1)[0]
	if err := sys.c.Admin.Create(ctx, s.object()); err != nil {
		return managerWrites{}, fmt.Errorf("template create: %w", err)
	}
	if _, err := sys.tr.wait(markReady, perfNamespace, s.Name, time.Minute); err != nil {
		return managerWrites{}, fmt.Errorf("template: %w", err)
	}
	ls := &facev1.LivenessSession{}
	if err := sys.c.Admin.Get(ctx, types.NamespacedName{Namespace: perfNamespace, Name: s.Name}, ls); err != nil {
		return managerWrites{}, err
	}
	secret := &corev1.Secret{}
	if err := sys.c.Admin.Get(ctx, types.NamespacedName{Namespace: perfNamespace, Name: ls.Status.TokenSecretName}, secret); err != nil {
		return managerWrites{}, fmt.Errorf("template token Secret: %w", err)
	}
	return managerWrites{Status: ls.Status, Secret: secret}, nil
}

// operatorClient is a client as the manager's user, with the manager's field manager name, so
// the script's writes are authorized, audited and field-tracked like the manager's.
func operatorClient(c *cluster) (client.Client, error) {
	cl, err := client.New(c.OperatorConfig, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		return nil, err
	}
	return client.WithFieldOwner(cl, "manager"), nil
}

// startManagerWatches runs the watches bin/manager runs (its cache options, as its user), so
// the API server fans every write out to the same watchers as when the manager runs. The
// returned function stops them.
func startManagerWatches(ctx context.Context, c *cluster) (func(), error) {
	opts := controllers.CacheOptions(nil, nil)
	opts.Scheme = harness.Scheme()
	ca, err := cache.New(c.OperatorConfig, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	secrets := &metav1.PartialObjectMetadata{}
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	for _, o := range []client.Object{&facev1.LivenessSession{}, secrets, &facev1.FaceAccount{}, &facev1.ClusterFaceAccount{}} {
		if _, err := ca.GetInformer(ctx, o); err != nil {
			cancel()
			return nil, err
		}
	}
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		cancel()
		return nil, fmt.Errorf("the manager's watches did not sync")
	}
	return cancel, nil
}

// scriptedWriter makes the writes of one session as the load generator (the create) and the
// manager (the rest) make them.
type scriptedWriter struct {
	admin, op client.Client
	tmpl      managerWrites
}

// create is the app's create of the LivenessSession.
func (w scriptedWriter) create(ctx context.Context, s session) (*facev1.LivenessSession, error) {
	ls := s.object()
	err := retryCreate(ctx, func(ctx context.Context) error { return w.admin.Create(ctx, ls) })
	return ls, err
}

// claim is the manager's claim: the create-pending annotation and the finalizer, a merge patch
// with optimistic concurrency (controllers/session claimCreate).
func (w scriptedWriter) claim(ctx context.Context, ls *facev1.LivenessSession) error {
	base := ls.DeepCopy()
	controllerutil.AddFinalizer(ls, facev1.FinalizerName)
	ls.Annotations = map[string]string{facev1.AnnotationCreatePending: time.Now().UTC().Format(time.RFC3339Nano)}
	return w.op.Patch(ctx, ls, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// secret is the manager's token Secret for ls: the template's labels, annotations, type and
// keys, controlled by ls, holding the given session's id and token.
func (w scriptedWriter) secret(ctx context.Context, ls *facev1.LivenessSession, sessionID, token string) error {
	t := w.tmpl.Secret
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: ls.Name, Namespace: ls.Namespace,
			Labels: maps.Clone(t.Labels), Annotations: maps.Clone(t.Annotations),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: facev1.GroupVersion.String(), Kind: "LivenessSession", Name: ls.Name, UID: ls.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Type: t.Type, Immutable: t.Immutable, Data: maps.Clone(t.Data),
	}
	sec.Labels[facev1.LabelSessionName] = ls.Name
	sec.Annotations[facev1.AnnotationSessionID] = sessionID
	sec.Data[facev1.SecretKeyAuthToken] = []byte(token)
	sec.Data[facev1.SecretKeySessionID] = []byte(sessionID)
	return w.op.Create(ctx, sec)
}

// status is the manager's status patch at Ready (a merge patch from the empty status, with
// optimistic concurrency), writing the given status with the session's own id.
func (w scriptedWriter) status(ctx context.Context, ls *facev1.LivenessSession, st facev1.LivenessSessionStatus, sessionID string) error {
	base := ls.DeepCopy()
	ls.Status = *st.DeepCopy()
	ls.Status.SessionID = sessionID
	ls.Status.TokenSecretName = ls.Name
	return w.op.Status().Patch(ctx, ls, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// minimalStatus is the smallest status that still says Ready: the session id and the Ready
// condition. It measures what shrinking the status would save, not a status the operator could
// write (the rest is the API's contract).
func minimalStatus(st facev1.LivenessSessionStatus) facev1.LivenessSessionStatus {
	out := facev1.LivenessSessionStatus{SessionID: st.SessionID}
	if c := meta.FindStatusCondition(st.Conditions, facev1.ConditionReady); c != nil {
		out.Conditions = []metav1.Condition{*c}
	}
	return out
}

// floorRound is one round's figures: API-server CPU in ms per request or per session, rates in
// sessions per second.
type floorRound struct {
	BareMS, BareRate, BareTotalMS float64
	// One write kind at a time, per request.
	CreateMS, ClaimMS, SecretMS, StatusMS, MinimalStatusMS float64
	// The scripted sessions end to end.
	ScriptedMS, ScriptedRate, ScriptedTotalMS float64
}

// runFloorRound runs one round (see BenchmarkWriteFloor) with fresh names (label).
func runFloorRound(ctx context.Context, sys system, w scriptedWriter, fc face.Client, label string, s scale) (floorRound, error) {
	var r floorRound
	stop, err := startManagerWatches(ctx, sys.c)
	if err != nil {
		return r, err
	}
	defer stop()
	n, clients := s.BurstSessions, s.BurstClients

	cpu := newCPUMeter(nil)
	base, err := runBaseline(ctx, sys.c, sys.fe, sys.tr, "floorbase"+label, n, clients)
	if err != nil {
		return r, err
	}
	r.BareMS, r.BareTotalMS, r.BareRate = 1000*cpu.used("kube-apiserver")/float64(n), 1000*cpu.total()/float64(n), rate(n, base.WallSecret)

	// Each write kind on its own: the API-server CPU of one phase over its requests.
	sessions := newSessions("floor"+label, n)
	objs := make([]*facev1.LivenessSession, n)
	half := n / 2
	phase := func(of []session, write func(context.Context, session) error) (float64, error) {
		cpu := newCPUMeter(nil)
		if err := forEach(ctx, of, clients, write); err != nil {
			return 0, err
		}
		return 1000 * cpu.used("kube-apiserver") / float64(len(of)), nil
	}
	tmplID := w.tmpl.Status.SessionID
	tmplToken := string(w.tmpl.Secret.Data[facev1.SecretKeyAuthToken])
	steps := []struct {
		into *float64
		of   []session
		fn   func(context.Context, session) error
	}{
		{&r.CreateMS, sessions, func(ctx context.Context, s session) (err error) { objs[s.Index], err = w.create(ctx, s); return err }},
		{&r.ClaimMS, sessions, func(ctx context.Context, s session) error { return w.claim(ctx, objs[s.Index]) }},
		{&r.SecretMS, sessions, func(ctx context.Context, s session) error { return w.secret(ctx, objs[s.Index], tmplID, tmplToken) }},
		{&r.StatusMS, sessions[:half], func(ctx context.Context, s session) error {
			return w.status(ctx, objs[s.Index], w.tmpl.Status, tmplID)
		}},
		{&r.MinimalStatusMS, sessions[half:], func(ctx context.Context, s session) error {
			return w.status(ctx, objs[s.Index], minimalStatus(w.tmpl.Status), tmplID)
		}},
	}
	for _, st := range steps {
		if *st.into, err = phase(st.of, st.fn); err != nil {
			return r, err
		}
	}

	// The scripted sessions end to end, each client waiting for its Ready like the burst's.
	var (
		mu   sync.Mutex
		last time.Time
	)
	cpu = newCPUMeter(nil)
	start := time.Now()
	err = forEach(ctx, newSessions("floorloop"+label, n), clients, func(ctx context.Context, s session) error {
		ls, err := w.create(ctx, s)
		if err != nil {
			return err
		}
		if err := w.claim(ctx, ls); err != nil {
			return err
		}
		fs, err := faceCreate(ctx, fc, s)
		if err != nil {
			return err
		}
		if err := w.secret(ctx, ls, fs.SessionID, fs.AuthToken); err != nil {
			return err
		}
		if err := w.status(ctx, ls, w.tmpl.Status, fs.SessionID); err != nil {
			return err
		}
		ready, err := sys.tr.wait(markReady, perfNamespace, s.Name, time.Minute)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		last = maxTime(last, ready)
		return nil
	})
	if err != nil {
		return r, err
	}
	r.ScriptedMS, r.ScriptedTotalMS, r.ScriptedRate = 1000*cpu.used("kube-apiserver")/float64(n), 1000*cpu.total()/float64(n), rate(n, last.Sub(start))
	return r, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// medianFloor is the median of each figure over the rounds.
func medianFloor(rounds []floorRound) floorRound {
	pick := func(get func(floorRound) float64) float64 { return medianBy(rounds, get) }
	return floorRound{
		BareMS: pick(func(r floorRound) float64 { return r.BareMS }), BareRate: pick(func(r floorRound) float64 { return r.BareRate }),
		BareTotalMS: pick(func(r floorRound) float64 { return r.BareTotalMS }),
		CreateMS:    pick(func(r floorRound) float64 { return r.CreateMS }), ClaimMS: pick(func(r floorRound) float64 { return r.ClaimMS }),
		SecretMS: pick(func(r floorRound) float64 { return r.SecretMS }), StatusMS: pick(func(r floorRound) float64 { return r.StatusMS }),
		MinimalStatusMS: pick(func(r floorRound) float64 { return r.MinimalStatusMS }),
		ScriptedMS:      pick(func(r floorRound) float64 { return r.ScriptedMS }), ScriptedRate: pick(func(r floorRound) float64 { return r.ScriptedRate }),
		ScriptedTotalMS: pick(func(r floorRound) float64 { return r.ScriptedTotalMS }),
	}
}

// floorReport renders the rounds, their medians and what they mean for the bars.
func floorReport(rounds []floorRound, med floorRound, s scale) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The manager's three writes made by a script, as the manager's user and shaped like the manager's (copied from a session it made Ready), "+
		"after the load generator's create; bin/manager stopped and its watches replicated in the benchmark process, so the API server fans out to the same watchers. "+
		"%d sessions, %d closed-loop clients, %d rounds next to the bare app server in one cluster; medians in bold. CPU is kube-apiserver's.\n\n", s.BurstSessions, s.BurstClients, len(rounds))
	b.WriteString("| round | bare Secret create | app's create | claim patch | token Secret create | status patch at Ready | same, minimal status | sum of the four | scripted session, end to end | scripted / (4 x bare) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	row := func(name string, r floorRound) {
		sum := r.CreateMS + r.ClaimMS + r.SecretMS + r.StatusMS
		fmt.Fprintf(&b, "| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.2fx |\n", name,
			r.BareMS, r.CreateMS, r.ClaimMS, r.SecretMS, r.StatusMS, r.MinimalStatusMS, sum, r.ScriptedMS, r.ScriptedMS/(4*r.BareMS))
	}
	for i, r := range rounds {
		row(fmt.Sprint(i+1), r)
	}
	row("**median**", med)
	b.WriteString("\n| round | bare app server: sessions/s | scripted sessions: sessions/s | ratio | all CPU per session: bare / scripted |\n|---|---|---|---|---|\n")
	rrow := func(name string, r floorRound) {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2f | %.1f ms / %.1f ms |\n", name, r.BareRate, r.ScriptedRate, r.ScriptedRate/r.BareRate, r.BareTotalMS, r.ScriptedTotalMS)
	}
	for i, r := range rounds {
		rrow(fmt.Sprint(i+1), r)
	}
	rrow("**median**", med)
	fmt.Fprintf(&b, "\nThe scripted session is the floor of any operator that makes these writes: it has no reconcile logic, no cache reads and no queue. "+
		"Its API-server CPU is %.2fx four bare Secret creates (issue 13's bar: 2x) and its throughput %.2fx the bare app server's (bar: 0.2x), on %d cores. "+
		"The custom-resource writes cost %.1f, %.1f and %.1f ms against %.1f ms for the token Secret; a minimal status would make the status patch %.1f ms instead of %.1f ms.\n\n",
		med.ScriptedMS/(4*med.BareMS), med.ScriptedRate/med.BareRate, runtime.NumCPU(), med.CreateMS, med.ClaimMS, med.StatusMS, med.SecretMS, med.MinimalStatusMS, med.StatusMS)
	return b.String()
}
