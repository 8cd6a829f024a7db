package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Auth: with --user, the benchmark authenticates once, on the first
// endpoint, and sends the token in the Authorization header of every
// request (etcd's benchmark tool has the same flag).
func registerAuthFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.User, "user", cfg.User, "name:password of a v3 user to authenticate as (a server with auth on)")
}

// authenticate sets c.token from POST /v3/auth/authenticate when --user is
// given.
func (c *Config) authenticate(ctx context.Context) error {
	if c.User == "" {
		return nil
	}
	name, password, ok := strings.Cut(c.User, ":")
	if !ok {
		return fmt.Errorf("--user: want name:password")
	}
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoints[0]+"/v3/auth/authenticate", bytes.NewReader(body))
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: c.tls, Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("--user: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct{ Token string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || r.Token == "" {
		return fmt.Errorf("--user: authenticate: %d %s", resp.StatusCode, b)
	}
	c.token = r.Token
	return nil
}
