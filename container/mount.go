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

	// Volume mounts.
	VolumeName string `json:",omitempty"`
	Anonymous  bool   `json:",omitempty"` // created for an image VOLUME or -v /path
	Driver     string `json:",omitempty"`

	// FromAPIMounts is set for mounts given as HostConfig.Mounts: only they
	// appear in inspect's .Mounts for tmpfs, as in Docker.
	FromAPIMounts bool `json:",omitempty"`
	// Spec is the user's mode string for binds ("ro", "z", ...).
	Mode string `json:",omitempty"`

	// Tmpfs mounts.
	Tmpfs *Tmpfs `json:",omitempty"`
}

// Tmpfs is a tmpfs mount as the shim will perform it.
type Tmpfs struct {
	// Options is the merged option string as the user would write it
	// (defaults first), kept for display.
	Options string
	// Flags are the mount(2) flags words (nosuid, nodev, noexec, ro, ...).
	Flags []string
	// Data is the kernel data string (size=..., nr_inodes=..., ...),
	// without mode, uid and gid, which are below.
	Data string
	// SizeBytes is the resolved size limit, 0 when unlimited or a percentage.
	SizeBytes int64
	// Mode, UID and GID of the tmpfs root: the user's values or those of
	// the image's directory at the destination, fixed at create so that they
	// never change across restarts.
	Mode uint32
	UID  int
	GID  int
	// CopyUp fills the fresh tmpfs with the image's content at the path.
	CopyUp bool
}
