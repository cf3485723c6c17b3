package kinsta

import (
	"bytes"
	"fmt"
	"testing"
)

// sitesPayload builds a GET /sites?include_environments=true body with n
// sites, each with two labels and two full environments.
func sitesPayload(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"company":{"sites":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"site-%08d-576c-4fdc-ba4f-b596c83f15a1","name":"site%d","display_name":"Site number %d","status":"live",`+
			`"siteLabels":[{"id":"label-a-%d","name":"client:acme"},{"id":%d,"name":"tier:gold"}],"environments":[`, i, i, i, i, i)
		for j, env := range []string{"live", "staging"} {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"env-%08d-%d-4b8c-9e0f-2a3b4c5d6e7f","name":%q,"display_name":%q,"is_blocked":false,`+
				`"id_edge_cache":null,"cdn_cache_id":"54fb80af-576c-4fdc-ba4f-b596c83f15a1","is_opt_out_from_automatic_php_update":false,`+
				`"web_root":"/www/site%d/public","image_optimization_type":"lossy","is_additional_sftp_accounts_enabled":false,`+
				`"is_premium":false,"wordpress_version":"6.5.2","domains":[{"id":"d-%d-%d","name":"site%d-%s.example.com","site_id":"s","is_active":true,"type":"live"}],`+
				`"primaryDomain":{"id":"d-%d-%d","name":"site%d-%s.example.com","site_id":"s","is_active":true,"type":"live"},`+
				`"ssh_connection":{"ssh_port":"%d","ssh_ip":{"external_ip":"192.0.2.1"}},"container_info":{"id":"c-%d-%d","php_engine_version":"php8.3"}}`,
				i, j, env, env, i, i, j, i, env, i, j, i, env, 20000+i, i, j)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

func benchmarkDecodeSites(b *testing.B, n int) {
	payload := sitesPayload(n)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		sites, err := DecodeSites(bytes.NewReader(payload))
		if err != nil || len(sites) != n {
			b.Fatalf("%d sites, %v", len(sites), err)
		}
	}
}

func BenchmarkDecodeSites1000(b *testing.B)  { benchmarkDecodeSites(b, 1000) }
func BenchmarkDecodeSites10000(b *testing.B) { benchmarkDecodeSites(b, 10000) }

func TestSitesPayload(t *testing.T) {
	sites, err := DecodeSites(bytes.NewReader(sitesPayload(3)))
	if err != nil || len(sites) != 3 || len(sites[2].Labels) != 2 || len(sites[2].Environments) != 2 ||
		sites[2].Labels[1].ID != "2" || sites[2].Environments[1].PHPVersion != "8.3" {
		t.Fatalf("%+v %v", sites, err)
	}
}
