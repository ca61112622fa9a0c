#!/bin/bash
# whittle-run against real containers: life cycle and state machine, every
# config.json feature, hostile configs (error names the field, nothing left
# behind), and 200 create/start/delete cycles without leaks. The rootfs is a
# static busybox and its applet links, made with mkdir/ln in a temp dir.
# The runtime tests use neither whittle nor mkfixture.
export WH_NO_WHITTLE=1
MKFIXTURE=/bin/true
. "$(dirname "$0")/lib.sh"

need_root
need busybox jq python3
RUN=${WHITTLE_RUN:-$WH_BUILD/whittle-run}
[ -x "$RUN" ] || bail "$RUN is missing: run make first"
file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
	skip_all "busybox is not static (install busybox-static)"

# State on a tmpfs, private to this run.
ROOT=$(mktemp -d /run/whittle-t70.XXXXXX)
at_exit "rm -rf '$ROOT'"
at_exit "for c in \$('$RUN' --root '$ROOT' list -q); do '$RUN' --root '$ROOT' delete -f \$c; done"
wr() { "$RUN" --root "$ROOT" "$@"; }

mkbundle() {
	local b=$1 a
	mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" \
		"$b/rootfs/etc" "$b/rootfs/tmp" "$b/rootfs/data"
	cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
	for a in $(busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$b/rootfs/bin/$a"
	done
	chmod 1777 "$b/rootfs/tmp"
	"$RUN" spec --bundle "$b" || bail "spec failed"
	cfg "$b" '.process.terminal = false | .process.args = ["true"]'
}

# cfg BUNDLE JQ-FILTER [jq args...]: edits config.json in place.
cfg() {
	local b=$1 f=$2
	shift 2
	jq "$@" "$f" "$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# out BUNDLE ID CMD: runs sh -c CMD in a fresh container, prints its output.
out() {
	local b=$1 id=$2
	cfg "$b" '.process.args = ["sh", "-c", $c]' --arg c "$3"
	wr run --bundle "$b" "$id" 2>&1
}

# Mounts of ours that could leak onto the host: under the test's dirs.
mounts_count() { grep -c -e "$WH_TMP" -e "$ROOT" -e ' /tmp/wh-escape' /proc/self/mountinfo; }
cgroup_dirs() { find /sys/fs/cgroup -maxdepth 4 -type d -path '*/whittle/*' 2>/dev/null | sort; }

# Mapped users in a user namespace must be able to reach the bundles.
chmod 755 "$WH_TMP"
B=$WH_TMP/bundle
mkbundle "$B"
base=$(cat "$B/config.json")
reset() { printf '%s\n' "$base" >"$B/config.json"; }

# --- command line --------------------------------------------------------
v=$("$RUN" --version)
like "$v" '^whittle-run version [0-9.]+' "--version: first line like runc's"
like "$v" $'\nspec: 1\\.' "--version: spec line"
ok "features prints JSON with ociVersionMax" sh -c "'$RUN' features | jq -e .ociVersionMax"
e=$("$RUN" spec --bundle "$B" 2>&1)
like "$e" 'exists' "spec refuses to overwrite config.json"
ok "spec output is valid JSON" jq -e '.ociVersion and .root.path' "$B/config.json"

# --- run: exit codes ------------------------------------------------------
reset
ok "run /bin/true" wr run --bundle "$B" t-true
cfg "$B" '.process.args = ["sh", "-c", "exit 7"]'
wr run --bundle "$B" t-exit >/dev/null 2>&1
is "$?" 7 "run exits with the container's status"
cfg "$B" '.process.args = ["sleep", "30"]'
wr run --bundle "$B" t-sig >/dev/null 2>&1 &
runpid=$!
for _ in $(seq 100); do [ "$(wr state t-sig 2>/dev/null | jq -r .status)" = running ] && break; sleep 0.05; done
wr kill t-sig KILL
wait $runpid
is "$?" 137 "run: killed by SIGKILL is 137"
cfg "$B" '.process.args = ["/nonexistent"]'
e=$(wr run --bundle "$B" t-noexec 2>&1)
like "$e" 'nonexistent' "run: a missing executable is reported"
is "$(ls "$ROOT")" "" "run leaves no state behind"

# --- life cycle -----------------------------------------------------------
reset
cfg "$B" '.process.args = ["sleep", "60"]'
ok "create" wr create --bundle "$B" --pid-file "$WH_TMP/pid" life
st=$(wr state life)
is "$(jq -r .status <<<"$st")" created "state after create: created"
is "$(jq -r .pid <<<"$st")" "$(cat "$WH_TMP/pid")" "pid file matches the state's pid"
like "$(jq -r .created <<<"$st")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$' \
	"created is RFC 3339 with nanoseconds"
is "$(jq -r .bundle <<<"$st")" "$B" "state names the bundle"
unlike "$(tr '\0' ' ' </proc/"$(cat "$WH_TMP/pid")"/cmdline)" 'sleep' \
	"before start the init has not exec'd the workload"
e=$(wr create --bundle "$B" life 2>&1)
like "$e" 'container with given ID already exists' "duplicate id is refused"
like "$(wr list)" 'life +[0-9]+ +created' "list shows the created container"
is "$(wr list --format json | jq -r '.[0].id')" life "list --format json"
ok "start" wr start life
is "$(wr state life | jq -r .status)" running "state after start: running"
is "$(tr '\0' ' ' </proc/"$(cat "$WH_TMP/pid")"/cmdline)" "sleep 60 " "the workload runs after start"
e=$(wr start life 2>&1)
like "$e" 'already running' "start of a running container fails"
e=$(wr delete life 2>&1)
like "$e" 'container still running' "delete of a running container without --force fails"
is "$(wr ps --format json life)" "[$(cat "$WH_TMP/pid")]" "ps --format json lists the init"
ok "kill with a signal name" wr kill life SIGKILL
for _ in $(seq 50); do [ "$(wr state life | jq -r .status)" = stopped ] && break; sleep 0.05; done
is "$(wr state life | jq -r .status)" stopped "state after kill: stopped"
is "$(wr state life | jq -r .pid)" 0 "a stopped container reports pid 0"
e=$(wr kill life KILL 2>&1)
like "$e" 'container not running' "kill of a stopped container: runc's phrase"
ok "kill --all of a stopped container is fine" wr kill --all life 9
ok "delete" wr delete life
e=$(wr state life 2>&1)
like "$e" 'container does not exist' "state after delete: does not exist"
ok "delete --force of an unknown id succeeds" wr delete --force life
e=$(wr kill nosuch 2>&1)
like "$e" 'container does not exist' "kill of an unknown id"
ok "create then delete without start" sh -c "'$RUN' --root '$ROOT' create --bundle '$B' cd1 && '$RUN' --root '$ROOT' delete cd1"
is "$(ls "$ROOT")" "" "nothing left in the state root"

# --- namespaces and identity --------------------------------------------
reset
o=$(out "$B" ns 'echo pid=$$; hostname; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "')
like "$o" 'pid=1' "pid namespace: the workload is pid 1"
like "$o" $'\nwhittle\n' "uts namespace: hostname from config.json"
is "$(printf '%s\n' "$o" | tail -n +3)" lo "network namespace: only lo"
# The runtime makes the network namespace on another CPU while the init
# mounts; sysfs must still be mounted from inside it.
is "$(out "$B" sysnet 'ls /sys/class/net')" lo "sysfs shows the container's network devices"
# lo is up, as runc and crun leave it (IFF_UP is bit 0 of the flags), whether
# the namespace was made ahead by the runtime's thread or by clone on one CPU.
lo_up='echo $(($(cat /sys/class/net/lo/flags) & 1))'
is "$(out "$B" lo-up "$lo_up")" 1 "the loopback interface is up"
is "$(taskset -c 0 "$RUN" --root "$ROOT" run --bundle "$B" lo-up1 2>&1)" 1 \
	"the loopback interface is up (namespace made by clone)"
for n in mnt ipc uts net pid cgroup; do
	c=$(out "$B" ns-$n "readlink /proc/self/ns/$n")
	isnt "$c" "$(readlink /proc/self/ns/$n)" "$n namespace differs from the host's"
done
cfg "$B" '.domainname = "example.org"'
is "$(out "$B" dom 'cat /proc/sys/kernel/domainname')" example.org "domainname"
reset
sleep 60 &
holder=$!
at_exit "kill $holder"
cfg "$B" '.linux.namespaces |= map(select(.type != "network")) + [{"type": "network", "path": $p}]' \
	--arg p "/proc/$holder/ns/net"
is "$(out "$B" joinnet 'readlink /proc/self/ns/net')" "$(readlink /proc/$holder/ns/net)" "join a namespace by path"

# --- mounts ---------------------------------------------------------------
reset
mkdir -p "$WH_TMP/vol" && echo from-host >"$WH_TMP/vol/f"
echo file-bind >"$WH_TMP/single"
cfg "$B" '.mounts += [
  {"destination": "/data/ro", "type": "bind", "source": $v, "options": ["rbind", "ro"]},
  {"destination": "/data/rw", "type": "bind", "source": $v, "options": ["bind"]},
  {"destination": "/etc/single", "type": "bind", "source": $s, "options": ["bind", "ro"]},
  {"destination": "/data/t", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "noexec"]}]' \
	--arg v "$WH_TMP/vol" --arg s "$WH_TMP/single"
