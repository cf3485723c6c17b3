package kinsta

import (
	"strings"
	"testing"
)

// streamCompanyExtensions reads what json.Unmarshal read before it, as it
// streams in: liberal spellings and letter case, null items, the last of a
// repeated member, and the same errors for wrong types, empty, cut-off and
// trailing bodies, with the error body's members wherever they come.
func TestStreamCompanyExtensions(t *testing.T) {
	for _, c := range []struct {
		name, body string
		items      int    // on success
		total      int    // on success
		err        string // describeDecodeError's message, "" for success
		message    string // the error body's message, on failure
	}{
		{name: "page", body: `{"company":{"plugins":{"total":"2","last_updated_at":"2026-01-01T00:00:00Z","items":[
			{"name":"a","environment_count":"3","environments":[{"id":"e1","plugin_status":"active","plugin_update":"available"},{"environment_id":"e2","status":"inactive"}],"extra":{"x":[1,2]}},
			null]}}}`, items: 2, total: 2},
		{name: "letter case", body: `{"Company":{"PLUGINS":{"Items":[{"NAME":"a"}]}}}`, items: 1, total: -1},
		{name: "repeated items", body: `{"company":{"plugins":{"items":[{"name":"a"},{"name":"b"}],"items":[{"name":"c"}]}}}`, items: 1, total: -1},
		{name: "other wrapper skipped", body: `{"company":{"themes":{"items":[{"name":"t"}]},"plugins":{"items":[]}}}`, items: 0, total: -1},
		{name: "null company", body: `{"company":null}`, err: "company is missing or null"},
		{name: "no items", body: `{"company":{"plugins":{"total":1}}}`, err: "company.plugins.items is missing or null"},
		{name: "company an array", body: `{"company":[1,{"a":[]}],"message":"later"}`, err: "unexpected response shape: company is a JSON array", message: "later"},
		{name: "items a string", body: `{"message":"first","company":{"plugins":{"items":"x"}}}`, err: "unexpected response shape: company.plugins.items is a JSON string", message: "first"},
		{name: "error body", body: `{"message":"No permission","status":403}`, err: "company is missing or null", message: "No permission"},
		{name: "top level an array", body: `[]`, err: "unexpected response shape: top level is a JSON array"},
		{name: "empty", body: ``, err: "body is empty"},
		{name: "blank", body: " \n\t ", err: "body is empty"},
		{name: "cut off", body: `{"company":{"plugins":{"items":[{"name":"a"`, err: "malformed or truncated JSON"},
		{name: "trailing data", body: `{"company":{"plugins":{"items":[]}}} x`, err: "malformed or truncated JSON at byte"},
		{name: "syntax", body: `{"company":{"plugins":{"items":[}]}}}`, err: "malformed or truncated JSON at byte"},
		{name: "nested too deep", body: `{"other":` + strings.Repeat("[", 20000), err: "JSON nested too deep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, errBody, err := streamCompanyExtensions(strings.NewReader(c.body), "plugins")
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(p.items) != c.items || p.total != c.total {
					t.Fatalf("%d items, total %d; want %d, %d", len(p.items), p.total, c.items, c.total)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, %d items", len(p.items))
			}
			if msg, _ := describeDecodeError(err); !strings.Contains(msg, c.err) {
				t.Fatalf("error %q, want %q", msg, c.err)
			}
			got := ""
			if errBody != nil {
				got = string(errBody.Message)
			}
			if got != c.message {
				t.Fatalf("error body message %q, want %q", got, c.message)
			}
		})
	}
	p, _, err := streamCompanyExtensions(strings.NewReader(`{"company":{"plugins":{"items":[{"name":"a","latest_version":"2","environments":[
		{"id":"e1","plugin_status":"active","plugin_version":"1","plugin_update":"available","is_plugin_version_vulnerable":true},
		{"environment_id":"e2","theme_status":"inactive"}]}]}}}`), "plugins")
	if err != nil {
		t.Fatal(err)
	}
	x := p.items[0]
	if x.Name != "a" || x.LatestVersion != "2" || len(x.Installs) != 2 {
		t.Fatalf("%+v", x)
	}
	if in := x.Installs[0]; in.EnvironmentID != "e1" || in.Status != "active" || in.Version != "1" || in.Update != "available" || !in.Vulnerable {
		t.Fatalf("%+v", in)
	}
	if in := x.Installs[1]; in.EnvironmentID != "e2" || in.Status != "inactive" {
		t.Fatalf("%+v", in)
	}
}

// FuzzStreamCompanyExtensions: any body is decoded or refused, never a
// panic, and a page's items have the fields they were sent with.
func FuzzStreamCompanyExtensions(f *testing.F) {
	f.Add(`{"company":{"plugins":{"total":"1","items":[{"name":"a","environments":[{"id":"e","plugin_status":"active"}]}]}}}`)
	f.Add(`{"company":{"plugins":{"items":[null,{"NAME":1}],"items":[]}},"message":"m"}`)
	f.Add(`{"company":[{"plugins":{}}],"data":{"message":"x"}}`)
	f.Add(`[{"company":`)
	f.Fuzz(func(t *testing.T, body string) {
		p, _, err := streamCompanyExtensions(strings.NewReader(body), "plugins")
		if err != nil {
			if msg, _ := describeDecodeError(err); msg == "" {
				t.Fatalf("an error without a message: %v", err)
			}
			return
		}
		for _, x := range p.items {
			for _, in := range x.Installs {
				_ = in.EnvironmentID
			}
		}
	})
}
