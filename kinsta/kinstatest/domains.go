package kinstatest

import (
	"encoding/json"
	"strconv"
)

// Domain is one more domain of an environment, sent in its "domains" list
// after the primary domain. Repeat a name to send a duplicate entry; a name
// such as "*.example.com" is a wildcard entry, which Kinsta lists beside the
// apex.
type Domain struct {
	Name     string
	Inactive bool // "is_active": false (nothing is sent with WireDomainsRecorded)
}

// WireVariant selects, per environment, the spellings the sources disagree
// on, so a client can be tested against each. The zero value is the spec's.
type WireVariant uint

const (
	// WireDomainsRecorded sends domains and primaryDomain as the one
	// recorded payload has them: {id, name, type}, without is_active and
	// site_id.
	WireDomainsRecorded WireVariant = 1 << iota
	// WirePrimaryDomainName sends "primaryDomain" as the bare name string.
	// No source shows it; clients accept it all the same.
	WirePrimaryDomainName
	// WirePrimaryDomainSnake sends the key "primary_domain" instead of
	// "primaryDomain". No source shows it either.
	WirePrimaryDomainSnake
	// WireResponseCodes200 answers analytics/response-codes with 200 rather
	// than 202 (the spec answers the other analytics with 202; no Kinsta
	// document covers this endpoint).
	WireResponseCodes200
	// WireBucketKeysNoZone writes the response-codes bucket keys as
	// "2006-01-02T15:04:05" (the spec's examples) rather than
	// "2006-01-02T15:04:05.000Z" (the recorded shape).
	WireBucketKeysNoZone
)

// rawJSON is an encoded value: wireEnv's primary domain is an object, a name
// or null.
type rawJSON = json.RawMessage

// domainsWire fills the "domains" and "primaryDomain" of w: the primary
// domain first (as before the extra domains existed), then e.Domains.
func domainsWire(site *Site, e *Environment, w *wireEnv) {
	recorded := e.Wire&WireDomainsRecorded != 0
	entry := func(id, name string, active bool) wireDomain {
		// "live" even on staging, as observed.
		d := wireDomain{ID: id, Name: name, Type: "live"}
		if !recorded {
			d.SiteID, d.IsActive = strPtr(site.ID), &active
		}
		return d
	}
	w.Domains = make([]wireDomain, 0, len(e.Domains)+1)
	primary := json.RawMessage("null")
	if e.PrimaryDomain != "" {
		d := entry(uuidFor(e.ID, "domain", e.PrimaryDomain), e.PrimaryDomain, true)
		w.Domains = append(w.Domains, d)
		primary = marshal(d)
		if e.Wire&WirePrimaryDomainName != 0 {
			primary = marshal(e.PrimaryDomain)
		}
	}
	for i, x := range e.Domains {
		w.Domains = append(w.Domains, entry(uuidFor(e.ID, "domain", x.Name, strconv.Itoa(i)), x.Name, !x.Inactive))
	}
	if e.Wire&WirePrimaryDomainSnake != 0 {
		w.PrimaryDomainSnake = primary
	} else {
		w.PrimaryDomain = primary
	}
}