o=$(out "$B" mnt 'cat /data/ro/f; echo x > /data/ro/g && echo ro-writable; echo y > /data/rw/g; cat /etc/single; grep " /data/t " /proc/self/mountinfo; touch /newfile && echo root-writable; stat -c "%t,%T %F" /dev/null; readlink /dev/fd; ls /dev/pts/ptmx')
like "$o" 'from-host' "bind mount shows the host directory"
unlike "$o" 'ro-writable' "a ro bind mount is read-only"
is "$(cat "$WH_TMP/vol/g" 2>/dev/null)" y "a rw bind mount writes through"
like "$o" 'file-bind' "bind mount of a single file"
like "$o" '/data/t .*noexec.* - tmpfs .*size=1024k,mode=700' "tmpfs with options"
unlike "$o" 'root-writable' "root.readonly makes / read-only"
like "$o" '1,3 character special file' "/dev/null is the real device"
like "$o" '/proc/self/fd' "/dev/fd links to /proc/self/fd"
like "$o" '/dev/pts/ptmx' "devpts mounted with a ptmx"
[ ! -e "$B/rootfs/newfile" ] && pass "nothing written to the read-only rootfs" || fail "rootfs written"
o=$(out "$B" mask 'wc -c < /proc/kcore; echo 1 > /proc/sys/kernel/domainname && echo sys-writable; ls /sys/firmware | wc -l')
like "$o" '^0' "maskedPaths: /proc/kcore reads empty"
unlike "$o" 'sys-writable' "readonlyPaths: /proc/sys is read-only"
reset
cfg "$B" '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 7, "gid": 8}]'
is "$(out "$B" dev 'stat -c "%t,%T %a %u %g" /dev/mynull')" "1,3 660 7 8" "linux.devices: node, mode and owner"
reset
cfg "$B" '.linux.rootfsPropagation = "rprivate"'
ok "rootfsPropagation rprivate" wr run --bundle "$B" prop
reset
ok "--no-pivot" wr run --no-pivot --bundle "$B" nopivot

