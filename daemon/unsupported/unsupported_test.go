package unsupported

import (
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

type request struct {
	cfg *containertypes.Config
	hc  *containertypes.HostConfig
	nc  *network.NetworkingConfig
}

func endpoint(es network.EndpointSettings) *network.NetworkingConfig {
	return &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"net1": &es}}
}

// refusals has one case per field docs/api-coverage.md marks refused by
// this package; TestCoverageTable checks that none is missing.
var refusals = map[string]request{
	"Config.NetworkDisabled":       {cfg: &containertypes.Config{NetworkDisabled: true}},
	"HostConfig.VolumeDriver":      {hc: &containertypes.HostConfig{VolumeDriver: "convoy"}},
	"HostConfig.VolumesFrom":       {hc: &containertypes.HostConfig{VolumesFrom: []string{"other"}}},
	"HostConfig.CgroupnsMode":      {hc: &containertypes.HostConfig{CgroupnsMode: containertypes.CgroupnsModePrivate}},
	"HostConfig.Cgroup":            {hc: &containertypes.HostConfig{Cgroup: "container:other"}},
	"HostConfig.UsernsMode":        {hc: &containertypes.HostConfig{UsernsMode: "private"}},
	"HostConfig.UTSMode":           {hc: &containertypes.HostConfig{UTSMode: "container:other"}},
	"HostConfig.StorageOpt":        {hc: &containertypes.HostConfig{StorageOpt: map[string]string{"size": "1G"}}},
	"HostConfig.Umask":             {hc: &containertypes.HostConfig{Umask: new(uint32)}},
	"HostConfig.Isolation":         {hc: &containertypes.HostConfig{Isolation: containertypes.IsolationHyperV}},
	"HostConfig.Devices":           {hc: &containertypes.HostConfig{Resources: containertypes.Resources{Devices: []containertypes.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/x", CgroupPermissions: "rwm"}}}}},
	"HostConfig.DeviceCgroupRules": {hc: &containertypes.HostConfig{Resources: containertypes.Resources{DeviceCgroupRules: []string{"c 1:3 rwm"}}}},
	"EndpointSettings.DriverOpts":  {nc: endpoint(network.EndpointSettings{DriverOpts: map[string]string{"k": "v"}})},
	"EndpointSettings.GwPriority":  {nc: endpoint(network.EndpointSettings{GwPriority: 10})},
	"EndpointSettings.MacAddress":  {nc: endpoint(network.EndpointSettings{MacAddress: network.HardwareAddr{2, 66, 0, 0, 0, 1}})},
}

func TestFieldsRefused(t *testing.T) {
	t.Parallel()
	for field, req := range refusals {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			err := Fields(req.cfg, req.hc, req.nc)
			assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
			assert.Check(t, is.ErrorContains(err, field+" is not supported by berth"))
		})
	}
}

func TestFieldsAccepted(t *testing.T) {
	t.Parallel()
	for name, req := range map[string]request{
		"nothing":             {},
		"zero values":         {cfg: &containertypes.Config{}, hc: &containertypes.HostConfig{}, nc: &network.NetworkingConfig{}},
		"local volume driver": {hc: &containertypes.HostConfig{VolumeDriver: "local"}},
		"host cgroupns":       {hc: &containertypes.HostConfig{CgroupnsMode: containertypes.CgroupnsModeHost}},
		"host userns":         {hc: &containertypes.HostConfig{UsernsMode: "host"}},
		"host uts":            {hc: &containertypes.HostConfig{UTSMode: "host"}},
		"default isolation":   {hc: &containertypes.HostConfig{Isolation: containertypes.IsolationDefault}},
		"nil endpoint":        {nc: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"bridge": nil}}},
		"empty endpoint":      {nc: endpoint(network.EndpointSettings{})},
		"console size":        {hc: &containertypes.HostConfig{ConsoleSize: [2]uint{24, 80}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.NilError(t, Fields(req.cfg, req.hc, req.nc))
		})
	}
}

// TestFieldsFirstInOrder: with several refused fields the error names
// the same one every time (the map of endpoints is walked in order).
func TestFieldsFirstInOrder(t *testing.T) {
	t.Parallel()
	nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		"b": {GwPriority: 1}, "a": {DriverOpts: map[string]string{"k": "v"}}, "c": {GwPriority: 2},
	}}
	for range 20 {
		assert.Check(t, is.ErrorContains(Fields(nil, nil, nc), "EndpointSettings.DriverOpts is not supported by berth (network a)"))
	}
}
