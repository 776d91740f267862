package shim

// Config is everything a shim needs; the daemon writes it as shim.json
// in the shim's state directory.
type Config struct {
	ID          string
	Runtime     string // runtime binary path
	RuntimeRoot string // the runtime's --root
	Bundle      string // holds config.json; the rootfs is mounted at Bundle/rootfs
	Rootfs      Rootfs
	Tmpfs       []TmpfsMount
	// Subpaths are the volume subdirectories the shim binds at their
	// staging path for the spec to bind (VolumeOptions.Subpath).
	Subpaths []SubpathMount `json:",omitempty"`
	// LogPath is the json-file log ("" for the none driver), rotated at
	// LogMaxSize bytes (0: never) keeping LogMaxFiles files.
	LogPath     string
	LogMaxSize  int64 `json:",omitempty"`
	LogMaxFiles int   `json:",omitempty"`
	ExitPath    string
	Socket      string
	// CgroupsPath is the container's cgroup below each hierarchy: the
	// shim reads there whether the kernel's OOM killer struck.
	CgroupsPath string `json:",omitempty"`
	Stdin       bool
	StdinOnce   bool
	Terminal    bool
	// Volumes are the volumes to fill with the image's content at their
	// destination before the container is created, when they are empty.
	Volumes []VolumeCopy `json:",omitempty"`
	// HeldPorts is the number of sockets the daemon passed from fd 4 on:
	// the published ports, held open while the container runs so that
	// nothing else takes them, also while no daemon runs.
	HeldPorts int `json:",omitempty"`
	// SharedBinds are the binds with shared propagation. The daemon
	// passes a clone of each source's mount tree, made in the host's
	// mount namespace, on the fds that follow the held ports, in order;
	// the shim attaches each at its Staging path for the spec to bind.
	SharedBinds []SharedBind `json:",omitempty"`
}

// SharedBind is one bind whose mounts propagate both ways between the
// host's Source and the container's Destination (shared, rshared). A
// bind made from the shim's namespace, a slave of the host's, could only
// receive; a clone of the host's mount joins its peer group instead.
type SharedBind struct {
	Destination string
	Source      string // the host path the daemon cloned
	Staging     string
	Recursive   bool // the clone holds the submounts (not NonRecursive)
}

// Rootfs is an overlay of Lower (top first); without Upper it is read-only.
type Rootfs struct {
	Lower []string
	Upper string
	Work  string
}

// TmpfsMount is one tmpfs the shim mounts at Staging and the spec binds at
// Destination, as decided at create (container.Tmpfs): nothing here is
// parsed again.
type TmpfsMount struct {
	Destination string
	Staging     string
	// Flags are the MS_* flags of the mount. MS_RDONLY is applied by the
	// bind mount in the spec, after copy-up.
	Flags uintptr
	// Data is the kernel data string, with the root's mode, uid and gid.
	Data   string
	CopyUp bool
	// Lower, when set, is the host directory of the bind or volume mount
	// mounted at LowerDestination that the tmpfs is nested in: copy-up
	// reads the content there instead of in the rootfs.
	Lower            string `json:",omitempty"`
	LowerDestination string `json:",omitempty"`
}

// SubpathMount is a path inside a volume that the shim resolves with a
// handle that cannot leave Volume (its content is written by containers:
// a symlink there resolves inside the volume) and binds at Staging.
type SubpathMount struct {
	Destination string
	Volume      string // the volume's host directory
	Subpath     string // relative to Volume
	Staging     string
}

// Exit is the recorded end of a container's process.
type Exit struct {
	Code      int    `json:"code"`
	ExitedAt  string `json:"exitedAt"` // RFC3339Nano
	OOMKilled bool   `json:"oomKilled,omitempty"`
	Error     string `json:"error,omitempty"`
}

// State is what the shim reports about its container.
type State struct {
	Pid    int    `json:"pid"`
	Status Status `json:"status"`
	Exit   *Exit  `json:"exit,omitempty"`
}

// Ready is the one message the shim sends on its ready pipe.
type Ready struct {
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}