# --- process settings -----------------------------------------------------
reset
cfg "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}'
is "$(out "$B" sysctl 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni' | tr '\n' ' ')" "1 1234 " \
	"sysctl in the container's namespaces"
is "$(cat /proc/sys/kernel/shmmni)" "$(cat /proc/sys/kernel/shmmni)" "host sysctl unchanged"
reset
cfg "$B" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 6], "umask": 63} | .root.readonly = false'
is "$(out "$B" user 'id; umask')" $'uid=1000 gid=1001 groups=5,6\n0077' "user, gid, additionalGids, umask"
reset
cfg "$B" '.process.capabilities = {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
o=$(out "$B" caps 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status')
like "$o" 'CapEff:[[:space:]]+0000000000000020' "capabilities: effective set"
like "$o" 'CapBnd:[[:space:]]+0000000000000021' "capabilities: bounding set"
reset
cfg "$B" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_NPROC", "soft": 999, "hard": 999}]'
is "$(out "$B" rlim 'ulimit -n; ulimit -Hn; ulimit -u' | tr '\n' ' ')" "321 654 999 " "rlimits"
reset
cfg "$B" '.process.noNewPrivileges = true | .process.oomScoreAdj = 500'
o=$(out "$B" nnp 'grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj')
like "$o" 'NoNewPrivs:[[:space:]]+1' "noNewPrivileges"
like "$o" $'\n500$' "oomScoreAdj"
reset
cfg "$B" '.process.env = ["PATH=/bin", "HELLO=world"] | .process.cwd = "/tmp"'
is "$(out "$B" env 'echo $HELLO; pwd')" $'world\n/tmp' "env and cwd"
reset
cfg "$B" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]} | .root.readonly = false'
o=$(out "$B" seccomp 'mkdir /tmp/x && echo made; echo after')
unlike "$o" 'made' "seccomp: mkdir is refused"
like "$o" 'after' "seccomp: other calls work"

