package connector

import (
	"fmt"
	"strconv"
	"time"
)

// Settings are a connector's settings as written in the catalog (gatehouse.Connector.Settings).
// The getters read one setting, accepting the shapes YAML and JSON decoders produce (a number may
// arrive as int or float64), and return a Permanent error naming the setting, never its value,
// when it has the wrong type: a value in the wrong place may be a secret.
type Settings map[string]any

// String returns setting k, or "" when it is absent.
func (s Settings) String(k string) (string, error) {
	switch v := s[k].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", Permanentf("connector setting %s: must be a string", k)
}

// Bool returns setting k, or false when it is absent. "true" and "false" strings are accepted
// because settings may come from environment-substituted text.
func (s Settings) Bool(k string) (bool, error) {
	switch v := s[k].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, Permanentf("connector setting %s: must be true or false", k)
}

// Int returns setting k, or def when it is absent.
func (s Settings) Int(k string, def int) (int, error) {
	switch v := s[k].(type) {
	case nil:
		return def, nil
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case uint64:
		return int(v), nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
	}
	return 0, Permanentf("connector setting %s: must be a whole number", k)
}

// Duration returns setting k (Go duration text such as "10s"), or def when it is absent.
func (s Settings) Duration(k string, def time.Duration) (time.Duration, error) {
	v, err := s.String(k)
	if err != nil || v == "" {
		return def, err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, Permanent(fmt.Errorf("connector setting %s: must be a positive duration such as 10s", k))
	}
	return d, nil
}
