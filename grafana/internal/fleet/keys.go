package fleet

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// keyKey identifies one API key of a company, whichever exporter lists it.
const keyKey = "company, key_id, key_name"

// companyKeysPanel is every API key of the selected companies
// (kinsta_company_api_key_*, apikeys collector) with its status and the time
// until it expires; keys that never expire have no expiry.
func companyKeysPanel(ids *idSeq) cog.Builder[dashboard.Panel] {
	return tablePanel(ids, "API keys of the company",
		"Every API key of the selected companies, not only the exporter's, with its status and the time until it expires (GET /company/{id}/api-keys, apikeys collector, hourly; empty when the exporter's key may not list them, see KinstaCollectorDisabled). KinstaAPIKeyExpiringSoon fires for an active key with under 14 days left.").
		WithTarget(tableQuery("A", pick(keyKey, "status", `kinsta_company_api_key_info{`+sel+`}`))).
		WithTarget(tableQuery("B", dedup(keyKey, `kinsta_company_api_key_expiry_timestamp_seconds{`+sel+`}`)+` - time()`)).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize(
			[]string{"Time", "Value #A"},
			map[string]string{"key_name": "Key", "status": "Status", "Value #B": "Expires in", "key_id": "Key ID", "company": "Company"},
			[]string{"key_name", "status", "Value #B", "key_id", "company"})).
		Unit("s").
		Thresholds(thresholds("red", step{14 * 86400, "orange"}, step{30 * 86400, "green"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Expires in")}).
		NoValue("No key listed (is the apikeys collector on, and may the key list them?)").
		Links(runbooks("KinstaAPIKeyExpiringSoon")).
		Height(8).
		Span(24)
}
