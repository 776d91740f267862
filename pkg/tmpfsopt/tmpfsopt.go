// Package tmpfsopt parses, validates and merges tmpfs mount options as
// users write them (`--tmpfs /run:rw,size=64m,uid=1000`), and turns a
// validated set into the flags and data string that mount(2) takes.
//
// Parsing is pure: it never looks at the running kernel or at an image.
// Options that only newer kernels know (huge=, noswap, inode64, inode32) are
// listed by [Options.RequiresKernel] and checked by the caller with
// [KernelSupports]; user and group names are resolved by the caller with
// [Options.ResolveIDs].
package tmpfsopt

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// DefaultFlags are the flags Docker puts in front of every tmpfs mount's
// options; the user's options override them per flag.
var DefaultFlags = []string{"noexec", "nosuid", "nodev", "rprivate"}

// Options is a validated, merged tmpfs option set.
type Options struct {
	// Flags holds the mount flag words (ro/rw, exec/noexec, ..., and at most one
	// propagation mode) after merging, in the order they were given.
	Flags []string
	// Size is the size as given ("64m", "50%", "1048576"); "" means none.
	Size string
	// SizeBytes is Size in bytes when it is absolute (0 for a percentage or none).
	SizeBytes int64
	// SizePercent is Size in percent of RAM when given as "N%".
	SizePercent int
	// Mode is the permission bits of the tmpfs root (0 to 07777), nil if unset.
	Mode *uint32
	// UID and GID are the owner of the tmpfs root as given: a number or a name.
	// Names must be resolved with ResolveIDs before the options reach mount(2).
	UID, GID string
	// NrInodes and NrBlocks are the raw values (a number with an optional
	// k, m, g or t suffix). Size and NrBlocks set the same limit, so at most
	// one of them is set: the last one given, as the kernel reads them.
	NrInodes, NrBlocks string
	// Mpol is the NUMA memory policy, e.g. "bind:0-3,5" or "interleave".
	Mpol string
	// Huge is the transparent huge page policy: always, never, within_size, advise.
	Huge string
	// Noswap disables swap for the mount (kernel 6.4+).
	Noswap bool
	// Inode64 and Inode32 select the inode number width (kernel 5.9+); at most
	// one of them is set.
	Inode64, Inode32 bool
	// CopyUp is true for tmpcopyup, false for notmpcopyup and nil when the user
	// said neither.
	CopyUp *bool
}

// flagWord describes one mount flag word.
type flagWord struct {
	bit   uintptr // MS_* bit set (or cleared) by the word
	clear bool    // the word clears bit instead of setting it
	prop  bool    // a propagation mode; bit is the MS_* propagation type
}

// flagWordList lists the mount flag words accepted in a tmpfs option
// string, in the order BindOptions writes them: the one list of Berth's
// flag, read-only and propagation words. Words that share a bit override
// each other, as do all propagation modes. "bind", "rbind" and "remount"
// are refused: they make no sense for a tmpfs.
var flagWordList = []struct {
	name string
	flagWord
}{
	{"ro", flagWord{bit: unix.MS_RDONLY}},
	{"rw", flagWord{bit: unix.MS_RDONLY, clear: true}},
	{"suid", flagWord{bit: unix.MS_NOSUID, clear: true}},
	{"nosuid", flagWord{bit: unix.MS_NOSUID}},
	{"dev", flagWord{bit: unix.MS_NODEV, clear: true}},
	{"nodev", flagWord{bit: unix.MS_NODEV}},
	{"exec", flagWord{bit: unix.MS_NOEXEC, clear: true}},
	{"noexec", flagWord{bit: unix.MS_NOEXEC}},
	{"sync", flagWord{bit: unix.MS_SYNCHRONOUS}},
	{"async", flagWord{bit: unix.MS_SYNCHRONOUS, clear: true}},
	{"dirsync", flagWord{bit: unix.MS_DIRSYNC}},
	{"mand", flagWord{bit: unix.MS_MANDLOCK}},
	{"nomand", flagWord{bit: unix.MS_MANDLOCK, clear: true}},
	{"atime", flagWord{bit: unix.MS_NOATIME, clear: true}},
	{"noatime", flagWord{bit: unix.MS_NOATIME}},
	{"diratime", flagWord{bit: unix.MS_NODIRATIME, clear: true}},
	{"nodiratime", flagWord{bit: unix.MS_NODIRATIME}},
	{"relatime", flagWord{bit: unix.MS_RELATIME}},
	{"norelatime", flagWord{bit: unix.MS_RELATIME, clear: true}},
	{"strictatime", flagWord{bit: unix.MS_STRICTATIME}},
	{"nostrictatime", flagWord{bit: unix.MS_STRICTATIME, clear: true}},
	{"private", flagWord{bit: unix.MS_PRIVATE, prop: true}},
	{"rprivate", flagWord{bit: unix.MS_PRIVATE | unix.MS_REC, prop: true}},
	{"shared", flagWord{bit: unix.MS_SHARED, prop: true}},
	{"rshared", flagWord{bit: unix.MS_SHARED | unix.MS_REC, prop: true}},
	{"slave", flagWord{bit: unix.MS_SLAVE, prop: true}},
	{"rslave", flagWord{bit: unix.MS_SLAVE | unix.MS_REC, prop: true}},
	{"unbindable", flagWord{bit: unix.MS_UNBINDABLE, prop: true}},
	{"runbindable", flagWord{bit: unix.MS_UNBINDABLE | unix.MS_REC, prop: true}},
}

