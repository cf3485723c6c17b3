package kinstatest

import (
	"net/http"
	"time"
)

// APIKey is one API key of a company, served by GET /company/{id}/api-keys.
// Its id is derived from the company and the name.
type APIKey struct {
	Name string
	// Status is "active", "revoked" or "expired" (the spec's enum); "" is
	// "active". An active key whose ExpiresAt has passed is served as
	// "expired", as GET /validate does.
	Status    string
	ExpiresAt time.Time // zero: never expires ("expires_at": null)
}

type wireAPIKey struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	ExpiresAt *string `json:"expires_at"` // ISO-8601 with milliseconds, or null
}

// msg404Company is the spec's 404 text for company resources, which is also
// what a key without the role to read them gets.
const msg404Company = "Could not find the company or the user does not have permissions to retrieve data"

func (f *Fake) apiKeys(_ *http.Request, companyID string) reply {
	cs := f.byID[companyID]
	if cs == nil || cs.APIKeysDenied {
		return errorReply(http.StatusNotFound, msg404Company, dataNull)
	}
	keys := make([]wireAPIKey, len(cs.APIKeys))
	for i, k := range cs.APIKeys {
		w := wireAPIKey{ID: uuidFor(companyID, "api-key", k.Name), Name: k.Name, Status: k.Status}
		if w.Status == "" {
			w.Status = "active"
		}
		if !k.ExpiresAt.IsZero() {
			w.ExpiresAt = strPtr(k.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z"))
			if w.Status == "active" && !f.now().Before(k.ExpiresAt) {
				w.Status = "expired"
			}
		}
		keys[i] = w
	}
	return jsonReply(http.StatusOK, map[string][]wireAPIKey{"api_keys": keys})
}
