package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// validateSpecRequest validates a request against its operation in
// openapi.yaml, as every exchange of the tests is checked.
//
// The contract describes the canonical form of a request: 64-bit integers
// as decimal strings and enums by name, as etcd's gateway writes them and as
// generated clients send them. The server also accepts numbers for both
// (documented in openapi.yaml's info), and the tests send numbers too; such
// a body is checked in its canonical form (canonicalV3Body).
//
// Security requirements are all optional ({} is one of the alternatives of
// every operation) and are not checked here.
func validateSpecRequest(ctx context.Context, in *openapi3filter.RequestValidationInput) error {
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	var body []byte
	if in.Request.Body != nil {
		body, _ = io.ReadAll(in.Request.Body)
	}
	withBody := func(b []byte) *openapi3filter.RequestValidationInput {
		c := *in
		r, _ := http.NewRequestWithContext(ctx, in.Request.Method, in.Request.URL.String(), bytes.NewReader(b))
		r.Header = in.Request.Header.Clone()
		c.Request = r
		c.Options = opts
		return &c
	}
	err := openapi3filter.ValidateRequest(ctx, withBody(body))
	if err == nil || in.Request.Header.Get("Content-Type") != "application/json" {
		return err
	}
	if canon, ok := canonicalV3Body(body); ok {
		if openapi3filter.ValidateRequest(ctx, withBody(canon)) == nil {
			return nil
		}
	}
	return err
}

// enumNames are the names of the v3 enums by field name and number, as
// etcd's .proto files number them.
var enumNames = map[string][]string{
	"sort_order":  {"NONE", "ASCEND", "DESCEND"},
	"sortOrder":   {"NONE", "ASCEND", "DESCEND"},
	"sort_target": {"KEY", "VERSION", "CREATE", "MOD", "VALUE"},
	"sortTarget":  {"KEY", "VERSION", "CREATE", "MOD", "VALUE"},
	"result":      {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"},
	"target":      {"VERSION", "CREATE", "MOD", "VALUE", "LEASE"},
	"filters":     {"NOPUT", "NODELETE"},
	"action":      {"GET", "ACTIVATE", "DEACTIVATE"},
	"alarm":       {"NONE", "NOSPACE", "CORRUPT"},
}

// canonicalV3Body rewrites a v3 JSON body into the form openapi.yaml
// describes: enum numbers become names, other numbers decimal strings. It
// reports false for a body that is not one JSON value.
func canonicalV3Body(body []byte) ([]byte, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	out, err := json.Marshal(canonicalValue("", v))
	return out, err == nil
}

func canonicalValue(field string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = canonicalValue(k, e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonicalValue(field, e)
		}
	case json.Number:
		if names, ok := enumNames[field]; ok {
			if n, err := strconv.Atoi(string(x)); err == nil && n >= 0 && n < len(names) {
				return names[n]
			}
		}
		return string(x)
	}
	return v
}

// ValidateSpecRequest is validateSpecRequest for package httpapi_test.
func ValidateSpecRequest(ctx context.Context, in *openapi3filter.RequestValidationInput) error {
	return validateSpecRequest(ctx, in)
}
