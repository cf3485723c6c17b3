package kinsta

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// inventoryCompany is a company of one site whose live environment has n
// plugins and n themes, all with an update available.
func inventoryCompany(n int) *kinstatest.Company {
	env := kinstatest.Environment{ID: "env-live", Name: "live", DisplayName: "Live"}
	for i := range n {
		x := kinstatest.Extension{Name: fmt.Sprintf("ext-%03d", i), Title: "Ext", Status: "active",
			Version: "1.0", Update: "available", UpdateVersion: "1.1", Vulnerable: i%2 == 0}
		env.Plugins = append(env.Plugins, x)
		env.Themes = append(env.Themes, x)
	}
	return &kinstatest.Company{ID: testCompany, Sites: []kinstatest.Site{{ID: "s", Name: "s", DisplayName: "S",
		Status: "live", Environments: []kinstatest.Environment{env}}}}
}

// TestCompanyInventoryServerPageCap: a server that answers fewer items per
// page than asked. Paging stopped at the first short page, and 25 plugins
// came back as 10: the other 15 looked uninstalled.
func TestCompanyInventoryServerPageCap(t *testing.T) {
	fake := kinstatest.New(testKey, inventoryCompany(25))
	var mu sync.Mutex
	var orders []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		orders = append(orders, r.URL.Query().Get("order_by"))
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c := newTestClient(t, srv.URL)
	fake.SetPageSizeCap(10)
	for name, get := range map[string]func(context.Context, string) (CompanyExtensions, error){
		"plugins": c.CompanyPlugins, "themes": c.CompanyThemes,
	} {
		fake.ResetRequests()
		mu.Lock()
		orders = nil
		mu.Unlock()
		got, err := get(context.Background(), testCompany)
		if err != nil || len(got.Items) != 25 {
			t.Fatalf("%s: %d items, %v; want 25", name, len(got.Items), err)
		}
		for i, x := range got.Items {
			if want := fmt.Sprintf("ext-%03d", i); x.Name != want || len(x.Installs) != 1 || x.Installs[0].Status != "active" {
				t.Errorf("%s: item %d %+v, want %s", name, i, x, want)
			}
		}
		// Pages of 10, 10 and 5: total reached, no empty page needed.
		if n := fake.Requests(""); n != 3 {
			t.Errorf("%s: %d requests, want 3", name, n)
		}
		mu.Lock()
		for _, o := range orders {
			if o != `{"field":"name","order":"ascend"}` {
				t.Errorf("%s: order_by %q", name, o)
			}
		}
		mu.Unlock()
	}
}

// TestCompanyInventoryUnprefixedFields: status, version, update,
// update_version and is_version_vulnerable without the plugin_/theme_ prefix.
func TestCompanyInventoryUnprefixedFields(t *testing.T) {
	fake := kinstatest.New(testKey, inventoryCompany(2))
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c := newTestClient(t, srv.URL)
	fake.SetUnprefixedInstallFields(true)
	for name, get := range map[string]func(context.Context, string) (CompanyExtensions, error){
		"plugins": c.CompanyPlugins, "themes": c.CompanyThemes,
	} {
		got, err := get(context.Background(), testCompany)
		if err != nil || len(got.Items) != 2 {
			t.Fatalf("%s: %d items, %v", name, len(got.Items), err)
		}
		want := ExtensionInstall{EnvironmentID: "env-live", SiteDisplayName: "S", DisplayName: "Live",
			Status: "active", Version: "1.0", Update: "available", UpdateVersion: "1.1", Vulnerable: true}
		if in := got.Items[0].Installs; len(in) != 1 || in[0] != want {
			t.Errorf("%s: installs %+v, want %+v", name, in, want)
		}
		if in := got.Items[1].Installs; len(in) != 1 || in[0].Vulnerable || in[0].Status != "active" {
			t.Errorf("%s: second item's installs %+v", name, in)
		}
	}
}
