package manifests

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Kubernetes objects the chart passes through whole: the README documents
// them in one row each, not field by field.
var wholeValues = []string{"resources", "podSecurityContext", "securityContext", "livenessProbe", "readinessProbe"}

// TestChartReadmeValuesTable: every value of values.yaml has a row in the
// README's table, with its type and its default as JSON, and every row is a value.
func TestChartReadmeValuesTable(t *testing.T) {
	var values map[string]any
	if err := yaml.Unmarshal(readFile(t, filepath.Join(chartDir, "values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	leaves := map[string]any{}
	valueLeaves("", values, leaves)

	rows := map[string][2]string{} // key -> type, default
	for _, l := range strings.Split(string(readFile(t, filepath.Join(chartDir, "README.md"))), "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if len(cells) != 4 {
			t.Errorf("README row with %d cells, want 4 (key, type, default, description): %s", len(cells), l)
			continue
		}
		key := strings.Trim(cells[0], "`")
		if _, dup := rows[key]; dup {
			t.Errorf("README: %s documented twice", key)
		}
		rows[key] = [2]string{cells[1], strings.Trim(cells[2], "`")}
	}
	for _, key := range slices.Sorted(maps.Keys(leaves)) {
		row, ok := rows[key]
		if !ok {
			t.Errorf("README: no row for value %s", key)
			continue
		}
		def, err := json.Marshal(leaves[key])
		if err != nil {
			t.Fatal(err)
		}
		if row[1] != string(def) {
			t.Errorf("README: %s default %s, values.yaml has %s", key, row[1], def)
		}
		if want := typeName(leaves[key]); row[0] != want {
			t.Errorf("README: %s type %s, want %s", key, row[0], want)
		}
	}
	for key := range rows {
		if _, ok := leaves[key]; !ok {
			t.Errorf("README documents %s, which is not in values.yaml", key)
		}
	}
	if len(leaves) < 40 {
		t.Errorf("only %d values found: the walk is broken", len(leaves))
	}
}

// valueLeaves collects the documented values: scalars, lists, empty objects,
// and the whole objects of wholeValues.
func valueLeaves(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := prefix + k
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !slices.Contains(wholeValues, key) {
			valueLeaves(key+".", sub, out)
			continue
		}
		out[key] = v
	}
}

func typeName(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case float64:
		if x == float64(int64(x)) {
			return "int"
		}
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return "?"
}