// flagWords indexes flagWordList by word.
var flagWords = func() map[string]flagWord {
	m := make(map[string]flagWord, len(flagWordList))
	for _, w := range flagWordList {
		m[w.name] = w.flagWord
	}
	return m
}()

// DefaultPropagation is the propagation of a mount whose options name none.
const DefaultPropagation uintptr = unix.MS_PRIVATE | unix.MS_REC

// IsReadOnlyWord reports whether word is "ro" or "rw".
func IsReadOnlyWord(word string) bool {
	w, ok := flagWords[word]
	return ok && !w.prop && w.bit == unix.MS_RDONLY
}

// IsPropagationWord reports whether word is a mount propagation mode
// (private, rprivate, shared, rshared, slave, rslave, unbindable,
// runbindable).
func IsPropagationWord(word string) bool {
	return flagWords[word].prop
}

// BindOptions returns the OCI bind mount options that give a bind of a
// prepared tmpfs the mount flags and propagation computed by
// [Options.MountFlags]: "rbind", the words of the flags set, "ro" or "rw",
// and the propagation mode (rprivate when propagation is 0).
func BindOptions(flags, propagation uintptr) []string {
	opts := []string{"rbind"}
	prop := "rprivate"
	for _, w := range flagWordList {
		switch {
		case w.prop:
			if w.bit == propagation {
				prop = w.name
			}
		case w.bit == unix.MS_RDONLY:
		case !w.clear && flags&w.bit == w.bit:
			opts = append(opts, w.name)
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		opts = append(opts, "ro")
	} else {
		opts = append(opts, "rw")
	}
	return append(opts, prop)
}

// kernelOptions are the options that only newer kernels accept, in the order
// RequiresKernel reports them.
var kernelOptions = []string{"huge", "noswap", "inode64", "inode32"}

var (
	// idName is what a user or group name may look like (as useradd accepts).
	idName = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$`)
	// mpolValue is MODE[=static|relative][:NODELIST] (see tmpfs(5)).
	mpolValue = regexp.MustCompile(`^(default|prefer|bind|interleave|weighted-interleave|local)(=(static|relative))?(:([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*))?$`)
)

// hugeValues are the values the kernel accepts for huge= on a tmpfs mount.
// ("deny" and "force" exist only for the shm_enabled sysfs knob; the kernel
// refuses them as mount options.)
var hugeValues = []string{"never", "always", "within_size", "advise"}

func invalid(item, reason string) error {
	msg := fmt.Sprintf("invalid tmpfs option %q", item)
	if reason != "" {
		msg += ": " + reason
	}
	return errdefs.ErrInvalidArgument.WithMessage(msg)
}

// Parse parses one user option string, a comma-separated list such as
// "rw,exec,size=64m,uid=1000", validating every item. Later options override
// earlier ones. An empty string yields the zero Options. Errors are
// errdefs.ErrInvalidArgument and quote the offending item.
//
// As in the kernel, a comma followed by a digit continues an mpol= node list
// ("mpol=bind:0,2").
func Parse(s string) (Options, error) {
	if s == "" {
		return Options{}, nil
	}
	var items []string
	for _, piece := range strings.Split(s, ",") {
		if n := len(items); n > 0 && strings.HasPrefix(items[n-1], "mpol=") &&
			piece != "" && piece[0] >= '0' && piece[0] <= '9' {
			items[n-1] += "," + piece
			continue
		}
		items = append(items, piece)
	}
	return ParseList(items)
}

// ParseList is Parse for a list that is already split into "key=value"
// items.
func ParseList(items []string) (Options, error) {
	list := make([]Item, len(items))
	for i, item := range items {
		key, value, hasValue := strings.Cut(item, "=")
		list[i] = Item{Key: key, Value: value, HasValue: hasValue}
	}
	return ParseItems(list)
}

// Item is one option: a flag word (Key alone) or a data option (Key with
// Value), such as an entry of the API's Mounts[].TmpfsOptions.Options.
type Item struct {
	Key, Value string
	HasValue   bool
}

// String is the item as a user writes it, for messages.
func (it Item) String() string {
	if it.HasValue {
		return it.Key + "=" + it.Value
	}
	return it.Key
}

// ParseItems is Parse for options that arrive as items.
func ParseItems(items []Item) (Options, error) {
	var (
		o       Options
		words   []string
		copyUps int
	)
	for _, it := range items {
		item, key, value, hasValue := it.String(), it.Key, it.Value, it.HasValue
		if item == "" {
			return Options{}, invalid("", "empty option")
		}
		if item == "defaults" {
			continue // accepted and dropped, as Docker does
		}
		if _, ok := flagWords[key]; ok {
			if hasValue {
				return Options{}, invalid(item, "option takes no value")
			}
			words = append(words, key)
			continue
		}
		switch key {
		case "noswap", "inode64", "inode32", "tmpcopyup", "notmpcopyup":
			if hasValue {
				return Options{}, invalid(item, "option takes no value")
			}
		case "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol", "huge":
			if !hasValue || value == "" {
				return Options{}, invalid(item, "missing value")
			}
		default:
			return Options{}, invalid(item, "unknown option")
		}
		if err := o.set(item, key, value); err != nil {
			return Options{}, err
		}
		if key == "tmpcopyup" || key == "notmpcopyup" {
			if copyUps++; copyUps > 1 {
				return Options{}, errdefs.ErrInvalidArgument.WithMessage(
					"invalid tmpfs option " + strconv.Quote(item) +
						": the 'tmpcopyup' or 'notmpcopyup' option can only be set once")
			}
		}
	}
	o.Flags = mergeFlags(words)
	return o, nil
}

// HasSize reports whether the options set a size limit (size= or
// nr_blocks=).
func (o Options) HasSize() bool {
	return o.Size != "" || o.NrBlocks != ""
}

// SetSizeBytes sets the size limit to n bytes, replacing size= or
// nr_blocks=; n must not be negative (0 is unlimited to the kernel).
func (o *Options) SetSizeBytes(n int64) {
	o.Size, o.SizeBytes, o.SizePercent, o.NrBlocks = strconv.FormatInt(n, 10), n, 0, ""
}

// SizeOption is the option that sets the size limit as the user wrote it
// ("size=64m", "nr_blocks=100"), or "" when there is none.
func (o Options) SizeOption() string {
	switch {
	case o.NrBlocks != "":
		return "nr_blocks=" + o.NrBlocks
	case o.Size != "":
		return "size=" + o.Size
	}
	return ""
}

// Limit is the size limit a tmpfs gets from its options.
type Limit struct {
	// Unlimited: no size limit at all (none given, size=0 or nr_blocks=0).
	Unlimited bool
	// Percent is the limit in percent of RAM (size=N%), 0 otherwise.
	Percent int
	// Bytes is the absolute limit (math.MaxInt64 when larger).
	Bytes int64
}

// Limit returns the size limit the kernel will apply for o: the last of
// size= and nr_blocks= (nr_blocks counts pages of pageSize bytes), where 0
// means unlimited, as does no size at all.
func (o Options) Limit(pageSize int64) Limit {
	switch {
	case o.NrBlocks != "":
		n, _, _ := parseSize(o.NrBlocks, false)
		if n == 0 {
			return Limit{Unlimited: true}
		}
		if pageSize <= 0 || n > math.MaxInt64/pageSize {
			return Limit{Bytes: math.MaxInt64}
		}
		return Limit{Bytes: n * pageSize}
	case o.SizePercent > 0:
		return Limit{Percent: o.SizePercent}
	case o.Size != "" && o.SizeBytes > 0:
		return Limit{Bytes: o.SizeBytes}
	}
	return Limit{Unlimited: true}
}

// set validates one data or Berth option and stores it in o.
func (o *Options) set(item, key, value string) error {
	switch key {
	case "size":
		b, p, reason := parseSize(value, true)
		if reason != "" {
			return invalid(item, "invalid size: "+reason)
		}
		// size= and nr_blocks= set the same limit: the kernel keeps the last.
		o.Size, o.SizeBytes, o.SizePercent, o.NrBlocks = value, b, p, ""
	case "mode":
		m, err := strconv.ParseUint(value, 8, 32)
		if err != nil || m > 0o7777 {
			return invalid(item, "invalid mode: want octal digits from 0 to 7777")
		}
		mode := uint32(m)
		o.Mode = &mode
	case "uid", "gid":
		if !validID(value) {
			return invalid(item, "invalid "+key+": want a number or a name")
		}
		if key == "uid" {
			o.UID = value
		} else {
			o.GID = value
		}
	case "nr_inodes", "nr_blocks":
		if _, _, reason := parseSize(value, false); reason != "" {
			return invalid(item, "invalid "+key+": "+reason)
		}
		if key == "nr_inodes" {
			o.NrInodes = value
		} else {
			o.NrBlocks = value
			o.Size, o.SizeBytes, o.SizePercent = "", 0, 0
		}
	case "mpol":
		if !validMpol(value) {
			return invalid(item, "invalid mpol: want default, prefer:NODE, bind:NODELIST, interleave[:NODELIST] or local")
		}
		o.Mpol = value
	case "huge":
		if !slices.Contains(hugeValues, value) {
			return invalid(item, "invalid huge: want "+strings.Join(hugeValues, ", "))
		}
		o.Huge = value
	case "noswap":
		o.Noswap = true
	case "inode64":
		o.Inode64, o.Inode32 = true, false
	case "inode32":
		o.Inode64, o.Inode32 = false, true
	case "tmpcopyup", "notmpcopyup":
		v := key == "tmpcopyup"
		o.CopyUp = &v
	}
	return nil
}

// validID reports whether s is a valid uid/gid number or a user/group name.
func validID(s string) bool {
	if s[0] >= '0' && s[0] <= '9' {
		// The kernel reads "010" as octal; refuse leading zeros rather than
		// guess. 4294967295 is (uid_t)-1, which is never a valid id.
		n, err := strconv.ParseUint(s, 10, 32)
		return err == nil && n != 1<<32-1 && (s == "0" || s[0] != '0')
	}
	return idName.MatchString(s)
}

// validMpol checks an mpol= value loosely: the kernel has the final word.
func validMpol(s string) bool {
	m := mpolValue.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	hasList := m[4] != ""
	switch m[1] {
	case "default", "local":
		return !hasList && m[2] == ""
	case "bind":
		return hasList
	}
	return true
}

// mergeFlags keeps the last of every group of words that set or clear the
// same flag (and the last propagation mode), preserving the order of the
// survivors, as moby/sys/mount.MergeTmpfsOptions does.
func mergeFlags(words []string) []string {
	seen := map[uintptr]bool{}
	var kept []string
	for i := len(words) - 1; i >= 0; i-- {
		w := flagWords[words[i]]
		key := w.bit
		if w.prop {
			key = 0 // one propagation mode survives
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		kept = append(kept, words[i])
	}
	slices.Reverse(kept)
	return kept
}

// Merge returns user merged over defaults: flags last-wins per flag pair (so
// "exec" removes a default "noexec", and one propagation mode survives), and
// every data option the user did not set is taken from defaults.
//
// defaults is program configuration such as DefaultFlags; Merge panics if it
// does not parse (validate configurable defaults with ParseList first).
func Merge(defaults []string, user Options) Options {
	base, err := ParseList(defaults)
	if err != nil {
		panic("tmpfsopt: invalid default options: " + err.Error())
	}
	out := user
	out.Flags = mergeFlags(append(slices.Clone(base.Flags), user.Flags...))
	if !out.HasSize() {
		out.Size, out.SizeBytes, out.SizePercent = base.Size, base.SizeBytes, base.SizePercent
		out.NrBlocks = base.NrBlocks
	}
	if out.Mode == nil {
		out.Mode = base.Mode
	}
	if out.Mode != nil {
		m := *out.Mode // never share the pointer with the inputs
		out.Mode = &m
	}
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&out.UID, base.UID)
	fill(&out.GID, base.GID)
	fill(&out.NrInodes, base.NrInodes)
	fill(&out.Mpol, base.Mpol)
	fill(&out.Huge, base.Huge)
	out.Noswap = out.Noswap || base.Noswap
	if !out.Inode64 && !out.Inode32 {
		out.Inode64, out.Inode32 = base.Inode64, base.Inode32
	}
	if out.CopyUp == nil && base.CopyUp != nil {
		v := *base.CopyUp
		out.CopyUp = &v
	}
	return out
}

// dataItems returns the kernel data options in a stable order.
func (o Options) dataItems() []string {
	var items []string
	add := func(key, value string) {
		if value != "" {
			items = append(items, key+"="+value)
		}
	}
	add("size", o.Size)
	if o.Mode != nil {
		add("mode", strconv.FormatUint(uint64(*o.Mode), 8))
	}
	add("uid", o.UID)
	add("gid", o.GID)
	add("nr_inodes", o.NrInodes)
	add("nr_blocks", o.NrBlocks)
	add("mpol", o.Mpol)
	add("huge", o.Huge)
	if o.Noswap {
		items = append(items, "noswap")
	}
	if o.Inode64 {
		items = append(items, "inode64")
	}
	if o.Inode32 {
		items = append(items, "inode32")
	}
	return items
}

// Data returns the data string for mount(2), e.g. "size=64m,mode=1777,uid=0".
// UID and GID are passed as they are: resolve names with ResolveIDs first.
func (o Options) Data() string {
	return strings.Join(o.dataItems(), ",")
}

// String returns the canonical option string: flags, data options, then
// tmpcopyup or notmpcopyup. Parse(o.String()) yields o again.
func (o Options) String() string {
	items := append(slices.Clone(o.Flags), o.dataItems()...)
	if o.CopyUp != nil {
		if *o.CopyUp {
			items = append(items, "tmpcopyup")
		} else {
			items = append(items, "notmpcopyup")
		}
	}
	return strings.Join(items, ",")
}

// MountFlags returns the MS_* flags for mount(2) and, separately, the
// propagation type to apply afterwards (0 if none was given), e.g.
// MS_PRIVATE|MS_REC for rprivate.
func (o Options) MountFlags() (flags uintptr, propagation uintptr) {
	for _, word := range o.Flags {
		w := flagWords[word]
		switch {
		case w.prop:
			propagation = w.bit
		case w.clear:
			flags &^= w.bit
		default:
			flags |= w.bit
		}
	}
	return flags, propagation
}

// ReadOnly reports whether the options make the mount read-only.
func (o Options) ReadOnly() bool {
	flags, _ := o.MountFlags()
	return flags&unix.MS_RDONLY != 0
}

// RequiresKernel lists the options in o that only newer kernels accept
// ("huge", "noswap", "inode64", "inode32"); check each with KernelSupports.
func (o Options) RequiresKernel() []string {
	var used []string
	for _, name := range kernelOptions {
		var set bool
		switch name {
		case "huge":
			set = o.Huge != ""
		case "noswap":
			set = o.Noswap
		case "inode64":
			set = o.Inode64
		case "inode32":
			set = o.Inode32
		}
		if set {
			used = append(used, name)
		}
	}
	return used
}

// ResolveIDs returns o with a UID or GID given as a name replaced by its
// number, looked up with lookupUser or lookupGroup (typically in the
// container image's /etc/passwd and /etc/group). Numeric values are kept.
// A failed lookup is an errdefs.ErrInvalidArgument that quotes the option.
func (o Options) ResolveIDs(lookupUser, lookupGroup func(name string) (int, error)) (Options, error) {
	resolve := func(key, value string, lookup func(string) (int, error)) (string, error) {
		if value == "" || value[0] >= '0' && value[0] <= '9' {
			return value, nil
		}
		id, err := lookup(value)
		if err != nil {
			return "", invalid(key+"="+value, err.Error())
		}
		if id < 0 || id >= 1<<32-1 {
			return "", invalid(key+"="+value, fmt.Sprintf("%s resolves to invalid id %d", value, id))
		}
		return strconv.Itoa(id), nil
	}
	var err error
	if o.UID, err = resolve("uid", o.UID, lookupUser); err != nil {
		return Options{}, err
	}
	if o.GID, err = resolve("gid", o.GID, lookupGroup); err != nil {
		return Options{}, err
	}
	return o, nil
}
