package cairn_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The arrows point down (README, "Layout"): the member core and what it
// stands on never reach the adapters or their libraries, and the storage
// packages speak no HTTP. go list sees every import, test files aside.
func TestArrowsPointDown(t *testing.T) {
	adapters := []string{"github.com/cairnkv/cairn/httpapi", "github.com/go-chi/chi/v5", "github.com/coder/websocket"}
	for _, c := range []struct {
		pkg       string
		forbidden []string
	}{
		{".", append([]string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/store"}, adapters...)},
		{"./server", adapters},
		{"./peer", append([]string{"github.com/cairnkv/cairn/server"}, adapters...)},
		{"./lessor", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./membership", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./entry", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./store", append([]string{"net/http"}, adapters...)},
		{"./v2store", append([]string{"net/http"}, adapters...)},
		{"./raftlog", append([]string{"net/http"}, adapters...)},
		{"./snapshot", append([]string{"net/http"}, adapters...)},
		{"./web", append([]string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/store", "github.com/cairnkv/cairn/httpapi", "go.etcd.io/bbolt", "go.etcd.io/raft/v3"}, adapters...)},
		{"./httpapi", []string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/peer", "github.com/cairnkv/cairn/lessor"}},
	} {
		out, err := exec.Command("go", "list", "-deps", c.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", c.pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, f := range c.forbidden {
			if slices.Contains(deps, f) {
				t.Errorf("%s depends on %s", c.pkg, f)
			}
		}
	}
}

// The adapters speak the contract: httpapi imports neither the store nor the
// member (it reaches the store's types only through v2store's v2 tree).
func TestAdaptersImportTheContract(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "./httpapi").Output()
	if err != nil {
		t.Fatalf("go list ./httpapi: %v", err)
	}
	imports := strings.Fields(string(out))
	if !slices.Contains(imports, "github.com/cairnkv/cairn") {
		t.Errorf("httpapi does not import the contract: %v", imports)
	}
	for _, f := range []string{"github.com/cairnkv/cairn/store", "github.com/cairnkv/cairn/server"} {
		if slices.Contains(imports, f) {
			t.Errorf("httpapi imports %s", f)
		}
	}
}
