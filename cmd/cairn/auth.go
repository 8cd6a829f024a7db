package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/server"
)

// AuthFlags are etcd's auth flags; docs/security.md tells how to use auth.
type AuthFlags struct {
	Token      string // --auth-token: simple, or jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...
	TokenTTL   uint   // --auth-token-ttl: seconds a simple token lives after its last use
	BcryptCost int    // --bcrypt-cost
}

// defaultAuth is etcd's.
func defaultAuth() AuthFlags {
	return AuthFlags{Token: "simple", TokenTTL: uint(auth.DefaultTokenTTL / time.Second), BcryptCost: auth.DefaultBcryptCost}
}

func (a *AuthFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.Token, "auth-token", a.Token, "token type: simple, or jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>[,ttl=<duration>] (as etcd's)")
	fs.UintVar(&a.TokenTTL, "auth-token-ttl", a.TokenTTL, "seconds a simple token lives after its last use")
	fs.IntVar(&a.BcryptCost, "bcrypt-cost", a.BcryptCost, "bcrypt cost of the password hashes this member makes (4 to 31)")
}

// authNames are the flags of AuthFlags, for --help.
var authNames = []string{"auth-token", "auth-token-ttl", "bcrypt-cost"}

// serverAuth checks the flags and builds the member's auth configuration
// (reading the JWT keys).
func (a *AuthFlags) serverAuth() (server.AuthConfig, error) {
	if a.BcryptCost < 4 || a.BcryptCost > 31 {
		return server.AuthConfig{}, fmt.Errorf("--bcrypt-cost must be between 4 and 31 (bcrypt's range), not %d", a.BcryptCost)
	}
	if a.TokenTTL == 0 {
		return server.AuthConfig{}, fmt.Errorf("--auth-token-ttl must be positive")
	}
	ttl := time.Duration(a.TokenTTL) * time.Second
	tokens, err := auth.ParseTokenSpec(a.Token, ttl, nil)
	if err != nil {
		return server.AuthConfig{}, err
	}
	return server.AuthConfig{Tokens: tokens, TokenTTL: ttl, BcryptCost: a.BcryptCost}, nil
}
