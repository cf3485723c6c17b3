package manifests

import (
	"errors"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// strictUnmarshal decodes YAML into v as the API server's strict field
// validation does: duplicate keys, unknown fields and fields spelt in another
// case (which encoding/json, and so yaml.UnmarshalStrict, would accept) are
// errors.
func strictUnmarshal(y []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(y)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}
