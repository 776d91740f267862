# shellcheck shell=bash
# Shared helpers for the benchmarks in bench/ (sourced, not run).
#
# Each benchmark works in one private temporary directory ($WORK) and starts
# its own daemons there: a berthd with its own data root, exec root and
# socket, and optionally a reference dockerd (with its own containerd) and a
# podman with its own storage. The EXIT trap stops what the script started,
# by PID, removes containers, unmounts whatever is still mounted under $WORK,
# kills processes still running from $WORK (shims the daemons left), restores
# the host settings dockerd changes, and removes $WORK. Leftover mounts or
# processes are reported and make the script fail.

export LC_ALL=C
BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BERTH_BIN=${BERTH_BIN:-$BENCH_REPO/bin}
BENCH_NAME=${BENCH_NAME:-bench}
WORK=
CLEANUP_HOOKS=()

log() { echo "$BENCH_NAME: $*" >&2; }
die() {
	echo "$BENCH_NAME: error: $*" >&2
	exit 1
}

# bench_init NAME: check the basics, make $WORK and install the cleanup trap.
bench_init() {
	BENCH_NAME=$1
	[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, overlayfs, tmpfs mounts)"
	[ "${BASH_VERSINFO[0]}" -ge 5 ] || die "needs bash 5 (EPOCHREALTIME)"
	local tool
	for tool in runc jq tar sha256sum awk; do
		command -v "$tool" >/dev/null || die "$tool is not installed (BERTH_BENCH_DEPS=1 hack/install-deps)"
	done
	WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	log "work directory $WORK"
}

# on_cleanup FUNC: run FUNC at exit (last registered runs first).
on_cleanup() { CLEANUP_HOOKS=("$1" "${CLEANUP_HOOKS[@]}"); }

# wait_gone PID SECONDS: wait for a process to end; false on timeout.
wait_gone() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# wait_daemon NAME PID SOCK LOG SECONDS CLI...: wait until `CLI... version`
# answers on SOCK; die with the end of LOG if the daemon exits or does not
# answer in SECONDS.
wait_daemon() {
	local name=$1 pid=$2 sock=$3 logf=$4 secs=$5 i
	shift 5
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || die "$name exited: $(tail -5 "$logf")"
		[ -S "$sock" ] && "$@" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "$name did not answer on $sock in $secs s: $(tail -5 "$logf")"
}

# stop_pid PID NAME: SIGTERM, then SIGKILL after 15 s; reaps our children.
stop_pid() {
	local pid=$1 name=$2
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" 15; then
			log "$name did not stop in 15 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" 5 || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

# work_mounts: mount points under $WORK, deepest first.
work_mounts() {
	awk -v w="$WORK/" 'index($5, w) == 1 { print length($5), $5 }' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2-
}

# work_pids: processes (other than this shell's) whose command line names
# $WORK: shims, containerd, conmon started by the daemons this script ran.
work_pids() {
	local p cmd
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		case $cmd in *"$WORK/"*) echo "$p" ;; esac
	done
}

# unmount_under DIR: unmount everything mounted under DIR, deepest first.
unmount_under() {
	local m
	awk -v w="$1/" 'index($5, w) == 1 { print length($5), $5 }' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2- | while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
}

bench_cleanup() {
	local rc=$? hook pids mounts leftovers=0
	set +e
	trap - EXIT INT TERM
	[ -n "$WORK" ] && [ -d "$WORK" ] || exit "$rc"
	for hook in "${CLEANUP_HOOKS[@]}"; do
		"$hook"
	done
	pids=$(work_pids)
	if [ -n "$pids" ]; then
		log "WARNING: processes left running from $WORK, killing them:"
		ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)" >&2
		kill -KILL $pids 2>/dev/null
		sleep 0.5
		leftovers=1
	fi
	mounts=$(work_mounts)
	if [ -n "$mounts" ]; then
		log "WARNING: mounts left under $WORK, unmounting them:"
		echo "$mounts" | sed 's/^/  /' >&2
		unmount_under "$WORK"
		leftovers=1
	fi
	if [ -n "$(work_mounts)" ]; then
		log "ERROR: mounts still under $WORK; not removing it"
		exit 1
	fi
	rm -rf --one-file-system "$WORK"
	if [ "$leftovers" -ne 0 ] && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	[ "$rc" -eq 0 ] && log "cleaned up: no process or mount left"
	exit "$rc"
}

# ---- berthd -------------------------------------------------------------

BERTHD_PID=
BERTH_SOCK=
BERTH=() # the berth CLI talking to the private daemon, for timed

berth() { "${BERTH[@]}" "$@"; }

BENCH_BRIDGE=berthbench0

