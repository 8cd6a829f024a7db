package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// checkV2FormLikeParseForm parses the same request with parseV2Form and
// with net/http's ParseForm and fails if they disagree on an error or on
// any parameter's presence or first value.
func checkV2FormLikeParseForm(t *testing.T, method, query, contentType, body string) {
	t.Helper()
	mk := func() *http.Request {
		r := httptest.NewRequest(method, "/v2/keys/a", strings.NewReader(body))
		r.URL.RawQuery = query
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		return r
	}
	f, err := parseV2Form(mk())
	std := mk()
	stdErr := std.ParseForm()
	if (err == nil) != (stdErr == nil) || err != nil && err.Error() != stdErr.Error() {
		t.Fatalf("%s ?%s %q %q: error %v, ParseForm %v", method, query, contentType, body, err, stdErr)
	}
	if err != nil {
		return
	}
	names := map[string]bool{"value": true, "ttl": true, "": true, "a b": true}
	for k := range std.Form {
		names[k] = true
	}
	for _, p := range f.pairs {
		names[p.key] = true
	}
	for k := range names {
		if f.has(k) != (std.Form[k] != nil) || f.get(k) != std.Form.Get(k) {
			t.Fatalf("%s ?%s %q %q: %q is (%v, %q), ParseForm (%v, %q)", method, query, contentType, body,
				k, f.has(k), f.get(k), std.Form[k] != nil, std.Form.Get(k))
		}
	}
}

// parseV2Form reads a form as Request.ParseForm does: the body's value
// over the query's, only POST/PUT/PATCH bodies of the form type, escapes,
// empty values, and ParseForm's own errors for what it refuses.
func TestParseV2FormLikeParseForm(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	for _, c := range []struct{ method, query, ct, body string }{
		{"PUT", "", form, "value=hello"},
		{"PUT", "value=q&ttl=5", form, "value=b"},
		{"PUT", "prevExist=false", "", "value=ignored"},
		{"POST", "", form, "value=a+b%20c%2Fd&ttl=&value=second"},
		{"DELETE", "recursive=true&dir=true", form, "value=notread"},
		{"GET", "wait=true&waitIndex=7&recursive", "", ""},
		{"PUT", "a&&b=&=c", form, "&&value"},
		{"PUT", "", form + "; charset=utf-8", "value=x"},
		{"PUT", "", "text/plain", "value=x"},
		{"PUT", "", "multipart/form-data; boundary=x", "value=x"},
		{"PUT", "", "bad/;;type", "value=x"},
		{"PUT", "x=1;y=2", form, "value=x"},
		{"PUT", "", form, "value=1;ttl=2"},
		{"PUT", "value=%zz", form, "ttl=1"},
		{"PUT", "ttl=1", form, "value=%g0"},
		{"PUT", "value=%e6%97%a5", form, "prevValue=%FF"},
		{"PATCH", "", form, "value=p"},
	} {
		checkV2FormLikeParseForm(t, c.method, c.query, c.ct, c.body)
	}
}

func FuzzParseV2Form(f *testing.F) {
	f.Add("value=q&ttl=5", "value=b&prevExist=true", true)
	f.Add("a;b", "%zz", true)
	f.Add("x=%41+%2B", "", false)
	f.Fuzz(func(t *testing.T, query, body string, formType bool) {
		if strings.ContainsAny(query, " #\r\n") {
			return // not a request line's query
		}
		ct := ""
		if formType {
			ct = "application/x-www-form-urlencoded"
		}
		checkV2FormLikeParseForm(t, "PUT", query, ct, body)
	})
}
