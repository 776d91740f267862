package tmpfsopt

import (
	"fmt"
	"math"
	"strconv"

	"github.com/containerd/errdefs"
)

// ParseSize parses a tmpfs size in the kernel's forms (tmpfs(5)): plain
// bytes, a number with a binary k, m, g or t suffix (either case), or "N%"
// of RAM (1 to 100). It returns the bytes for an absolute size or the
// percentage. "0" is valid and means unlimited to the kernel.
//
// Leading zeros are refused: the kernel would read "010" as octal.
func ParseSize(s string) (bytes int64, percent int, err error) {
	b, p, reason := parseSize(s, true)
	if reason != "" {
		return 0, 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid size %q: %s", s, reason))
	}
	return b, p, nil
}

// parseSize is ParseSize returning a reason instead of an error; percent
// forms are refused unless allowPercent (nr_inodes and nr_blocks take none).
func parseSize(s string, allowPercent bool) (int64, int, string) {
	if s == "" {
		return 0, 0, "empty value"
	}
	digits, suffix := s, byte(0)
	if last := s[len(s)-1]; last < '0' || last > '9' {
		digits, suffix = s[:len(s)-1], last
	}
	if digits == "" {
		return 0, 0, "missing number"
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, 0, "not a number with an optional k, m, g or t suffix" + percentHint(allowPercent)
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		return 0, 0, "leading zeros are not allowed"
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, 0, "number too large"
	}
	var shift uint
	switch suffix {
	case 0:
	case 'k', 'K':
		shift = 10
	case 'm', 'M':
		shift = 20
	case 'g', 'G':
		shift = 30
	case 't', 'T':
		shift = 40
	case '%':
		if !allowPercent {
			return 0, 0, "a percentage is not allowed here"
		}
		if n < 1 || n > 100 {
			return 0, 0, "percentage must be between 1% and 100%"
		}
		return 0, int(n), ""
	default:
		return 0, 0, fmt.Sprintf("unknown suffix %q: want k, m, g or t%s", suffix, percentHint(allowPercent))
	}
	if n > math.MaxInt64>>shift {
		return 0, 0, "number too large"
	}
	return n << shift, 0, ""
}

func percentHint(allowPercent bool) string {
	if allowPercent {
		return ", or N%"
	}
	return ""
}
