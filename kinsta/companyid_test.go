package kinsta

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

func TestCheckCompanyID(t *testing.T) {
	for id, want := range map[string]string{
		testCompany:              "",
		"company-1":              "",
		"Agence_Été":             "",
		strings.Repeat("a", 128): "",
		"":                       "empty",
		strings.Repeat("a", 129): "longer than 128 bytes",
		"c\xff1":                 "not valid UTF-8",
		".":                      `"." and ".." are path segments`,
		"..":                     `"." and ".." are path segments`,
		"a/b":                    "must not contain / ? # % or \\",
		"a?b":                    "must not contain",
		"a#b":                    "must not contain",
		"%2e%2e":                 "must not contain",
		`a\b`:                    "must not contain",
		"a b":                    "must not contain whitespace",
		"a\x00b":                 "must not contain whitespace or control",
		"a\u200bb":               "must not contain whitespace or control",
		"a\ufffdb":               "must not contain whitespace or control",
		"\u2028":                 "must not contain whitespace or control",
		"...":                    "",
		"a..b":                   "",
	} {
		err := CheckCompanyID(id)
		var e *CompanyIDError
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", id, err)
		case want != "" && (!errors.As(err, &e) || !strings.Contains(err.Error(), want) || e.ID != id):
			t.Errorf("%q: err %v, want %q", id, err, want)
		case err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return r < ' ' || r == 0x200b }):
			t.Errorf("%q: error %q is not printable", id, err)
		}
	}
}

// TestClientRefusesInvalidCompanyIDs: every method that puts a company id
// into a request refuses an invalid one before sending anything. Before,
// ".." made a request for /company/../wp-plugins, with the key.
func TestClientRefusesInvalidCompanyIDs(t *testing.T) {
	fake := kinstatest.New(testKey, kinstatest.GenerateCompany(testCompany, 1, 1, 1))
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	envID := "e"
	for _, id := range []string{"..", ".", "a/b", "c\xff1", ""} {
		for name, call := range map[string]func() error{
			"Sites":            func() error { _, err := c.Sites(ctx, id); return err },
			"SitesWithDropped": func() error { _, err := c.SitesWithDropped(ctx, id); return err },
			"CompanyPlugins":   func() error { _, err := c.CompanyPlugins(ctx, id); return err },
			"CompanyThemes":    func() error { _, err := c.CompanyThemes(ctx, id); return err },
			"ActivityLogs":     func() error { _, err := c.ActivityLogs(ctx, id, 0, 10); return err },
			"DiskUsage":        func() error { _, err := c.DiskUsage(ctx, id, envID); return err },
		} {
			err := call()
			var idErr *CompanyIDError
			if e := asError(t, err); e.Kind != KindClient || e.StatusCode != 0 || !errors.As(err, &idErr) {
				t.Errorf("%s(%q): %v", name, id, err)
			}
		}
	}
	if n := fake.Requests(""); n != 0 {
		t.Errorf("%d requests sent for invalid company ids", n)
	}
}

// TestValidateRefusesInvalidCompany: a company id from GET /validate that
// CheckCompanyID refuses fails the call as a bad response.
func TestValidateRefusesInvalidCompany(t *testing.T) {
	fake := kinstatest.New(testKey)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c := newTestClient(t, srv.URL)
	for _, fault := range []kinstatest.Fault{
		{Hostile: kinstatest.Hostile{Kind: kinstatest.HostileValidateDotDot}},
		{Body: `{"name":"k","company":"a/b"}`},
		{Body: `{"name":"k","company":"x\u0000y"}`},
	} {
		fake.SetFault(kinstatest.RouteValidate, fault)
		info, err := c.Validate(context.Background())
		var idErr *CompanyIDError
		if e := asError(t, err); e.Kind != KindBadResponse || !errors.As(err, &idErr) || info != (KeyInfo{}) {
			t.Errorf("%+v: %+v, %v", fault, info, err)
		}
	}
	fake.SetFault(kinstatest.RouteValidate, kinstatest.Fault{Body: `{"name":"k","status":"active"}`})
	if info, err := c.Validate(context.Background()); err != nil || info.Name != "k" {
		t.Errorf("a key without a company: %+v, %v", info, err)
	}
}
