package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
	"github.com/cairnkv/cairn/web"
)

func get(t *testing.T, srv *httptest.Server, path string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestHandler: the page, its bundle with the policy that keeps it on this
// member, gzip, ETag revalidation, the redirect and 404s.
func TestHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui", web.Handler())
	mux.Handle("/ui/", web.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res := get(t, srv, "/ui/", map[string]string{"Accept-Encoding": "identity"})
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!bytes.Contains(body, []byte(`<script type="module" src="app.js">`)) {
		t.Fatalf("GET /ui/: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if got := res.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy || !strings.Contains(got, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", got)
	}
	want, _ := os.ReadFile("dist/app.js")
	res = get(t, srv, "/ui/app.js", map[string]string{"Accept-Encoding": "gzip, deflate"})
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /ui/app.js: %d %v", res.StatusCode, res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) {
		t.Errorf("gzipped app.js is %d bytes, dist/app.js %d", len(got), len(want))
	}
	etag := res.Header.Get("ETag")
	if res := get(t, srv, "/ui/app.js", map[string]string{"If-None-Match": etag}); res.StatusCode != 304 {
		t.Errorf("If-None-Match %s: %d", etag, res.StatusCode)
	}
	if res := get(t, srv, "/ui", nil); res.StatusCode != 301 || res.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /ui: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, p := range []string{"/ui/nope.js", "/ui/dist/app.js", "/uix"} {
		if res := get(t, srv, p, nil); res.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 405 {
		t.Errorf("POST /ui/: %v %v", res, err)
	}
}

// TestBundleIsFresh rebuilds the bundle from src/ with the pinned packages
// (npm ci when web/node_modules is missing) and fails when it differs from
// the committed dist/: after changing src/, run npm run build and commit.
func TestBundleIsFresh(t *testing.T) {
	testbin.Need(t, "node")
	npm := testbin.Need(t, "npm")
	if _, err := os.Stat("node_modules/esbuild"); err != nil {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	out := t.TempDir()
	cmd := exec.Command(npm, "run", "--silent", "build", "--", "--outdir", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run build: %v\n%s", err, b)
	}
	built := map[string][]byte{}
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			built[strings.TrimPrefix(p, out+"/")], _ = os.ReadFile(p)
		}
		return err
	})
	committed := map[string][]byte{}
	filepath.WalkDir("dist", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			committed[strings.TrimPrefix(p, "dist/")], _ = os.ReadFile(p)
		}
		return err
	})
	for name, b := range built {
		if c, ok := committed[name]; !ok {
			t.Errorf("dist/%s is not committed: run cd web && npm run build", name)
		} else if !bytes.Equal(b, c) {
			t.Errorf("dist/%s is stale (%d bytes committed, %d built from src/): run cd web && npm run build", name, len(c), len(b))
		}
	}
	for name := range committed {
		if _, ok := built[name]; !ok {
			t.Errorf("dist/%s is committed but no longer built: remove it", name)
		}
	}
}

// The README's size budget (gzip -9): what the first page loads, and all.
const (
	firstLoadBudget = 25 << 10
	totalBudget     = 250 << 10
)

// TestBundleBudget keeps the bundle within the README's budget: the first
// load is app.js, app.css and the chunks app.js imports statically (the
// editor and the cluster page are dynamic imports, loaded when shown).
func TestBundleBudget(t *testing.T) {
	gz := func(name string) int {
		b, err := os.ReadFile(filepath.Join("dist", name))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return out.Len()
	}
	app, err := os.ReadFile("dist/app.js")
	if err != nil {
		t.Fatal(err)
	}
	first := gz("app.js") + gz("app.css")
	for _, m := range regexp.MustCompile(`from"\./(chunk-[A-Z0-9]+\.js)"`).FindAllSubmatch(app, -1) {
		first += gz(string(m[1]))
	}
	entries, _ := os.ReadDir("dist")
	total := 0
	for _, e := range entries {
		total += gz(e.Name())
	}
	t.Logf("gzipped: first load %d bytes, all %d bytes", first, total)
	if first > firstLoadBudget {
		t.Errorf("the first load is %d bytes gzipped, over the README's budget of %d", first, firstLoadBudget)
	}
	if total > totalBudget {
		t.Errorf("the bundle is %d bytes gzipped, over the README's budget of %d", total, totalBudget)
	}
}