# --- resources on this host (v1, hybrid or v2) -----------------------------
reset
cfg "$B" '.process.args = ["sleep", "30"] | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
ok "create with memory and pids limits" wr create --bundle "$B" res
pid=$(wr state res | jq -r .pid)
cg=$(cat /proc/"$pid"/cgroup)
like "$cg" 'res' "the init is in the container's cgroup"
mem=$( (cat /sys/fs/cgroup/memory/whittle/res/memory.limit_in_bytes ||
	cat /sys/fs/cgroup/unified/whittle/res/memory.max || cat /sys/fs/cgroup/whittle/res/memory.max) 2>/dev/null | head -1)
is "$mem" 67108864 "memory limit applied"
pids=$( (cat /sys/fs/cgroup/pids/whittle/res/pids.max || cat /sys/fs/cgroup/unified/whittle/res/pids.max ||
	cat /sys/fs/cgroup/whittle/res/pids.max) 2>/dev/null | head -1)
is "$pids" 50 "pids limit applied"
ok "delete --force of a created container" wr delete --force res
is "$(cgroup_dirs | grep -c '/res$')" 0 "delete removes the cgroups"
# /sys/fs/cgroup in the container is its own cgroup (bound from the host's
# cgroup2 tree, read-only), with or without a cgroup namespace.
reset
o=$(out "$B" cgview 'cat /sys/fs/cgroup/cgroup.procs; touch /sys/fs/cgroup/x 2>&1 || echo ro')
is "$(printf '%s\n' "$o" | head -1)" 1 "/sys/fs/cgroup shows the container's own cgroup"
like "$o" $'\nro$' "/sys/fs/cgroup is read-only"
cfg "$B" '.linux.namespaces |= map(select(.type != "cgroup"))'
is "$(out "$B" cgview2 'cat /sys/fs/cgroup/cgroup.procs')" 1 "the same without a cgroup namespace"

# --- hooks ----------------------------------------------------------------
reset
HL=$WH_TMP/hooks
mkdir -p "$HL"
hook() { jq -n --arg n "$1" --arg d "$2" '{path: "/bin/sh", args: ["sh", "-c", "echo \($n) >> \($d)/order; cat > \($d)/\($n).json"]}'; }
cfg "$B" '.mounts += [{"destination": "/hl", "type": "bind", "source": $hl, "options": ["rbind"]}]
  | .hooks = {prestart: [$a], createRuntime: [$b], createContainer: [$c], startContainer: [$d], poststart: [$e], poststop: [$f]}' \
	--arg hl "$HL" --argjson a "$(hook prestart "$HL")" --argjson b "$(hook createRuntime "$HL")" \
	--argjson c "$(hook createContainer "$HL")" --argjson d "$(hook startContainer /hl)" \
	--argjson e "$(hook poststart "$HL")" --argjson f "$(hook poststop "$HL")"
ok "create with every kind of hook" wr create --bundle "$B" hk
is "$(tr '\n' ' ' <"$HL/order")" "prestart createRuntime createContainer " "create runs the create hooks in order"
ok "start" wr start hk
ok "delete" sh -c "sleep 0.2; '$RUN' --root '$ROOT' delete hk"
is "$(tr '\n' ' ' <"$HL/order")" "prestart createRuntime createContainer startContainer poststart poststop " \
	"hooks ran in the runtime-spec's order"
