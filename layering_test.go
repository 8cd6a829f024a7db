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
	adapters := []string{"github.com/cairnkv/cairn/httpapi", "github.com/go-chi/chi/v5", "github.com/coder/websocket",
		"github.com/cairnkv/cairn/grpcapi", "google.golang.org/grpc", "go.etcd.io/etcd/api/v3/etcdserverpb"}
	for _, c := range []struct {
		pkg       string
		forbidden []string
	}{
		{".", append([]string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/store"}, adapters...)},
		{"./server", adapters},
		{"./peer", append([]string{"github.com/cairnkv/cairn/server"}, adapters...)},
		{"./lessor", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./auth", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./membership", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./entry", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./raftnode", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./compactor", append([]string{"github.com/cairnkv/cairn/server", "net/http"}, adapters...)},
		{"./metrics", append([]string{"github.com/cairnkv/cairn/server"}, adapters...)}, // prometheus brings net/http
		{"./store", append([]string{"net/http"}, adapters...)},
		{"./v2store", append([]string{"net/http"}, adapters...)},
		{"./raftlog", append([]string{"net/http"}, adapters...)},
		{"./snapshot", append([]string{"net/http"}, adapters...)},
		{"./concurrency", append([]string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/store", "net/http"}, adapters...)},
		{"./httpapi", []string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/peer", "github.com/cairnkv/cairn/lessor",
			"github.com/cairnkv/cairn/grpcapi", "google.golang.org/grpc", "github.com/cairnkv/cairn/auth"}},
		{"./grpcapi", []string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/peer", "github.com/cairnkv/cairn/lessor",
			"github.com/cairnkv/cairn/store", "github.com/cairnkv/cairn/httpapi"}},
		{"./web", append([]string{"github.com/cairnkv/cairn/server", "github.com/cairnkv/cairn/store", "github.com/cairnkv/cairn/httpapi", "go.etcd.io/bbolt", "go.etcd.io/raft/v3"}, adapters...)},
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

// The adapters speak the contract: httpapi and grpcapi import neither the
// store nor the member (httpapi reaches the store's types only through
// v2store's v2 tree).
func TestAdaptersImportTheContract(t *testing.T) {
	for _, pkg := range []string{"./httpapi", "./grpcapi"} {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		imports := strings.Fields(string(out))
		if !slices.Contains(imports, "github.com/cairnkv/cairn") {
			t.Errorf("%s does not import the contract: %v", pkg, imports)
		}
		for _, f := range []string{"github.com/cairnkv/cairn/store", "github.com/cairnkv/cairn/server"} {
			if slices.Contains(imports, f) {
				t.Errorf("%s imports %s", pkg, f)
			}
		}
	}
}
