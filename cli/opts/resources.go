package opts

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/blkiodev"
	containertypes "github.com/moby/moby/api/types/container"
)

// MemSwapBytes is --memory-swap: a size, or -1 for unlimited swap.
type MemSwapBytes int64

// Set implements pflag.Value.
func (m *MemSwapBytes) Set(value string) error {
	if value == "-1" {
		*m = -1
		return nil
	}
	n, err := ParseMemBytes(value)
	if err != nil {
		return err
	}
	*m = MemSwapBytes(n)
	return nil
}

// Type implements pflag.Value.
func (m *MemSwapBytes) Type() string { return "bytes" }

// String implements pflag.Value.
func (m *MemSwapBytes) String() string {
	if *m == -1 {
		return "-1"
	}
	b := MemBytes(*m)
	return b.String()
}

// NanoCPUs is --cpus: a decimal number of CPUs held in units of 1e-9 CPUs.
type NanoCPUs int64

// ParseCPUs parses a decimal number of CPUs ("1.5") into nano CPUs, as
// Docker's opts.ParseCPUs.
func ParseCPUs(value string) (int64, error) {
	cpu, ok := new(big.Rat).SetString(value)
	if !ok {
		return 0, invalidf("failed to parse %v as a rational number", value)
	}
	nano := cpu.Mul(cpu, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return 0, invalidf("value is too precise")
	}
	if !nano.Num().IsInt64() || nano.Sign() < 0 {
		return 0, invalidf("invalid number of CPUs: %s", value)
	}
	return nano.Num().Int64(), nil
}

// Set implements pflag.Value.
func (n *NanoCPUs) Set(value string) error {
	v, err := ParseCPUs(value)
	*n = NanoCPUs(v)
	return err
}

// Type implements pflag.Value.
func (n *NanoCPUs) Type() string { return "decimal" }

// String implements pflag.Value.
func (n *NanoCPUs) String() string {
	if *n == 0 {
		return ""
	}
	return big.NewRat(int64(*n), 1e9).FloatString(3)
}

// ParseWeightDevice parses --blkio-weight-device DEVICE:WEIGHT.
func ParseWeightDevice(val string) (*blkiodev.WeightDevice, error) {
	path, w, ok := strings.Cut(val, ":")
	if !ok || strings.Count(val, ":") != 1 {
		return nil, invalidf("bad format: %s", val)
	}
	if !strings.HasPrefix(path, "/dev/") {
		return nil, invalidf("bad format for device path: %s", val)
	}
	weight, err := strconv.ParseUint(w, 10, 16)
	if err != nil {
		return nil, invalidf("invalid weight for device: %s", val)
	}
	if weight > 0 && (weight < 10 || weight > 1000) {
		return nil, invalidf("invalid weight for device: %s", val)
	}
	return &blkiodev.WeightDevice{Path: path, Weight: uint16(weight)}, nil
}

// ParseThrottleBps parses --device-read-bps and --device-write-bps
// DEVICE:RATE, where RATE is a size ("1mb").
func ParseThrottleBps(val string) (*blkiodev.ThrottleDevice, error) {
	path, r, err := splitDevice(val)
	if err != nil {
		return nil, err
	}
	rate, err := units.RAMInBytes(r)
	if err != nil || rate < 0 {
		return nil, invalidf("invalid rate for device: %s. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb", val)
	}
	return &blkiodev.ThrottleDevice{Path: path, Rate: uint64(rate)}, nil
}

// ParseThrottleIOps parses --device-read-iops and --device-write-iops
// DEVICE:RATE, where RATE is a number of operations per second.
func ParseThrottleIOps(val string) (*blkiodev.ThrottleDevice, error) {
	path, r, err := splitDevice(val)
	if err != nil {
		return nil, err
	}
	rate, err := strconv.ParseUint(r, 10, 64)
	if err != nil {
		return nil, invalidf("invalid rate for device: %s. The correct format is <device-path>:<number>. Number must be a positive integer", val)
	}
	return &blkiodev.ThrottleDevice{Path: path, Rate: rate}, nil
}

func splitDevice(val string) (string, string, error) {
	path, r, ok := strings.Cut(val, ":")
	if !ok || strings.Count(val, ":") != 1 {
		return "", "", invalidf("bad format: %s", val)
	}
	if !strings.HasPrefix(path, "/dev/") {
		return "", "", invalidf("bad format for device path: %s", val)
	}
	return path, r, nil
}

// ParseUlimit parses --ulimit NAME=SOFT[:HARD] (go-units).
func ParseUlimit(val string) (*containertypes.Ulimit, error) {
	u, err := units.ParseUlimit(val)
	if err != nil {
		return nil, invalidf("invalid argument %q for \"--ulimit\" flag: %v", val, err)
	}
	return u, nil
}
