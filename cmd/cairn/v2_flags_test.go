package main

import (
	"strings"
	"testing"
)

// TestV2PrefixFlag: --v2-prefix (and CAIRN_V2_PREFIX) reaches the member;
// a prefix that would break the mapping is refused.
func TestV2PrefixFlag(t *testing.T) {
	m := NewMain()
	if err := m.ParseFlags(nil, env(map[string]string{"CAIRN_V2_PREFIX": "/v2"})); err != nil {
		t.Fatal(err)
	}
	sc, err := m.Config.serverConfig(nil)
	if err != nil || sc.V2Prefix != "/v2" {
		t.Fatalf("V2Prefix %q, %v", sc.V2Prefix, err)
	}
	for _, bad := range []string{"v2", "/v2/"} {
		m := NewMain()
		if err := m.ParseFlags([]string{"--v2-prefix", bad}, env(nil)); err == nil || !strings.Contains(err.Error(), "--v2-prefix") {
			t.Errorf("--v2-prefix %q: %v", bad, err)
		}
	}
}
