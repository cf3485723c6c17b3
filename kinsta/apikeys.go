package kinsta

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// APIKey is one API key of a company (GET /company/{company_id}/api-keys),
// whichever its status: revoked and expired keys are listed too.
type APIKey struct {
	ID        string
	Name      string
	Status    string    // active, revoked, expired (the spec's enum); others pass through
	ExpiresAt time.Time // zero when the key never expires (null or absent)
}

// APIKeys returns every API key of the company, not only the one in use:
// GET /company/{company_id}/api-keys, in API order, without entries that
// have neither id nor name. There is no paging. A key whose role
// may not list the keys (a developer's, probably) gets a 404, which is a
// KindNotFound like any other.
//
// expires_at is an ISO-8601 time (epoch milliseconds are read too); null
// means no expiry. A value that is present but not a time fails the call as
// KindBadResponse rather than reading as "never expires", which would hide
// the key from an expiry alert.
func (c *Client) APIKeys(ctx context.Context, companyID string) ([]APIKey, error) {
	if companyID == "" {
		return nil, errors.New("kinsta: APIKeys: empty company id")
	}
	var out []APIKey
	err := c.get(ctx, companyCall(companyID, "/api-keys", nil), func(body []byte) error {
		var err error
		out, err = decodeAPIKeys(body)
		return err
	})
	return out, err
}

type wireAPIKeys struct {
	APIKeys *[]struct {
		ID        flexString `json:"id"`
		Name      flexString `json:"name"`
		Status    flexString `json:"status"`
		ExpiresAt expiryTime `json:"expires_at"`
	} `json:"api_keys"`
}

// expiryTime is expires_at: null or absent is "never" (a zero t); bad marks
// a value that is present but not a readable time ("", 0, "soon", {}).
type expiryTime struct {
	t   time.Time
	bad bool
}

func (e *expiryTime) UnmarshalJSON(b []byte) error {
	*e = expiryTime{}
	if string(b) == "null" {
		return nil
	}
	var t flexTime
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	*e = expiryTime{t: t.time(), bad: t.time().IsZero()}
	return nil
}

func decodeAPIKeys(body []byte) ([]APIKey, error) {
	var w *wireAPIKeys
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	if w == nil || w.APIKeys == nil {
		return nil, missing("api_keys")
	}
	out := make([]APIKey, 0, len(*w.APIKeys))
	for i, k := range *w.APIKeys {
		if k.ExpiresAt.bad {
			return nil, &shapeError{path: "api_keys[" + strconv.Itoa(i) + "].expires_at", problem: "is not a time"}
		}
		if k.ID == "" && k.Name == "" { // null or {}: nothing to name a key by
			continue
		}
		out = append(out, APIKey{ID: string(k.ID), Name: string(k.Name), Status: string(k.Status), ExpiresAt: k.ExpiresAt.t})
	}
	return out, nil
}
