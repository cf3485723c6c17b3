// Package queries lists the PromQL of a Grafana dashboard in a form a real
// Prometheus accepts, so that a test can prove every panel and variable of
// the dashboard returns data.
//
// Template variables are substituted the way Grafana would with every
// variable on "All":
//
//   - dashboard variables of type datasource become "" (they only appear in
//     datasource references, never in an expression);
//   - every other dashboard variable becomes the regex ".*" (the dashboard
//     only uses them in =~ matchers);
//   - $__rate_interval -> 1m, $__interval -> 30s, $__interval_ms -> 30000,
//     $__range -> 5m, $__range_s -> 300, $__range_ms -> 300000.
//
// The $name, ${name}, ${name:format}, [[name]] and [[name:format]] forms are
// recognised. Like Grafana, names that are neither dashboard variables nor
// built-ins (for example $1 in a label_replace replacement) are left alone.
//
// The package depends on the standard library only.
package queries

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Builtins are the values substituted for Grafana's global variables.
var Builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "30s",
	"__interval_ms":   "30000",
	"__range":         "5m",
	"__range_s":       "300",
	"__range_ms":      "300000",
}

// Query is one PromQL expression of a dashboard.
type Query struct {
	// Source says where the query comes from, e.g. `panel 2 "Sites" target A`
	// or `variable company`.
	Source string
	// Expr is the expression as written in the dashboard.
	Expr string
	// PromQL is Expr with the template variables substituted; for a variable
	// query it is the PromQL equivalent of label_values/query_result.
	PromQL string
	// Instant is true for panel targets that Grafana runs as instant queries.
	Instant bool
}

// Queries returns the PromQL of every variable query and every panel target
// of the dashboard, variables first, with template variables substituted.
func Queries(dashboardJSON []byte) ([]string, error) {
	qs, err := Extract(dashboardJSON)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.PromQL
	}
	return out, nil
}

type rawDashboard struct {
	Templating struct {
		List []rawVariable `json:"list"`
	} `json:"templating"`
	Panels []rawPanel `json:"panels"`
}

type rawVariable struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Query json.RawMessage `json:"query"`
}

type rawPanel struct {
	ID      int         `json:"id"`
	Type    string      `json:"type"`
	Title   string      `json:"title"`
	Targets []rawTarget `json:"targets"`
	Panels  []rawPanel  `json:"panels"` // collapsed rows keep their panels here
}

type rawTarget struct {
	RefID   string `json:"refId"`
	Expr    string `json:"expr"`
	Instant bool   `json:"instant"`
}

// Extract is Queries with the origin of each expression.
func Extract(dashboardJSON []byte) ([]Query, error) {
	var d rawDashboard
	if err := json.Unmarshal(dashboardJSON, &d); err != nil {
		return nil, fmt.Errorf("decoding dashboard: %w", err)
	}

	vars := map[string]string{}
	for name, v := range Builtins {
		vars[name] = v
	}
	for _, v := range d.Templating.List {
		if v.Name == "" {
			return nil, errors.New("dashboard variable without a name")
		}
		if v.Type == "datasource" {
			vars[v.Name] = ""
		} else {
			vars[v.Name] = ".*"
		}
	}

	var out []Query
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		expr, err := variableQueryString(v.Query)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
		promql, err := variableToPromQL(Substitute(expr, vars))
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
		out = append(out, Query{Source: "variable " + v.Name, Expr: expr, PromQL: promql, Instant: true})
	}

	var walk func([]rawPanel) error
	walk = func(panels []rawPanel) error {
		for _, p := range panels {
			for _, t := range p.Targets {
				src := fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, t.RefID)
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("%s: empty expr", src)
				}
				out = append(out, Query{Source: src, Expr: t.Expr, PromQL: Substitute(t.Expr, vars), Instant: t.Instant})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	return out, nil
}

// varRef matches ${name}, ${name:format}, [[name]], [[name:format]] and $name.
var varRef = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)`)

var labelName = regexp.MustCompile(`^[a-zA-Z_]\w*$`)

// Substitute replaces the variables of vars (name -> value) in expr. Names not
// in vars are left as they are.
func Substitute(expr string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3] // exactly one group matched
		if v, ok := vars[name]; ok {
			return v
		}
		return ref
	})
}

// variableQueryString returns the query of a Prometheus query variable, which
// Grafana stores either as a string or as {"query": "...", ...}.
func variableQueryString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("query is neither a string nor an object with a query: %s", raw)
	}
	return obj.Query, nil
}

// variableToPromQL turns a Prometheus variable query into PromQL that returns
// data exactly when the variable would have values:
//
//	label_values(sel, l)  -> count by (l) (sel with l!="" added)
//	label_values(l)       -> count by (l) ({l!=""})
//	query_result(expr)    -> expr
func variableToPromQL(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", errors.New("empty query")
	}
	fn, args, ok := call(q)
	switch {
	case ok && fn == "query_result":
		return strings.TrimSpace(args), nil
	case ok && fn == "label_values":
		sel, label := "", strings.TrimSpace(args)
		if i := lastTopLevelComma(args); i >= 0 {
			sel, label = strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+1:])
		}
		if !labelName.MatchString(label) {
			return "", fmt.Errorf("label_values: bad label name %q", label)
		}
		return fmt.Sprintf("count by (%s) (%s)", label, addMatcher(sel, label+`!=""`)), nil
	case ok:
		return "", fmt.Errorf("%s() has no PromQL equivalent", fn)
	}
	return "", fmt.Errorf("unsupported variable query %q", q)
}

// call splits `fn(args)` (the whole string) into fn and args.
func call(q string) (fn, args string, ok bool) {
	open := strings.IndexByte(q, '(')
	if open <= 0 || !strings.HasSuffix(q, ")") {
		return "", "", false
	}
	return strings.TrimSpace(q[:open]), q[open+1 : len(q)-1], true
}

// lastTopLevelComma is the index of the last comma of s outside braces,
// brackets, parentheses and quotes, or -1.
func lastTopLevelComma(s string) int {
	depth, last := 0, -1
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '{' || c == '(' || c == '[':
			depth++
		case c == '}' || c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			last = i
		}
	}
	return last
}

// addMatcher adds a label matcher to a series selector: "m" -> "m{x}",
// "m{a}" -> "m{a,x}", "" -> "{x}".
func addMatcher(sel, matcher string) string {
	if !strings.HasSuffix(sel, "}") {
		return sel + "{" + matcher + "}"
	}
	open := strings.IndexByte(sel, '{')
	if strings.TrimSpace(sel[open+1:len(sel)-1]) == "" {
		return sel[:open] + "{" + matcher + "}"
	}
	return strings.TrimSuffix(sel, "}") + "," + matcher + "}"
}