is "$(jq -r .id "$HL/createRuntime.json")" hk "hooks get the state on stdin"
is "$(jq -r .status "$HL/poststop.json")" stopped "poststop sees a stopped container"
reset
cfg "$B" '.hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]}'
e=$(wr run --bundle "$B" hkfail 2>&1)
like "$e" 'hooks.createRuntime\[0\].*status 3' "a failing hook fails create, naming it"
reset
cfg "$B" '.hooks = {prestart: [{path: "/bin/sleep", args: ["sleep", "10"], timeout: 1}]}'
e=$(wr run --bundle "$B" hkslow 2>&1)
like "$e" 'timed out' "hook timeout"
is "$(ls "$ROOT")" "" "failed hooks leave no state"
# A prestart hook enters the container's network namespace by the init's pid
# (as CNI plugins do): it must already be the one the workload ends up in.
reset
rm -f "$HL/hooknet"
cfg "$B" '.hooks = {prestart: [{path: "/bin/sh", args: ["sh", "-c", "readlink /proc/$(jq -r .pid)/ns/net > \($d)/hooknet"]}]}' \
	--arg d "$HL"
n=$(out "$B" hknet 'readlink /proc/self/ns/net')
is "$(cat "$HL/hooknet" 2>/dev/null)" "$n" "prestart sees the network namespace the workload runs in"
isnt "$n" "$(readlink /proc/self/ns/net)" "which is not the host's"
reset
rm -f "$HL/order"
cfg "$B" '.hooks = {poststop: [$f]}' --argjson f "$(hook poststop "$HL")"
is "$(out "$B" hkstop 'echo ran')" ran "a container with only a poststop hook runs"
is "$(cat "$HL/order" 2>/dev/null)" poststop "and its poststop hook runs"
# A pid namespace joined by path is the workload's; hooks still run in the
# runtime's own, as runc's do.
unshare -p -f sleep 60 &
pns_parent=$!
for _ in $(seq 1 50); do
	pns=$(pgrep -P "$pns_parent" sleep) && break
	sleep 0.1
done
at_exit "kill $pns $pns_parent 2>/dev/null"
reset
rm -f "$HL/hookpid"
cfg "$B" '.linux.namespaces |= map(select(.type != "pid")) + [{"type": "pid", "path": $p}]
  | .hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "readlink /proc/self/ns/pid > \($d)/hookpid"]}]}' \
	--arg p "/proc/$pns/ns/pid" --arg d "$HL"
is "$(out "$B" joinpid 'readlink /proc/self/ns/pid')" "$(readlink "/proc/$pns/ns/pid")" \
	"join a pid namespace by path"
is "$(cat "$HL/hookpid" 2>/dev/null)" "$(readlink /proc/self/ns/pid)" \
	"hooks run in the runtime's pid namespace, not the joined one"

# --- exec -----------------------------------------------------------------
reset
cfg "$B" '.process.args = ["sleep", "60"]'
ok "run -d" wr run -d --bundle "$B" ex
o=$(wr exec ex sh -c 'echo $$ $(cat /proc/1/cmdline | tr "\0" " ")' 2>&1)
like "$o" 'sleep 60' "exec joins the pid namespace"
wr exec ex sh -c 'exit 5'
is "$?" 5 "exec exits with the process's status"
is "$(wr exec -e FOO=bar --cwd /tmp ex sh -c 'echo $FOO $(pwd)')" "bar /tmp" "exec -e and --cwd"
jq -n '{args: ["sh", "-c", "id -u"], cwd: "/", env: ["PATH=/bin"], user: {uid: 123, gid: 0}}' >"$WH_TMP/proc.json"
is "$(wr exec --process "$WH_TMP/proc.json" ex)" 123 "exec --process"
ok "exec --detach --pid-file" wr exec -d --pid-file "$WH_TMP/epid" ex sleep 5
like "$(cat "$WH_TMP/epid")" '^[0-9]+$' "exec writes its pid file"
o=$(wr exec ex sh -c 'ls /proc/self/fd | tr "\n" " "')
is "$o" "0 1 2 3 " "exec: no runtime fd leaks into the process (3 is ls's own)"
ok "delete -f" wr delete -f ex

