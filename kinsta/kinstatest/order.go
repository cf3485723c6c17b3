package kinstatest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// companyOrder is order_by of GET /company/{id}/wp-plugins and /wp-themes:
// {"field":"name"|"environments"|"updates","order":"ascend"|"descend"}, as
// JSON in the query (as one client sends it) or as a member of a JSON body
// on the GET (as another does); the query wins. Absent, it is name
// ascending. ok is false for anything else. The body is left for paging.
func companyOrder(r *http.Request) (field string, descend bool, ok bool) {
	type orderBy struct {
		Field string `json:"field"`
		Order string `json:"order"`
	}
	o := orderBy{Field: "name", Order: "ascend"}
	if raw := r.URL.Query().Get("order_by"); raw != "" {
		if json.Unmarshal([]byte(raw), &o) != nil {
			return "", false, false
		}
	} else if r.Body != nil && r.ContentLength != 0 {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return "", false, false
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		var body struct {
			OrderBy *orderBy `json:"order_by"`
		}
		if len(bytes.TrimSpace(b)) > 0 && json.Unmarshal(b, &body) != nil {
			return "", false, false
		}
		if body.OrderBy != nil {
			o = *body.OrderBy
		}
	}
	switch {
	case o.Field != "name" && o.Field != "environments" && o.Field != "updates":
		return "", false, false
	case o.Order != "ascend" && o.Order != "descend":
		return "", false, false
	}
	return o.Field, o.Order == "descend", true
}

// sortCompanyItems sorts the company-wide list by field (ties by name).
func sortCompanyItems(items []wireCompanyExtension, field string, descend bool) {
	slices.SortFunc(items, func(a, b wireCompanyExtension) int {
		c := 0
		switch field {
		case "environments":
			c = cmp.Compare(a.EnvironmentCount, b.EnvironmentCount)
		case "updates":
			c = cmp.Compare(a.UpdateCount, b.UpdateCount)
		}
		if c == 0 {
			c = cmp.Compare(a.Name, b.Name)
		}
		if descend {
			return -c
		}
		return c
	})
}
