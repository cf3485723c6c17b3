package kinstatest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testKey = "test-key"

// testNow is the fixed clock of the demo data in tests.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// serve starts companies behind a real loopback HTTP server.
func serve(t testing.TB, companies ...*Company) (*Fake, *httptest.Server) {
	t.Helper()
	f := New(testKey, companies...)
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		f.Close() // release hung handlers first, or srv.Close waits for them
		srv.Close()
	})
	return f, srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get requests path with the test key.
func get(t testing.TB, srv *httptest.Server, path string) response {
	t.Helper()
	return getKey(t, srv, path, "Bearer "+testKey)
}

func getKey(t testing.TB, srv *httptest.Server, path, authorization string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON: %v\n%.500s", err, b)
	}
	return v
}

// jsonEqual reports whether two bodies hold the same JSON value.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	x, _ := json.Marshal(decode(t, a))
	y, _ := json.Marshal(decode(t, b))
	return string(x) == string(y)
}

// shape maps every path of a JSON document ("company.sites[].status") to the JSON
// kinds seen there.
type shape map[string]map[string]bool

func shapeOf(t testing.TB, bodies ...[]byte) shape {
	t.Helper()
	s := shape{}
	for _, b := range bodies {
		s.walk(decode(t, b), "")
	}
	return s
}

func (s shape) add(path, kind string) {
	if s[path] == nil {
		s[path] = map[string]bool{}
	}
	s[path][kind] = true
}

func (s shape) walk(v any, path string) {
	switch v := v.(type) {
	case map[string]any:
		s.add(path, "object")
		for k, e := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			s.walk(e, p)
		}
	case []any:
		s.add(path, "array")
		for _, e := range v {
			s.walk(e, path+"[]")
		}
	case string:
		s.add(path, "string")
	case float64:
		s.add(path, "number")
	case bool:
		s.add(path, "bool")
	case nil:
		s.add(path, "null")
	}
}

func (s shape) kinds(path string) []string {
	var out []string
	for k := range s[path] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// compareShapes checks that got has every path of want, no path want lacks except
// under extras, and at each path only kinds want has there (plus null at paths
// ending in one of the nullable keys).
func compareShapes(t *testing.T, want, got shape, extras, nullable []string) {
	t.Helper()
	for path := range want {
		if got[path] == nil {
			t.Errorf("missing %s (kinds %v in the fixture)", path, want.kinds(path))
		}
	}
	for path := range got {
		if want[path] == nil {
			if !slices.ContainsFunc(extras, func(x string) bool { return path == x || strings.HasPrefix(path, x+".") }) {
				t.Errorf("unexpected %s (%v)", path, got.kinds(path))
			}
			continue
		}
		for kind := range got[path] {
			if want[path][kind] {
				continue
			}
			if kind == "null" && slices.ContainsFunc(nullable, func(k string) bool { return path == k || strings.HasSuffix(path, "."+k) }) {
				continue
			}
			t.Errorf("%s is %s, the fixture has %v", path, kind, want.kinds(path))
		}
	}
}
