package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "keys/agency.key", "  agency-key-0123\n", 0o600)
	abs := writeFile(t, dir, "client-a.key", "client-a-key", 0o644)
	cfgPath := writeFile(t, dir, "kinsta.yml", `# companies of the agency
api_key_file: keys/agency.key
companies:
  - id: company-1
    name: Agency sites
  - id: company-2
  - id: company-3
    name: "Client A — ünïcode"
    api_key_file: `+abs+`
`, 0o600)
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	agency := filepath.Join(dir, "keys", "agency.key")
	want := []LoadedCompany{
		{ID: "company-1", Name: "Agency sites", APIKeyFile: agency, APIKey: "agency-key-0123"},
		{ID: "company-2", APIKeyFile: agency, APIKey: "agency-key-0123"},
		{ID: "company-3", Name: "Client A — ünïcode", APIKeyFile: abs, APIKey: "client-a-key"},
	}
	if !reflect.DeepEqual(cfg.Companies, want) {
		t.Fatalf("got %#v\nwant %#v", cfg.Companies, want)
	}
	if !reflect.DeepEqual(cfg.WorldReadable, []string{abs}) {
		t.Fatalf("world-readable: %q", cfg.WorldReadable)
	}
}

func TestRelativePathsResolveAgainstTheConfigDirectory(t *testing.T) {
	f, err := Parse("/etc/kinsta_exporter/kinsta.yml", []byte(`companies:
  - {id: a, api_key_file: a.key}
  - {id: b, api_key_file: ../shared/b.key}
  - {id: c, api_key_file: /abs//c.key}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{f.Companies[0].APIKeyFile, f.Companies[1].APIKeyFile, f.Companies[2].APIKeyFile}
	want := []string{"/etc/kinsta_exporter/a.key", "/etc/shared/b.key", "/abs/c.key"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // every one must be in the error
	}{
		{"empty", "", []string{"cfg.yml: the file is empty"}},
		{"comments only", "# nothing\n", []string{"cfg.yml: the file is empty"}},
		{"no companies", "api_key_file: k\n", []string{"cfg.yml: companies: none configured"}},
		{"empty list", "companies: []\n", []string{"companies: none configured"}},
		{"syntax", "companies:\n  - id: a\n   name: b\n", []string{"cfg.yml: line 1: did not find expected"}},
		{"unknown top-level field", "api_key_file: k\ncompany:\n  - id: a\n", []string{`cfg.yml: line 2: unknown field "company"`}},
		{"unknown company field", "api_key_file: k\ncompanies:\n  - id: a\n  - id: b\n    api_keyfile: x\n",
			[]string{`cfg.yml: companies[1] (id "b"): line 5: unknown field "api_keyfile"`}},
		{"unknown field, no id", "api_key_file: k\ncompanies:\n  - nme: x\n",
			[]string{`companies[0]: line 3: unknown field "nme"`}},
		{"missing id", "api_key_file: k\ncompanies:\n  - name: x\n", []string{"cfg.yml: companies[0]: id: required"}},
		{"id with space", "api_key_file: k\ncompanies:\n  - id: a b\n", []string{`companies[0] (id "a b"): id: must not contain whitespace`}},
		// The one check of company ids, kinsta.CheckCompanyID.
		{"id ..", "api_key_file: k\ncompanies:\n  - id: \"..\"\n", []string{`companies[0] (id ".."): id: "." and ".." are path segments, not ids`}},
		{"id with slash", "api_key_file: k\ncompanies:\n  - id: a/b\n", []string{`companies[0] (id "a/b"): id: must not contain / ? # % or \`}},
		{"id too long", "api_key_file: k\ncompanies:\n  - id: " + strings.Repeat("a", 129) + "\n", []string{"id: longer than 128 bytes"}},
		{"id with a zero-width space", "api_key_file: k\ncompanies:\n  - id: \"a\\u200bb\"\n", []string{"id: must not contain whitespace"}},
		{"duplicate id", "api_key_file: k\ncompanies:\n  - id: a\n  - id: b\n  - id: a\n", []string{`companies[2] (id "a"): id: duplicate of companies[0]`}},
		{"missing key file", "companies:\n  - id: a\n  - id: b\n    api_key_file: b.key\n",
			[]string{`companies[0] (id "a"): api_key_file: required`}},
		{"wrong type", "api_key_file: k\ncompanies:\n  - id: [a]\n", []string{`companies[0]: line 3: cannot unmarshal !!seq into string`}},
		{"companies not a list", "api_key_file: k\ncompanies: a\n", []string{"line 2: cannot unmarshal !!str `a` into a list of companies"}},
		{"duplicate key", "api_key_file: k\ncompanies:\n  - id: a\n    id: b\n", []string{`mapping key "id" already defined`}},
		{"two documents", "api_key_file: k\ncompanies: [{id: a}]\n---\ncompanies: [{id: b}]\n", []string{"line 3: more than one YAML document"}},
		{"control in name", "api_key_file: k\ncompanies:\n  - id: a\n    name: \"x\\ny\"\n", []string{`companies[0] (id "a"): name: must not contain control characters`}},
		{"not a mapping", "- a\n", []string{"cfg.yml: line 1: cannot unmarshal !!seq into the configuration (a mapping"}},
		{"several errors", "companies:\n  - id: a\n  - {}\n", []string{`companies[0] (id "a"): api_key_file: required`, "companies[1]: id: required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("cfg.yml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}
}

func TestLoadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty.key", " \n", 0o600)
	writeFile(t, dir, "two.key", "secret-one secret-two\n", 0o600)
	writeFile(t, dir, "big.key", strings.Repeat("k", MaxKeyFileBytes+1), 0o600)
	writeFile(t, dir, "good.key", "good-key", 0o600)
	cases := []struct {
		keyFile string
		want    string
	}{
		{"missing.key", `companies[1] (id "b"): api_key_file: open ` + filepath.Join(dir, "missing.key") + ": no such file or directory"},
		{"empty.key", filepath.Join(dir, "empty.key") + " is empty"},
		{"two.key", "more than one word"},
		{"big.key", "larger than 4096 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.keyFile, func(t *testing.T) {
			cfgPath := writeFile(t, dir, "cfg.yml", "companies:\n  - {id: a, api_key_file: good.key}\n  - {id: b, api_key_file: "+tc.keyFile+"}\n", 0o600)
			_, err := Load(cfgPath)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), cfgPath+": ") {
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "good-key") {
				t.Fatalf("error quotes a key: %q", err)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "nope.yml")); err == nil || !strings.Contains(err.Error(), "nope.yml") {
		t.Fatalf("missing config file: %v", err)
	}
}

func TestSecretDoesNotPrint(t *testing.T) {
	c := LoadedCompany{ID: "a", APIKey: "hunter2"}
	for _, s := range []string{c.APIKey.String(), strings.Join([]string{
		sprintf("%v", c), sprintf("%+v", c), sprintf("%#v", c), sprintf("%s", c.APIKey)}, " ")} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("the key printed: %s", s)
		}
	}
}

// FuzzConfig: Parse never panics, and a configuration it accepts survives a
// round trip through YAML unchanged.
func FuzzConfig(f *testing.F) {
	for _, seed := range []string{
		"api_key_file: k\ncompanies:\n  - id: a\n    name: A\n  - id: b\n    api_key_file: ../b.key\n",
		"companies: [{id: x, api_key_file: /k}]",
		"companies:\n  - id: a\n  - id: a\n",
		"companies: &a [*a]",
		"api_key_file: k\ncompanies:\n  - id: \"\\u00e9\"\n    name: \"n\\u2028\"\n",
		"---\ncompanies: []\n...\n",
		"{",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, err := Parse("/etc/kinsta_exporter/kinsta.yml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		out, err := yaml.Marshal(parsed)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		for _, c := range parsed.Companies {
			if err := kinsta.CheckCompanyID(c.ID); err != nil {
				t.Fatalf("accepted an id the client refuses: %v", err)
			}
		}
		again, err := Parse("/etc/kinsta_exporter/kinsta.yml", out)
		if err != nil {
			t.Fatalf("round trip rejected: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(parsed, again) {
			t.Fatalf("round trip changed the config:\n%#v\n%#v", parsed, again)
		}
	})
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
