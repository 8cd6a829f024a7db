package server

import (
	"context"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/entry"
)

// The Auth service and the Authorizer of the contract are package auth's
// Service, embedded in Server; this is what it asks of the member.
type authMember struct{ s *Server }

// ProposeAuth proposes req as entry.Request.Auth and waits for its apply.
func (m authMember) ProposeAuth(ctx context.Context, req *auth.Request) (string, error) {
	r, err := m.s.propose(ctx, &entry.Request{Auth: req})
	if err != nil {
		return "", err
	}
	return r.auth.Token, nil
}

// Header is this member's header at its store's revision.
func (m authMember) Header() cairn.ResponseHeader {
	h := cairn.ResponseHeader{Revision: m.s.storeNow().Rev()}
	m.s.header(&h)
	return h
}
