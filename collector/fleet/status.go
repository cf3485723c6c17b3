package fleet

import "github.com/kinsta-exporter/kinsta_exporter/collector"

// CompanyStatus is a configured company's state now, for the status page.
type CompanyStatus struct {
	ID   string // as configured; for a company found by GET /validate, once found
	Name string // from the configuration file; "" when none is given
	collector.CompanyStatus
}

// Status returns the state now of the first maxCompanies companies, in
// configuration order, with at most maxNotLive sites that are not live
// each, and the number of companies. It makes no API call.
func (f *Fleet) Status(maxCompanies, maxNotLive int) (list []CompanyStatus, companies int) {
	entries := f.state.Load().entries
	companies = len(entries)
	entries = entries[:min(companies, max(maxCompanies, 0))]
	out := make([]CompanyStatus, 0, len(entries))
	for _, e := range entries {
		st := e.run.exp.Status(maxNotLive)
		id := e.id
		if id == "" {
			id = st.Company
		}
		out = append(out, CompanyStatus{ID: id, Name: e.name, CompanyStatus: st})
	}
	return out, companies
}
