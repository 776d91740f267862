package container

// MountType is the kind of a container mount.
type MountType string

// The mount kinds Berth supports.
const (
	MountBind   MountType = "bind"
	MountVolume MountType = "volume"
	MountTmpfs  MountType = "tmpfs"
)

// Mount is one user mount of a container, validated and resolved at create
// time: strings from the API are parsed once and never again.
type Mount struct {
	Type        MountType
	Destination string // absolute, clean
	Source      string // host path for binds; volume name for volumes
	ReadOnly    bool
	Propagation string // bind propagation, "" = rprivate

	// Bind mounts (BindOptions). NonRecursive binds the source alone
	// ("bind", not "rbind"): mounts below it are not visible.
	NonRecursive bool `json:",omitempty"`
	// CreateMountpoint creates a missing bind source (a directory).
	CreateMountpoint bool `json:",omitempty"`
	// ReadOnlyNonRecursive keeps a read-only bind's submounts writable
	// (API < 1.44, or asked for); otherwise a read-only bind is made
	// recursively read-only where the runtime can. ReadOnlyForceRecursive
	// makes start fail where it cannot.
	ReadOnlyNonRecursive   bool `json:",omitempty"`
	ReadOnlyForceRecursive bool `json:",omitempty"`

	// Volume mounts.
	VolumeName string `json:",omitempty"`
	Anonymous  bool   `json:",omitempty"` // created for an image VOLUME or -v /path
	Driver     string `json:",omitempty"`
	// VolumeLabels are set on the volume when the mount creates it
	// (VolumeOptions.Labels).
	VolumeLabels map[string]string `json:",omitempty"`
	// VolumeDriverOpts are the local driver's options of the volume the
	// mount creates (VolumeOptions.DriverConfig.Options): an existing
	// volume must have the same.
	VolumeDriverOpts map[string]string `json:",omitempty"`
	// Subpath mounts this relative path inside the volume instead of its
	// root (VolumeOptions.Subpath), resolved at start inside the volume.
	Subpath string `json:",omitempty"`

	// FromAPIMounts is set for mounts given as HostConfig.Mounts: only they
	// appear in inspect's .Mounts for tmpfs, as in Docker.
	FromAPIMounts bool `json:",omitempty"`
	// Spec is the user's mode string for binds ("ro", "z", ...).
	Mode string `json:",omitempty"`

	// Tmpfs mounts.
	Tmpfs *Tmpfs `json:",omitempty"`

	// Origin is set on a mount the request did not ask for: what added it
	// ("image label io.berth.tmpfs", "daemon --read-only-tmpfs", ...).
	Origin string `json:",omitempty"`
}

// Tmpfs is a tmpfs mount as the shim performs it: the user's options
// parsed once at create into what mount(2) takes, so nothing downstream
// parses or joins option words again.
//
// This shape replaced option words (Flags []string) in the persisted
// container JSON before 1.0; containers written by older builds are not
// readable.
type Tmpfs struct {
	// Options is the merged option string as the user would write it
	// (defaults first), for display only: nothing parses it.
	Options string
	// Flags are the MS_* flags of the mount (MS_NOSUID, MS_RDONLY, ...).
	Flags uintptr
	// Propagation is the MS_* propagation type of the mount in the
	// container (MS_PRIVATE|MS_REC unless the user chose another).
	Propagation uintptr
	// Data is the complete kernel data string of the tmpfs
	// ("size=64m,mode=1777,uid=0,gid=0", ...).
	Data string
	// SizeBytes is the resolved size limit, 0 when unlimited or a percentage.
	SizeBytes int64
	// Mode, UID and GID of the tmpfs root (also in Data): the user's values
	// or those of the image's directory at the destination, fixed at create
	// so that they never change across restarts.
	Mode uint32
	UID  int
	GID  int
	// CopyUp fills the fresh tmpfs with the image's content at the path.
	CopyUp bool
}
