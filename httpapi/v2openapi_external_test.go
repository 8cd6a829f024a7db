package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
)

// TestV2OpenAPI sends a v2 session (successes, every kind of error, the
// members and stats endpoints) to a real member and checks every answer
// (status, X-Etcd-Index, body) against openapi.yaml, and every request the
// member accepted against the spec's parameters.
func TestV2OpenAPI(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(cairn.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	ctx := context.Background()
	for _, st := range []struct{ method, target, form string }{
		{"PUT", "/v2/keys/a/b", "value=1"},
		{"PUT", "/v2/keys/a/b?ttl=100", "value=2"},
		{"GET", "/v2/keys/a/b", ""},
		{"GET", "/v2/keys/a?recursive=true&sorted=true", ""},
		{"GET", "/v2/keys", ""},
		{"PUT", "/v2/keys/a", "value=x"},
		{"PUT", "/v2/keys/a/b/c", "value=x"},
		{"PUT", "/v2/keys/a/b?prevValue=0", "value=3"},
		{"PUT", "/v2/keys/a/b?prevExist=false", "value=3"},
		{"PUT", "/v2/keys/a/b?prevIndex=x", "value=3"},
		{"PUT", "/v2/keys/d?dir=true", ""},
		{"POST", "/v2/keys/q", "value=j"},
		{"POST", "/v2/keys", "value=j"},
		{"GET", "/v2/keys/nope", ""},
		{"DELETE", "/v2/keys/a", ""},
		{"DELETE", "/v2/keys/a?dir=true", ""},
		{"DELETE", "/v2/keys/a?recursive=true", ""},
		{"DELETE", "/v2/keys/", ""},
		{"GET", "/v2/keys/q?wait=true&waitIndex=1&recursive=true", ""},
		{"GET", "/v2/members/leader", ""},
		{"GET", "/v2/machines", ""},
		{"GET", "/v2/stats/self", ""},
		{"GET", "/v2/stats/leader", ""},
		{"GET", "/v2/stats/store", ""},
	} {
		got := v2Call(t, ts.URL, st.method, st.target, st.form)
		u, err := url.Parse(st.target)
		if err != nil {
			t.Fatal(err)
		}
		specPath := u.Path
		if key, ok := strings.CutPrefix(u.Path, "/v2/keys/"); ok {
			if key == "" {
				specPath = "/v2/keys"
			} else {
				specPath = "/v2/keys/" + url.PathEscape(key) // one path segment
			}
		}
		vreq, _ := http.NewRequest(st.method, "http://127.0.0.1:2379"+specPath+"?"+u.RawQuery, strings.NewReader(st.form))
		if st.form != "" {
			vreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		route, params, err := router.FindRoute(vreq)
		if err != nil {
			t.Errorf("%s %s is not in openapi.yaml: %v", st.method, st.target, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route}
		reqErr := httpapi.ValidateSpecRequest(ctx, in)
		h := http.Header{}
		h.Set("Content-Type", got.contentType)
		if got.etcdIndex != "" {
			h.Set("X-Etcd-Index", got.etcdIndex)
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: got.status, Header: h,
			Body:    io.NopCloser(strings.NewReader(got.body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s %s: %d %s does not match openapi.yaml: %v", st.method, st.target, st.form, got.status, got.body, err)
		}
		if got.status/100 == 2 && reqErr != nil {
			t.Errorf("%s %s %s: accepted a request openapi.yaml forbids: %v", st.method, st.target, st.form, reqErr)
		}
	}
}
