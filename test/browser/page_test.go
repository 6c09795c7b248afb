package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// screenshotDir is where the screenshots of docs/app-server.md are written.
func screenshotDir() string { return filepath.Join(harness.RepoRoot(), "docs", "images") }

// browser is one headless Chromium tab on the app server's page.
type browser struct {
	ctx    context.Context
	appURL string
}

func newBrowser(t *testing.T, appURL string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // the tests run as root
		chromedp.WindowSize(900, 1000),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first action starts the browser, which lives as long as the context of that call:
	// start it on the test's context, not on one call's timeout.
	require.NoError(t, chromedp.Do(ctx))
	return &browser{ctx: ctx, appURL: appURL}
}

// check is what the page is asked to do: a verify session needs a reference image file.
type check struct {
	reference string // file to upload; empty: a plain session
	decision  string // realface or spoofface
}

// seen is what the page showed when its flow ended.
type seen struct {
	state, outcome, decision, match, errorCode, errorMessage, errorOrigin, steps string
}

// run loads the page, fills the form, clicks "Start liveness check", waits until the page has
// released its session, and reads what it shows.
func (b *browser) run(t *testing.T, c check) seen {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(b.appURL + "/"),
		chromedp.WaitVisible(chromedp.ID("start")),
		chromedp.SetValue(chromedp.ID("decision"), c.decision),
	}
	if c.reference != "" {
		steps = append(steps,
			chromedp.Click(chromedp.ID("verify")),
			chromedp.SetUploadFiles(chromedp.ID("reference"), []string{c.reference}),
		)
	}
	steps = append(steps,
		chromedp.Click(chromedp.ID("start")),
		chromedp.WaitReady(chromedp.CSS(`body[data-released="true"]`)),
	)
	require.NoError(t, chromedp.Do(ctx, steps...))
	var s seen
	for dst, expr := range map[*string]string{
		&s.state:        `document.body.dataset.state`,
		&s.outcome:      `document.getElementById("outcome").textContent`,
		&s.decision:     `document.getElementById("liveness-decision").textContent`,
		&s.match:        `document.getElementById("match-confidence").textContent`,
		&s.errorCode:    `document.getElementById("error-code").textContent`,
		&s.errorMessage: `document.getElementById("error-message").textContent`,
		&s.errorOrigin:  `document.getElementById("error-origin").textContent`,
		&s.steps:        `document.getElementById("steps").innerText`,
	} {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		require.NoError(t, err, expr)
		*dst = v
	}
	return s
}

// screenshot saves the whole page as docs/images/NAME.png.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(screenshotDir(), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(screenshotDir(), name+".png"), png, 0o644))
}

// The page runs the whole flow in a real browser against the real operator: plain and verify
// sessions, a spoof, and a reference image only the operator refuses (the page shows its
// reason).
func TestPageRunsTheLivenessFlow(t *testing.T) {
	sys := startSystem(t)
	b := newBrowser(t, sys.appURL)
	ctx := context.Background()

	ctxStart, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	require.NoError(t, chromedp.Do(ctxStart, chromedp.Navigate(sys.appURL+"/"), chromedp.WaitVisible(chromedp.ID("start"))))
	cancel()
	b.screenshot(t, "app-server-start")

	live := b.run(t, check{decision: "realface"})
	require.Equal(t, "done", live.state, "steps:\n%s\nerror: %s %s", live.steps, live.errorCode, live.errorMessage)
	require.Equal(t, "Live", live.outcome)
	require.Equal(t, "realface", live.decision)
	require.Contains(t, live.steps, "Face SDK: liveness check performed.")
	require.Contains(t, live.steps, "released: cloud session deleted, token revoked")
	b.screenshot(t, "app-server-live")

	reference := filepath.Join(harness.RepoRoot(), "config", "samples", "verify", "reference-face.png")
	verified := b.run(t, check{reference: reference, decision: "realface"})
	require.Equal(t, "done", verified.state, "steps:\n%s\nerror: %s %s", verified.steps, verified.errorCode, verified.errorMessage)
	require.Equal(t, string(facev1.OutcomeVerified), verified.outcome)
	require.Equal(t, "0.95 (identical)", verified.match, "the emulator's default match confidence")
	b.screenshot(t, "app-server-verified")

	spoof := b.run(t, check{decision: "spoofface"})
	require.Equal(t, "done", spoof.state, "steps:\n%s", spoof.steps)
	require.Equal(t, string(facev1.OutcomeSpoof), spoof.outcome)
	require.Equal(t, "spoofface", spoof.decision)
	b.screenshot(t, "app-server-spoof")

	tiny := filepath.Join(t.TempDir(), "tiny-face.png")
	require.NoError(t, os.WriteFile(tiny, tinyPNG(t), 0o644))
	bad := b.run(t, check{reference: tiny, decision: "realface"})
	require.Equal(t, "failed", bad.state, "steps:\n%s", bad.steps)
	require.Equal(t, facev1.ReasonInvalidReferenceImage, bad.errorCode, "the operator's reason")
	require.Contains(t, bad.errorMessage, "Face needs at least 1 KB")
	require.Contains(t, bad.errorOrigin, "502")
	b.screenshot(t, "app-server-bad-reference")

	// Every session was released: the operator deleted each cloud session it created.
	list := &facev1.LivenessSessionList{}
	require.NoError(t, sys.admin.List(ctx, list))
	require.Empty(t, list.Items)
	cloud := sys.emu.Sessions()
	require.Len(t, cloud, 3, "the bad reference image never reached Face")
	for _, s := range cloud {
		require.True(t, s.Deleted, s.SessionID)
		require.NotContains(t, sys.appServer.String(), s.AuthToken, "the app server never logs a token")
		require.NotContains(t, sys.manager.String(), s.AuthToken)
	}
	img, err := os.ReadFile(reference)
	require.NoError(t, err)
	require.NotContains(t, sys.appServer.String(), base64.StdEncoding.EncodeToString(img)[:48], "nor image bytes")
}

// tinyPNG is a real PNG that passes a format check but is too small for Face (20x20 px,
// under 1 KB): only the operator refuses it.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 20, 20))))
	return buf.Bytes()
}
