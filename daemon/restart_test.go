package daemon

import (
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestShouldRestart(t *testing.T) {
	t.Parallel()
	always := containertypes.RestartPolicy{Name: containertypes.RestartPolicyAlways}
	onFail := containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 2}
	tests := []struct {
		policy   containertypes.RestartPolicy
		code, n  int
		stopped  bool
		expected bool
	}{
		{containertypes.RestartPolicy{}, 1, 0, false, false},
		{containertypes.RestartPolicy{Name: "no"}, 1, 0, false, false},
		{always, 0, 5, false, true},
		{always, 0, 0, true, false},
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyUnlessStopped}, 0, 0, false, true},
		{onFail, 0, 0, false, false},
		{onFail, 3, 1, false, true},
		{onFail, 3, 2, false, false},
		{containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure}, 3, 100, false, true},
	}
	for _, tc := range tests {
		assert.Equal(t, shouldRestart(tc.policy, tc.code, tc.n, tc.stopped), tc.expected, "%+v", tc)
	}
}

func TestRestartDelay(t *testing.T) {
	t.Parallel()
	assert.Equal(t, restartDelay(0), 100*time.Millisecond)
	assert.Equal(t, restartDelay(3), 800*time.Millisecond)
	assert.Equal(t, restartDelay(50), time.Minute)
}