# --- console --------------------------------------------------------------
reset
cfg "$B" '.process.terminal = true | .process.args = ["sh", "-c", "tty; [ -t 0 ] && echo isatty"]'
python3 - "$WH_TMP/cs" "$WH_TMP/cs.out" <<'EOF' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + '.ready', 'w').close()
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
buf = b''
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    buf += d
open(sys.argv[2], 'wb').write(buf)
EOF
for _ in $(seq 100); do [ -e "$WH_TMP/cs.ready" ] && break; sleep 0.05; done
ok "run -d --console-socket" wr run -d --console-socket "$WH_TMP/cs" --bundle "$B" tty
wait
like "$(cat "$WH_TMP/cs.out")" '/dev/pts/0' "the console master arrives over the socket"
like "$(cat "$WH_TMP/cs.out")" 'isatty' "the process's stdin is the terminal"
wr delete -f tty
e=$(wr create --bundle "$B" tty2 2>&1)
like "$e" 'terminal.*console-socket' "a terminal without --console-socket is refused"

# --- user namespace ---------------------------------------------------------
reset
cfg "$B" '.linux.namespaces += [{"type": "user"}]
  | .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
  | .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
o=$(out "$B" userns 'id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox; ls /dev/null')
like "$o" '^0' "user namespace: root inside"
like "$o" '0 +200000 +65536' "uid mapping applied"
like "$o" '65534' "host root is unmapped inside"
like "$o" '/dev/null' "devices bind-mounted in a user namespace"
is "$(out "$B" userns-lo "$lo_up")" 1 "user namespace: the loopback interface is up"

# --- log format -------------------------------------------------------------
"$RUN" --root "$ROOT" --log "$WH_TMP/log.json" --log-format json state nosuch 2>/dev/null
is "$(tail -n1 "$WH_TMP/log.json" | jq -r '.level + ": " + .msg')" "error: container does not exist" \
	"--log-format json: the last line is the error"
like "$(tail -n1 "$WH_TMP/log.json" | jq -r .time)" '^[0-9]{4}-' "json log lines carry a time"

# --- hostile configs ----------------------------------------------------------
HB=$WH_TMP/hostile
mkbundle "$HB"
hbase=$(cat "$HB/config.json")
ln -s / "$HB/rootfs/escape"
ln -s ../../../../../../"$WH_TMP"/outside "$HB/rootfs/escape2"
ln -s loop1 "$HB/rootfs/loop2" && ln -s loop2 "$HB/rootfs/loop1"
m0=$(mounts_count)
c0=$(cgroup_dirs)
hostile() {
	local desc=$1 want=$2 filter=$3
	printf '%s\n' "$hbase" >"$HB/config.json"
	if [ "$filter" = RAW ]; then printf '%s' "$4" >"$HB/config.json"; else cfg "$HB" "$filter"; fi
	e=$(wr run --bundle "$HB" hostile 2>&1)
	local rc=$?
	if [ $rc -ne 0 ] && printf '%s' "$e" | grep -Eq -- "$want"; then
		pass "hostile: $desc"
	else
		fail "hostile: $desc" "rc=$rc" "$e" "want /$want/"
	fi
}
hostile "bad JSON" 'config.json: invalid JSON' RAW '{"ociVersion": '
hostile "bad JSON, with the place" 'config.json: invalid JSON at line 2, column' RAW $'{"ociVersion":\n "1.0.0" x}'
hostile "not an object" 'config.json: expected an object' RAW '[1]'
hostile "missing ociVersion" 'config.json.ociVersion: missing' 'del(.ociVersion)'
hostile "missing root" 'config.json.root: missing' 'del(.root)'
hostile "missing process" 'process: missing' 'del(.process)'
hostile "relative mount destination" 'mounts\[7\].destination: must be absolute' \
	'.mounts += [{"destination": "rel", "type": "tmpfs", "source": "tmpfs"}]'
hostile "'..' in a mount destination" 'mounts\[7\].destination: invalid path' \
	'.mounts += [{"destination": "/a/../../etc", "type": "tmpfs", "source": "tmpfs"}]'
