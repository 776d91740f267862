package opts

import (
	"strconv"
	"strings"

	"github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// ParseMemBytes parses a binary size such as "64m" or "1g" (go-units
// RAMInBytes: 1k = 1024 bytes) as --shm-size does. Negative sizes are refused.
func ParseMemBytes(value string) (int64, error) {
	n, err := units.RAMInBytes(value)
	if err != nil || n < 0 {
		return 0, invalidf("invalid size: '%s'", value)
	}
	return n, nil
}

// MemBytes is a pflag.Value holding a byte count given as a human size.
type MemBytes int64

// Set implements pflag.Value.
func (m *MemBytes) Set(value string) error {
	n, err := ParseMemBytes(value)
	if err != nil {
		return err
	}
	*m = MemBytes(n)
	return nil
}

// Type implements pflag.Value.
func (m *MemBytes) Type() string { return "bytes" }

// String implements pflag.Value.
func (m *MemBytes) String() string {
	if *m == 0 {
		return "0"
	}
	return units.BytesSize(float64(*m))
}

// ParseRestartPolicy parses --restart: "no", "always", "unless-stopped",
// "on-failure" or "on-failure:N".
func ParseRestartPolicy(value string) (containertypes.RestartPolicy, error) {
	if value == "" {
		return containertypes.RestartPolicy{}, nil
	}
	name, count, hasCount := strings.Cut(value, ":")
	p := containertypes.RestartPolicy{Name: containertypes.RestartPolicyMode(name)}
	switch p.Name {
	case containertypes.RestartPolicyDisabled, containertypes.RestartPolicyAlways, containertypes.RestartPolicyUnlessStopped:
		if hasCount {
			return containertypes.RestartPolicy{}, invalidf("invalid restart policy format: maximum retry count can only be used with 'on-failure'")
		}
	case containertypes.RestartPolicyOnFailure:
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return containertypes.RestartPolicy{}, invalidf("invalid restart policy format: maximum retry count must be an integer")
			}
			p.MaximumRetryCount = n
		}
	default:
		return containertypes.RestartPolicy{}, invalidf("invalid restart policy format: unknown policy '%s'", name)
	}
	return p, nil
}

// ParseFilters turns repeated --filter name=value flags into API filters.
func ParseFilters(values []string) (client.Filters, error) {
	f := client.Filters{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return nil, invalidf("bad format of filter (expected name=value)")
		}
		f.Add(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val))
	}
	return f, nil
}
