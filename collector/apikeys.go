package collector

import (
	"context"
	"fmt"
	"strings"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// APIKeysSource is what the apikeys collector needs; *kinsta.Client has it.
type APIKeysSource interface {
	APIKeys(ctx context.Context, companyID string) ([]kinsta.APIKey, error)
}

// The apikeys collector's families are apart from the apikey collector's
// (kinsta_api_key_*, GET /validate), for three reasons: those mean "the key
// the exporter uses", which dashboards and queries rely on; the exporter's
// own key is in both lists and /validate names no key id to tell it by,
// while one family must come from one collector (each collector's series
// are rendered apart); and a developer-role key gets 404 from the company
// list but not from /validate, so each pauses on its own.
var (
	companyKeyInfoFamily = newGaugeFamily("kinsta_company_api_key_info",
		"Every API key of the company, whoever uses it, with its status as Kinsta reports it (GET /company/{company_id}/api-keys: active, revoked, expired; cached by the apikeys collector); always 1. The exporter's own key is also in kinsta_api_key_info.",
		[]string{"company", "key_id", "key_name", "status"}...)
	companyKeyExpiryFamily = newGaugeFamily("kinsta_company_api_key_expiry_timestamp_seconds",
		"Unix time at which the company's API key expires (GET /company/{company_id}/api-keys expires_at, cached by the apikeys collector), whatever its status; absent when the key never expires.",
		[]string{"company", "key_id", "key_name"}...)
)

const (
	// maxCompanyAPIKeys bounds the keys of one company. A company has a
	// handful; thousands would be an answer the exporter does not
	// understand, and each would become series.
	maxCompanyAPIKeys = 1000
	apiKeysEndpoint   = "/company/{company_id}/api-keys"
)

// apiKeysCollector reads GET /company/{company_id}/api-keys: one item per
// company.
type apiKeysCollector struct{ src APIKeysSource }

func newAPIKeysCollector(api API) itemCollector { return apiKeysCollector{api} }

func (apiKeysCollector) scope(bool) scope { return scopeCompany }

func (c apiKeysCollector) refresh(ctx context.Context, req *request) (result, error) {
	keys, err := c.src.APIKeys(ctx, req.company)
	if err != nil {
		return result{}, err
	}
	if len(keys) > maxCompanyAPIKeys {
		return result{}, &kinsta.Error{Kind: kinsta.KindBadResponse, Endpoint: apiKeysEndpoint,
			Message: fmt.Sprintf("%d API keys, more than the %d the exporter serves per company", len(keys), maxCompanyAPIKeys)}
	}
	type keyID struct{ id, name string }
	seen := make(map[keyID]bool, len(keys))
	var m series
	for _, k := range keys {
		id := keyID{k.ID, k.Name}
		if seen[id] { // listed twice: the first entry stands
			continue
		}
		seen[id] = true
		status := strings.ToLower(strings.TrimSpace(k.Status))
		m.gauge(companyKeyInfoFamily, 1, req.company, k.ID, k.Name, orUnknown(status))
		if !k.ExpiresAt.IsZero() {
			m.gauge(companyKeyExpiryFamily, unixSeconds(k.ExpiresAt), req.company, k.ID, k.Name)
		}
	}
	return result{series: m}, nil
}