hostile "bad namespace type" "linux.namespaces\[0\].type: unknown namespace type 'bogus'" \
	'.linux.namespaces[0].type = "bogus"'
hostile "namespace twice" 'given twice' '.linux.namespaces += [{"type": "pid"}]'
hostile "args not strings" 'process.args\[0\]: expected a string' '.process.args = [1]'
hostile "empty args" 'process.args: must name a program' '.process.args = []'
hostile "bad rlimit" "rlimits\[0\].type: unknown rlimit 'RLIMIT_BOGUS'" \
	'.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
hostile "bad capability" 'capabilities' '.process.capabilities.bounding = ["CAP_BOGUS"]'
hostile "bad seccomp action" 'linux.seccomp' '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}'
hostile "uid mappings without a user ns" 'uidMappings' \
	'.linux.uidMappings = [{"containerID": 0, "hostID": 1, "size": 1}]'
hostile "relative hook path" 'hooks.prestart\[0\].path: must be absolute' \
	'.hooks = {prestart: [{path: "sh"}]}'
hostile "bad device type" "linux.devices\[0\].type: unknown device type 'x'" \
	'.linux.devices = [{"path": "/dev/x", "type": "x", "major": 1, "minor": 1}]'
hostile "bad sysctl key" "linux.sysctl: invalid key" '.linux.sysctl = {"../../etc/passwd": "x"}'
hostile "symlink loop as a mount destination" 'mounts\[7\]' \
	'.mounts += [{"destination": "/loop1/x", "type": "tmpfs", "source": "tmpfs"}]'
hostile "bind source missing" 'mounts\[7\].*No such file' \
	'.mounts += [{"destination": "/data/x", "type": "bind", "source": "/nonexistent/src", "options": ["bind"]}]'
hostile "bad memory limit" 'linux.resources' '.linux.resources = {"memory": {"limit": "lots"}}'
hostile "cwd not a directory" 'process.cwd' '.process.cwd = "/bin/busybox"'
is "$(mounts_count)" "$m0" "hostile configs leave no mounts behind"
is "$(cgroup_dirs)" "$c0" "hostile configs leave no cgroups behind"
is "$(ls "$ROOT")" "" "hostile configs leave no state behind"

# A symlink in the rootfs that points out of it stays inside as a destination.
printf '%s\n' "$hbase" >"$HB/config.json"
cfg "$HB" '.mounts += [{"destination": "/escape/tmp/wh-escape-probe", "type": "tmpfs", "source": "tmpfs"},
  {"destination": "/escape2/mnt", "type": "tmpfs", "source": "tmpfs"}] | .root.readonly = false'
wr run --bundle "$HB" escape >/dev/null 2>&1
[ ! -e /tmp/wh-escape-probe ] && pass "symlink to / as a destination: nothing created on the host" ||
	{ fail "symlink escape created /tmp/wh-escape-probe"; rmdir /tmp/wh-escape-probe; }
[ ! -e "$WH_TMP/outside/mnt" ] && pass "relative symlink out: the host directory is untouched" ||
	fail "symlink escape reached $WH_TMP/outside"
[ -d "$HB/rootfs/tmp/wh-escape-probe" ] && pass "the destination was made inside the rootfs" ||
	fail "destination not inside the rootfs"
is "$(mounts_count)" "$m0" "no mounts left after the escape attempt"

# --- 200 cycles without leaks ---------------------------------------------------
reset
cfg "$B" '.process.args = ["true"]'
m0=$(mounts_count)
c0=$(cgroup_dirs)
fails=0
for i in $(seq 200); do
	wr create --bundle "$B" cyc >/dev/null 2>&1 && wr start cyc >/dev/null 2>&1 &&
		wr delete -f cyc >/dev/null 2>&1 || fails=$((fails + 1))
done
is "$fails" 0 "200 create/start/delete cycles"
is "$(mounts_count)" "$m0" "no mounts leaked"
is "$(cgroup_dirs)" "$c0" "no cgroups leaked"
is "$(ls "$ROOT")" "" "no state leaked"
o=$(out "$B" fds 'ls /proc/self/fd | tr "\n" " "')
is "$o" "0 1 2 3 " "no runtime fd reaches the container (3 is ls's own)"

done_testing