# remove_bench_bridge: delete the benchmark berthd's bridge and the rules
# that name it (berthd keeps its default bridge, as dockerd keeps docker0).
remove_bench_bridge() {
	local table line
	ip link delete "$BENCH_BRIDGE" type bridge 2>/dev/null || true
	for table in filter nat; do
		iptables -w -t "$table" -S 2>/dev/null | grep -- "-A .* $BENCH_BRIDGE\( \|$\)" | while read -r line; do
			# shellcheck disable=SC2086
			iptables -w -t "$table" -D ${line#-A } || true
		done
	done
}

# exec_tmpfs DIR / exec_untmpfs DIR: with BENCH_EXEC_TMPFS=1, the
# daemon's exec root DIR is a tmpfs, as /run is in production (the work
# directory is on /tmp, often a disk file system, where each new inode
# costs far more CPU than on a tmpfs). Applied to berthd and dockerd alike.
exec_tmpfs() {
	[ -n "${BENCH_EXEC_TMPFS:-}" ] || return 0
	mkdir -p "$1"
	mount -t tmpfs -o size=1g,mode=0711 berth-bench-exec "$1"
}
exec_untmpfs() {
	[ -n "${BENCH_EXEC_TMPFS:-}" ] && mountpoint -q "$1" 2>/dev/null || return 0
	unmount_under "$1"
	umount "$1" || umount -l "$1"
}

# start_berthd [BERTHD FLAGS...]: a private berthd under $WORK/berth.
start_berthd() {
	local dir=$WORK/berth
	if [ ! -x "$BERTH_BIN/berthd" ] || [ ! -x "$BERTH_BIN/berth" ] || [ ! -x "$BERTH_BIN/berth-shim" ] || [ ! -x "$BERTH_BIN/berth-kube" ]; then
		log "no binaries in $BERTH_BIN; running hack/build"
		(cd "$BENCH_REPO" && hack/build) >&2
	fi
	mkdir -p "$dir/bin"
	exec_tmpfs "$dir/exec"
	# A private copy: a rebuild of bin/ during the run changes nothing here.
	cp "$BERTH_BIN/berthd" "$BERTH_BIN/berth" "$BERTH_BIN/berth-kube" "$BERTH_BIN/berth-shim" "$dir/bin/"
	# berth-seccomp (cgo) compiles seccomp profiles for crun once; without
	# it crun compiles them on every start.
	if [ -x "$BERTH_BIN/berth-seccomp" ]; then cp "$BERTH_BIN/berth-seccomp" "$dir/bin/"; else log "no $BERTH_BIN/berth-seccomp: crun compiles seccomp profiles per start"; fi
	echo '{}' >"$dir/daemon.json"
	BERTH_SOCK=$dir/berth.sock
	BERTH=("$dir/bin/berth" -H "unix://$BERTH_SOCK")
	log "starting berthd ($BERTH_BIN/berthd, $("$dir/bin/berthd" --version 2>/dev/null))"
	# Own session: a ^C on the terminal reaches this script, whose trap
	# stops the daemon in order, not the daemon directly.
	# Its own bridge and subnets: never docker0's or another berthd's.
	setsid "$dir/bin/berthd" --data-root "$dir/data" --exec-root "$dir/exec" \
		-H "unix://$BERTH_SOCK" --config-file "$dir/daemon.json" --log-level "${BERTHD_LOG_LEVEL:-debug}" \
		--bridge "$BENCH_BRIDGE" --bip 10.213.254.1/24 --default-address-pool base=10.214.254.0/24,size=26 \
		"$@" >"$dir/berthd.log" 2>&1 </dev/null &
	BERTHD_PID=$!
	on_cleanup stop_berthd
	wait_daemon berthd "$BERTHD_PID" "$BERTH_SOCK" "$dir/berthd.log" 15 berth
}

stop_berthd() {
	[ -n "$BERTHD_PID" ] || return 0
	local ids
	if kill -0 "$BERTHD_PID" 2>/dev/null; then
		ids=$(berth ps -aq 2>/dev/null)
		if [ -n "$ids" ]; then
			log "removing berth containers: $(echo $ids)"
			berth rm -f $ids >/dev/null 2>&1
		fi
	fi
	stop_pid "$BERTHD_PID" berthd
	exec_untmpfs "$WORK/berth/exec"
	remove_bench_bridge
	if [ -n "${KEEP_LOG:-}" ]; then
		cp "$WORK/berth/berthd.log" "$KEEP_LOG" && log "berthd log kept in $KEEP_LOG"
	fi
	BERTHD_PID=
}

# ---- reference dockerd ----------------------------------------------------

DOCKERD_PID=
DOCKER_SOCK=
DOCKER_CLI=${DOCKER_CLI:-docker}
IP_FORWARD_SAVED=
DOCKER0_EXISTED=
RDOCKER=() # the docker CLI talking to the private dockerd, for timed

rdocker() { "${RDOCKER[@]}" "$@"; }

# start_dockerd: a private dockerd (and its containerd) under $WORK/docker,
# without iptables rules or IP forwarding, and without a bridge unless
# DOCKERD_NET_ARGS asks for one (e.g. --bip=10.213.253.1/24: docker0 with
# veths and IPAM, still no iptables).
start_dockerd() {
	local dir=$WORK/docker
	command -v dockerd >/dev/null || die "dockerd is not installed (apt-get install docker.io)"
	command -v "$DOCKER_CLI" >/dev/null || die "docker CLI $DOCKER_CLI not found"
	mkdir -p "$dir"
	exec_tmpfs "$dir/exec"
	echo '{}' >"$dir/daemon.json"
	DOCKER_SOCK=$dir/docker.sock
	RDOCKER=("$DOCKER_CLI" -H "unix://$DOCKER_SOCK")
	IP_FORWARD_SAVED=$(cat /proc/sys/net/ipv4/ip_forward)
	DOCKER0_EXISTED=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)
	log "starting reference dockerd ($(dockerd --version))"
	setsid dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
		-H "unix://$DOCKER_SOCK" --config-file "$dir/daemon.json" --storage-driver overlay2 \
		--iptables=false --ip-forward=false --ip-masq=false ${DOCKERD_NET_ARGS:---bridge=none} --log-level warn \
		>"$dir/dockerd.log" 2>&1 </dev/null &
	DOCKERD_PID=$!
	on_cleanup stop_dockerd
	wait_daemon dockerd "$DOCKERD_PID" "$DOCKER_SOCK" "$dir/dockerd.log" 30 rdocker
}

