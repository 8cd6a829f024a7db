package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestDashboard drives the dashboard in chromium against a real member, as
// a user would: keys written through the API show in the tree; a key
// written while the page is open appears without a reload; an edit in the
// page is what the API reads; a concurrent write makes the save report a
// conflict with both values; a lease counts down and its key leaves the
// tree at expiry; a prefix pages 100 children at a time. All along, the page
// logs no error and asks nothing of any host but the member. Screenshots of
// each step go to the test's artifact directory (go test -artifacts).
func TestDashboard(t *testing.T) {
	m := startMember(t, t.TempDir())
	ctx := context.Background()
	for k, v := range map[string]string{
		"/app/a":            "alpha",
		"/app/conf/db.json": `{"host":"10.0.0.1","port":5432}`,
		"/app/conf/x.yaml":  "a: 1\nb: [1, 2]\n",
		"/other":            "o",
	} {
		if _, err := m.put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, m.url)

	// The recorder sees a console error and a request to another host (the
	// member's Content-Security-Policy refuses it, and says so).
	b.open("")
	eval[int](b, `console.error("probe-error"); fetch("http://192.0.2.1/probe-elsewhere").catch(() => {}); 1`)
	b.expectFaults("probe-error", "192.0.2.1/probe-elsewhere")

	// Keys written through the API are in the tree; a deep link opens the
	// tree down to its key and the key in the editor.
	b.open("#/key//app/conf/db.json")
	b.until("the tree shows the keys", `["/app/a", "/app/conf/db.json", "/app/conf/x.yaml", "/other"].every(k => document.querySelector(`+"`[data-key=\"${k}\"]`"+`))`)
	b.until("the editor shows the value", `document.querySelector('[data-testid="value"] .cm-content')?.textContent === '{"host":"10.0.0.1","port":5432}'`)
	b.screenshot("tree-and-editor")

	// A key written while the page is open appears, with no reload.
	marker := eval[float64](b, `window.__notReloaded = Math.random()`)
	if _, err := m.put(ctx, "/app/live", "new"); err != nil {
		t.Fatal(err)
	}
	b.until("the new key appears", `document.querySelector('[data-key="/app/live"]') !== null`)
	if got := eval[float64](b, `window.__notReloaded`); got != marker {
		t.Errorf("the page reloaded")
	}
	b.screenshot("live-key")

	// An edit saved in the page is what the API reads.
	b.typeInto(`[data-testid="value"]`, `{"host":"10.0.0.2","port":5432}`)
	b.run("save", clickCSS(`[data-testid="save"]`))
	b.until("saved", `document.querySelector('[data-testid="saved"]') !== null`)
	expectValue(t, m, "/app/conf/db.json", `{"host":"10.0.0.2","port":5432}`)
	b.screenshot("saved")

	// A write by someone else between loading and saving: the save reports
	// a conflict showing their value, and writes nothing until the user
	// chooses; "save mine" then writes over theirs.
	b.until("the editor reloaded the saved value", `document.querySelector('[data-testid="value"] .cm-content')?.textContent === '{"host":"10.0.0.2","port":5432}'`)
	b.typeInto(`[data-testid="value"]`, `{"host":"mine"}`)
	if _, err := m.put(ctx, "/app/conf/db.json", `{"host":"theirs"}`); err != nil {
		t.Fatal(err)
	}
	b.until("the editor says the key changed", `document.querySelector('[data-testid="changed"]') !== null`)
	b.run("save over a concurrent write", clickCSS(`[data-testid="save"]`))
	b.until("the conflict shows both values", `(() => { const c = document.querySelector('[data-testid="conflict"]'); return c && c.textContent.includes('theirs') && c.textContent.includes('mine'); })()`)
	expectValue(t, m, "/app/conf/db.json", `{"host":"theirs"}`)
	b.screenshot("conflict")
	b.run("save mine over theirs", clickCSS(`[data-testid="overwrite"]`))
	b.until("saved over theirs", `document.querySelector('[data-testid="saved"]') !== null`)
	expectValue(t, m, "/app/conf/db.json", `{"host":"mine"}`)

	// A lease counts down in the page; at expiry its key leaves the tree.
	var grant struct {
		ID string `json:"ID"`
	}
	if err := m.call(ctx, "/v3/lease/grant", map[string]any{"TTL": 6}, &grant); err != nil {
		t.Fatal(err)
	}
	var out struct{}
	if err := m.call(ctx, "/v3/kv/put", map[string]any{"key": b64("/app/leased"), "value": b64("x"), "lease": grant.ID}, &out); err != nil {
		t.Fatal(err)
	}
	b.open("#/leases")
	row := fmt.Sprintf(`document.querySelector('[data-lease="%s"]')`, grant.ID)
	b.until("the lease is listed with its key", row+`?.textContent.includes('/app/leased')`)
	first := eval[string](b, row+`.querySelector('[data-testid="countdown"]').textContent`)
	b.until("the countdown goes down", fmt.Sprintf(`parseInt(%s.querySelector('[data-testid="countdown"]').textContent) < %d`, row, atoi(t, strings.Fields(first)[0])))
	b.screenshot("lease-countdown")
	b.open("#/key//app/a")
	b.until("the tree shows the leased key", `document.querySelector('[data-key="/app/leased"]') !== null || document.querySelector('[data-key="/app/a"]') !== null`)
	b.until("the leased key leaves the tree at expiry", `document.querySelector('[data-key="/app/a"]') !== null && document.querySelector('[data-key="/app/leased"]') === null`)
	if r, err := m.rangeKey(ctx, "/app/leased"); err != nil || len(r.Kvs) != 0 {
		t.Errorf("after expiry the API reads /app/leased: %v %v", r, err)
	}
	b.screenshot("lease-expired")

	// 250 keys under one prefix: the tree shows 100, then 100 more a click.
	for i := 0; i < 250; i += 125 {
		var ops []map[string]any
		for j := i; j < i+125; j++ {
			ops = append(ops, map[string]any{"request_put": map[string]string{"key": b64(fmt.Sprintf("/many/k%03d", j)), "value": b64("v")}})
		}
		if err := m.call(ctx, "/v3/kv/txn", map[string]any{"success": ops}, &out); err != nil {
			t.Fatal(err)
		}
	}
	b.open("#/key//many/k000")
	count := `document.querySelectorAll('[data-key^="/many/"]').length`
	b.until("the first page", count+` === 100 && document.querySelector('.more') !== null`)
	b.run("next page", clickCSS(`.more`))
	b.until("the second page", count+` === 200`)
	b.run("last page", clickCSS(`.more`))
	b.until("the last page", count+` === 250 && document.querySelector('.more') === null`)
	b.screenshot("paged")

	// The keyboard: a row of the tree, arrow down, Enter opens that key.
	b.run("arrow down and Enter in the tree", chromedp.Focus(chromedp.CSS(`[data-key="/many/k000"]`)),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent("\r"))
	b.until("Enter opened the next key", `location.hash === "#/key//many/k001" && document.querySelector('[data-testid="keyname"]')?.textContent === "/many/k001"`)

	// The cluster page: this member, leader, healthy; the chart is drawn.
	b.open("#/cluster")
	b.until("the member is listed as leader", `document.querySelector('[data-testid="members"]')?.textContent.includes('leader')`)
	b.until("healthy", `document.querySelector('[data-testid="status"]')?.textContent.includes('healthy')`)
	b.until("the chart is drawn", `document.querySelector('[data-testid="chart"] canvas') !== null`)
	b.screenshot("cluster")

	// On a phone-width screen the keys page fits: one column, nothing
	// wider than the screen.
	b.run("a phone-width screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.open("#/key//app/a")
	b.until("the tree and the editor, one above the other", `document.querySelector('[data-key="/app/a"]') !== null && document.querySelector('[data-testid="keyname"]')?.textContent === "/app/a"`)
	if w := eval[[]float64](b, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
		t.Errorf("at 390 px wide the page is %v px wide", w[0])
	}
	b.screenshot("phone")
	b.run("back to 1280x800", chromedp.EmulateReset())

	b.checkClean()
}

// TestDashboardOff: with --enable-ui=false the member serves no dashboard.
func TestDashboardOff(t *testing.T) {
	m := startMember(t, t.TempDir(), "--enable-ui=false")
	for _, path := range []string{"/ui/", "/ui/app.js", "/ui"} {
		resp, err := send(context.Background(), http.MethodGet, m.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s with --enable-ui=false: %d %s", path, resp.StatusCode, body)
		}
	}
}

// expectValue fails the test unless the API reads value at key.
func expectValue(t *testing.T, m *member, key, value string) {
	t.Helper()
	r, err := m.rangeKey(context.Background(), key)
	if err != nil || len(r.Kvs) != 1 || unb64(t, r.Kvs[0].Value) != value {
		t.Fatalf("the API reads %s: %+v %v; want %q", key, r, err, value)
	}
}
