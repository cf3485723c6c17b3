package collector

import (
	"context"
	"strings"
)

var (
	apiKeyExpiryFamily = newGaugeFamily("kinsta_api_key_expiry_timestamp_seconds",
		"Unix time at which the Kinsta API key expires (GET /validate expires_at, cached by the apikey collector); absent when the key never expires.",
		[]string{"company", "key_name"}...)
	apiKeyInfoFamily = newGaugeFamily("kinsta_api_key_info",
		"The Kinsta API key the exporter uses, with its status as Kinsta reports it (GET /validate: active, revoked, expired; cached by the apikey collector); always 1.",
		[]string{"company", "key_name", "status"}...)
)

// apiKeyCollector reads GET /validate: one item for the exporter's key.
type apiKeyCollector struct{ src SitesSource }

func newAPIKeyCollector(api API) itemCollector { return apiKeyCollector{api} }

func (apiKeyCollector) scope(bool) scope { return scopeKey }

func (c apiKeyCollector) refresh(ctx context.Context, req *request) (result, error) {
	key, err := c.src.Validate(ctx)
	if err == nil && key.CompanyID != "" {
		err = checkKeyCompany(key.CompanyID)
	}
	if err != nil {
		return result{}, err
	}
	status := strings.ToLower(key.Status)
	if status == "" {
		status = unknownStatus
	}
	var m series
	m.gauge(apiKeyInfoFamily, 1, key.CompanyID, key.Name, status)
	if !key.ExpiresAt.IsZero() {
		m.gauge(apiKeyExpiryFamily, unixSeconds(key.ExpiresAt), key.CompanyID, key.Name)
	}
	return result{series: m, company: key.CompanyID}, nil
}