stop_dockerd() {
	[ -n "$DOCKERD_PID" ] || return 0
	local ids
	if kill -0 "$DOCKERD_PID" 2>/dev/null; then
		ids=$(rdocker ps -aq 2>/dev/null)
		[ -z "$ids" ] || rdocker rm -f $ids >/dev/null 2>&1
	fi
	# dockerd stops the containerd it started.
	stop_pid "$DOCKERD_PID" dockerd
	exec_untmpfs "$WORK/docker/exec"
	DOCKERD_PID=
	if [ -n "$IP_FORWARD_SAVED" ] && [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$IP_FORWARD_SAVED" ]; then
		log "restoring net.ipv4.ip_forward=$IP_FORWARD_SAVED"
		echo "$IP_FORWARD_SAVED" >/proc/sys/net/ipv4/ip_forward
	fi
	if [ "$DOCKER0_EXISTED" = no ] && ip link show docker0 >/dev/null 2>&1; then
		log "deleting docker0 created by the reference dockerd"
		ip link delete docker0
	fi
}

# ---- podman ---------------------------------------------------------------

PODMAN_USED=
RPODMAN=() # podman with storage and state under $WORK/podman, for timed

rpodman() { "${RPODMAN[@]}" "$@"; }

# setup_podman RUNTIME
setup_podman() {
	local dir=$WORK/podman
	command -v podman >/dev/null || die "podman is not installed (apt-get install podman)"
	mkdir -p "$dir"
	RPODMAN=(podman --root "$dir/root" --runroot "$dir/runroot" --tmpdir "$dir/tmp"
		--storage-driver overlay --cgroup-manager cgroupfs --events-backend none --runtime "$1")
	PODMAN_USED=1
	on_cleanup stop_podman
}

stop_podman() {
	[ -n "$PODMAN_USED" ] || return 0
	rpodman rm -af >/dev/null 2>&1
	# containers/storage keeps its overlay home mounted (private bind): expected.
	unmount_under "$WORK/podman"
	PODMAN_USED=
}

# ---- bare runc ------------------------------------------------------------

RUNC_STATE=

# make_bundle IMAGE_TAR DIR: unpack the docker-save archive's layers into
# DIR/rootfs and write a runc spec for `true` with a read-only root.
make_bundle() {
	local tar=$1 dir=$2 layer
	mkdir -p "$dir/rootfs" "$WORK/unpack"
	tar -C "$WORK/unpack" -xf "$tar"
	for layer in $(jq -r '.[0].Layers[]' "$WORK/unpack/manifest.json"); do
		tar -C "$dir/rootfs" -xf "$WORK/unpack/$layer"
	done
	rm -rf "$WORK/unpack"
	(cd "$dir" && runc spec)
	jq '.process.terminal = false | .process.args = ["true"] | .root.readonly = true
		| .process.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# bundle_add_tmpfs DIR PATH OPTIONS...: add a tmpfs mount to DIR's spec.
bundle_add_tmpfs() {
	local dir=$1 dest=$2
	shift 2
	jq --arg d "$dest" --args '.mounts += [{destination: $d, type: "tmpfs", source: "tmpfs", options: $ARGS.positional}]' \
		"$@" <"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}


setup_runc() {
	RUNC_STATE=$WORK/oci-state
	mkdir -p "$RUNC_STATE"
	on_cleanup stop_runc
}

stop_runc() {
	[ -n "$RUNC_STATE" ] || return 0
	local rt id
	for rt in runc crun; do
		[ -d "$RUNC_STATE/$rt" ] || continue
		for id in $("$rt" --root "$RUNC_STATE/$rt" list -q 2>/dev/null); do
			log "deleting leftover $rt container $id"
			"$rt" --root "$RUNC_STATE/$rt" delete -f "$id" >/dev/null 2>&1
		done
	done
	RUNC_STATE=
}

# ---- timing and statistics ------------------------------------------------

# quiet CMD...: run CMD, showing its output only when it fails.
quiet() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || die "'$*' failed (exit $rc): $out"
}

# now_us: wall clock in microseconds, without a fork.
now_us() { echo "${EPOCHREALTIME/./}"; }

# timed FILE CMD...: run the command CMD once with no stdin and its output
# kept in $WORK/last.out; append its wall time in microseconds to FILE. Dies
# with the output when CMD fails (an exit status of $TIMED_STATUS, when
# set, counts as success: a program timed for its start alone that ends
# with a usage error). Every command runs under timeout(1) (same
# small cost for every engine), so a hung client cannot hang the benchmark:
# SIGTERM after $RUN_TIMEOUT s, SIGKILL 5 s later (berth run and docker run
# forward SIGTERM to the container and would ignore it).
timed() {
	local file=$1 t0 t1 rc=0
	shift
	t0=${EPOCHREALTIME/./}
	timeout -k 5 "${RUN_TIMEOUT:-120}" "$@" </dev/null >"$WORK/last.out" 2>&1 || rc=$?
	t1=${EPOCHREALTIME/./}
	if [ "$rc" -ne 0 ] && [ "$rc" != "${TIMED_STATUS:-0}" ]; then
		die "'$*' failed (exit $rc): $(tail -5 "$WORK/last.out")"
	fi
	echo $((t1 - t0)) >>"$file"
}

# stats FILE: "median p10 p90 min n" of FILE's microseconds, in ms.
stats() {
	sort -n "$1" | awk '{ a[NR] = $1 }
		END {
			n = NR
			if (n == 0) { print "nan nan nan nan 0"; exit }
			med = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			printf "%.1f %.1f %.1f %.1f %d\n", med / 1000, a[int(0.1 * (n - 1) + 0.5) + 1] / 1000,
				a[int(0.9 * (n - 1) + 0.5) + 1] / 1000, a[1] / 1000, n
		}'
}

# median FILE: the median of FILE's microseconds, in ms.
median() { stats "$1" | cut -d' ' -f1; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f\n", a / b }'; }

# host_info: one line about the machine and its load.
host_info() {
	echo "host: $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); runc $(runc --version | awk 'NR==1{print $3}'); $(cold_cgroup_move)"
}

# cold_cgroup_move: the median time of a no-op move of this shell into its
# own cgroup after 0.2 s without any (three tries). Every container start
# makes such moves, and on this kind of host the first after a quiet
# moment waits for an RCU grace period (about 10 ms) under the kernel's
# global cgroup lock, unless the host runs with a per-threadgroup lock
# (cgroup2 mount option favordynmods, Linux 6.18 and later: once turned
# on, it stays on until reboot, even after a remount without it). The
# numbers of two runs compare only when this is the same.
cold_cgroup_move() {
	local unified rel procs t0 t1 i times=()
	unified=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	rel=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
	procs=$unified$rel/cgroup.procs
	if [ -z "$unified" ] || [ ! -w "$procs" ]; then
		echo "cold cgroup move: not measured (no cgroup2 hierarchy)"
		return
	fi
	for i in 1 2 3; do
		sleep 0.2
		t0=${EPOCHREALTIME/./}
		echo "$BASHPID" >"$procs"
		t1=${EPOCHREALTIME/./}
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk 'NR == 2 { printf "cold cgroup move: %.2f ms\n", $1 / 1000 }'
}

# results_file NAME: bench/results/NAME-DATE.txt (made on demand).
results_file() {
	local dir=${RESULTS_DIR:-$BENCH_REPO/bench/results}
	mkdir -p "$dir"
	echo "$dir/$1-$(date +%Y%m%d-%H%M%S).txt"
}
