package caselog

import (
	"encoding/json"
	"fmt"
)

// Values are JSON, chosen once: readable with bbolt's own tools, and the
// case log is bound by fsync, not by encoding.
func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
