package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cairnkv/cairn/internal/testbin"
)

// browser is Debian's chromium, headless, driven over CDP (chromedp), with
// one tab on a member's dashboard. It records what a user would call a
// fault: console errors, uncaught exceptions, and any request to a place
// other than the member.
type browser struct {
	t      testing.TB
	ctx    context.Context
	origin string // the member: http://127.0.0.1:port
	shots  string // where screenshots go
	n      int    // screenshots taken

	mu       sync.Mutex
	faults   []string
	requests int
}

// newBrowser starts chromium (the test is skipped, naming the Debian
// package, when it is not installed) at 1280x800.
func newBrowser(t testing.TB, origin string) *browser {
	t.Helper()
	path := testbin.Need(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root on CI
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, origin: origin, shots: t.ArtifactDir()}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.observe))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.ctx = ctx
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	for _, enable := range []cdp.Command[cdp.Empty, cdp.Empty]{log.Enable, runtime.Enable} {
		if _, err := chromedp.Call(ctx, enable, cdp.Empty{}); err != nil {
			t.Fatalf("chromium: %v", err)
		}
	}
	if _, err := chromedp.Call(ctx, page.Enable, page.EnableParams{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return b
}

func (b *browser) fault(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, fmt.Sprintf(format, args...))
}

// observe records faults; it accepts every confirm() (a user saying yes).
func (b *browser) observe(ev any) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.fault("console.%s: %s", e.Type, strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.fault("uncaught exception: %s", msg)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			b.fault("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		b.requests++
		b.mu.Unlock()
		if u := e.Request.URL; !strings.HasPrefix(u, b.origin+"/") && !strings.HasPrefix(u, "data:") {
			b.fault("request outside the member: %s", u)
		}
	case *network.EventWebSocketCreated:
		if ws := "ws" + strings.TrimPrefix(b.origin, "http") + "/"; !strings.HasPrefix(e.URL, ws) {
			b.fault("websocket outside the member: %s", e.URL)
		}
	case *page.EventJavascriptDialogOpening:
		go chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
	}
}

// run runs actions with a generous bound, so that a page that never shows
// what is awaited fails the test instead of hanging it.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads the dashboard at fragment (#/...).
func (b *browser) open(fragment string) {
	b.t.Helper()
	b.run("open "+fragment, chromedp.Navigate(b.origin+"/ui/"+fragment), chromedp.WaitVisible(chromedp.CSS(`header nav`)))
}

// until polls the JavaScript expression cond until it is true.
func (b *browser) until(what, cond string) {
	b.t.Helper()
	b.run(what, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))(ctx, t)
		return chromedp.Void{}, err
	})
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	var out T
	b.run("eval "+expr, func(ctx context.Context, t *chromedp.Target) (v chromedp.Void, err error) {
		out, err = chromedp.Evaluate[T](expr)(ctx, t)
		return v, err
	})
	return out
}

// typeInto replaces the text of the CodeMirror editor under sel as a user
// does: focus, select all, type (inserted as one piece of text, so that
// the editor's bracket closing does not add to it).
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.run("type into "+sel,
		chromedp.Click(chromedp.CSS(sel+" .cm-content")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// screenshot saves the page as NN-name.png in the test's artifact
// directory (kept with go test -artifacts).
func (b *browser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot: %v", err)
	}
}

// checkClean fails the test for each fault the page showed.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.requests == 0 {
		b.t.Errorf("the browser recorded no request at all: the network events are not observed")
	}
	for _, f := range b.faults {
		b.t.Errorf("the page: %s", f)
	}
}

// clickCSS clicks the first element that matches the CSS selector sel.
func clickCSS(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// expectFaults waits until a fault containing each of want is recorded,
// then forgets them: it shows that the recorder sees what it must.
func (b *browser) expectFaults(want ...string) {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b.mu.Lock()
		var missing []string
		for _, w := range want {
			if !slices.ContainsFunc(b.faults, func(f string) bool { return strings.Contains(f, w) }) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			b.faults = nil
		}
		b.mu.Unlock()
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no fault recorded with %q; recorded: %q", missing, b.faults)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// when waits for the JavaScript expression cond, checked at every frame,
// and returns the page's clock (performance.now(), milliseconds since the
// navigation began) when it first held.
func (b *browser) when(what, cond string) float64 {
	b.t.Helper()
	var at float64
	b.run(what, func(ctx context.Context, t *chromedp.Target) (v chromedp.Void, err error) {
		at, err = chromedp.Poll[float64]("("+cond+") && performance.now()", chromedp.WithPollingTimeout(90*time.Second))(ctx, t)
		return v, err
	})
	return at
}
