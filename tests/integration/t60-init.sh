#!/bin/bash
# whittle-init: exit codes, signal forwarding, zombie reaping, subreaper and
# PID 1 modes, kill-on-exit, --seccomp with a BPF file, the ready stamp.
# TAP. Needs root for the PID 1 cases (unshare --pid).
set -u
top=${WH_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${WH_BUILD:-$top/build}
INIT=$build/whittle-init
MKBPF=$build/tools/mkbpf
[ -x "$INIT" ] || { echo "Bail out! $INIT not built (make -j2)"; exit 1; }

d=$(mktemp -d /tmp/t60.XXXXXX)
leftover=()
cleanup() {
	for p in "${leftover[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$d"
}
trap cleanup EXIT

n=0
failed=0
ok() { # ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() { # is GOT WANT DESCRIPTION
	[ "$1" = "$2" ]
	local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || echo "#   got '$1', want '$2'"
}
# Waits up to 5 s for a file to exist (and be non-empty).
wait_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}
# Prints the status files of the processes whose parent is $1 (and whose
# state is $2, e.g. Z, when given). One awk, so the scan is quick.
kids_of() {
	awk -v p="$1" -v s="${2:-}" 'FNR == 1 { st = "" } /^State:/ { st = $2 }
		/^PPid:/ { if ($2 == p && (s == "" || st == s)) print FILENAME }' \
		/proc/[0-9]*/status 2>/dev/null
}

# --- exit codes ---
"$INIT" -- true; is $? 0 "exit 0 passes through"
"$INIT" -- sh -c 'exit 3'; is $? 3 "exit 3 passes through"
"$INIT" -- sh -c 'kill -9 $$'; is $? 137 "killed by SIGKILL gives 128+9"
"$INIT" -- /nonexistent/prog 2>"$d/err"; is $? 127 "program not found gives 127"
grep -q "exec '/nonexistent/prog': No such file or directory" "$d/err"; ok $? "not found is explained on stderr"
"$INIT" -- no-such-program-on-path 2>/dev/null; is $? 127 "PATH search miss gives 127"
printf 'not a program\n' >"$d/noexec" && chmod 0644 "$d/noexec"
"$INIT" -- "$d/noexec" 2>"$d/err"; is $? 126 "not executable gives 126"
grep -q "Permission denied" "$d/err"; ok $? "126 is explained on stderr"
"$INIT" 2>/dev/null; is $? 2 "no program is a usage error"
"$INIT" --bogus -- true 2>/dev/null; is $? 2 "unknown option is a usage error"
"$INIT" -e 3 -- sh -c 'exit 3'; is $? 0 "-e remaps an exit code to 0"
out=$("$INIT" -- echo -g -k); is "$out" "-g -k" "options after -- belong to the program"
out=$("$INIT" echo -v); is "$out" "-v" "option parsing stops at the program name"
"$INIT" --version | grep -q '^whittle-init [0-9]'; ok $? "--version"

# --- no descriptors of the init leak into the program ---
"$INIT" -- ls -l /proc/self/fd/ >"$d/fds" 2>&1
! grep -q signalfd "$d/fds"; ok $? "the init's signalfd is not inherited"

# --- signal forwarding ---
rm -f "$d/ready" "$d/term"
"$INIT" -- sh -c "trap 'echo got >$d/term; exit 42' TERM; echo r >$d/ready; while :; do sleep 0.05; done" &
ipid=$!
wait_file "$d/ready"
kill -TERM $ipid
wait $ipid; is $? 42 "TERM reaches the child, its exit code comes back"
[ -s "$d/term" ]; ok $? "the child's TERM trap ran"

"$INIT" -- sleep 30 &
ipid=$!
sleep 0.2
kill -USR1 $ipid
wait $ipid; is $? $((128 + 10)) "USR1 is forwarded (default action kills the child)"

# -g: the signal reaches a grandchild in the child's process group.
run_group() { # run_group INIT-OPTIONS...; leaves $d/gc if the grandchild got TERM
	rm -f "$d/gc" "$d/gcpid"
	"$INIT" "$@" -- sh -c "sh -c 'trap \"echo gc >$d/gc; exit 0\" TERM; echo \$\$ >$d/gcpid; while :; do sleep 0.05; done' & wait" &
	ipid=$!
	wait_file "$d/gcpid"
	gcpid=$(cat "$d/gcpid")
	leftover+=("$gcpid")
	sleep 0.1
	kill -TERM $ipid
	wait $ipid
	rc=$?
	for _ in $(seq 40); do [ -s "$d/gc" ] && break; sleep 0.05; done
}
run_group -g
is $rc 143 "-g: the child dies of TERM"
[ -s "$d/gc" ]; ok $? "-g: the grandchild got TERM too"
run_group
[ ! -e "$d/gc" ]; ok $? "without -g the grandchild is not signalled"
kill -9 "$gcpid" 2>/dev/null

# --- zombie reaping in subreaper mode ---
rm -f "$d/ready"
"$INIT" -- sh -c "(sleep 0.3 &); (sleep 0.3 &); (sleep 0.3 &); echo r >$d/ready; sleep 1.5" &
ipid=$!
wait_file "$d/ready"
sleep 0.1
adopted=$(kids_of $ipid | wc -l)
[ "$adopted" -ge 4 ]; ok $? "orphans are adopted by the init (subreaper when not PID 1): $adopted children"
sleep 0.6
zombies=$(kids_of $ipid Z | wc -l)
is "$zombies" 0 "no zombies left while the init waits for its child"
wait $ipid; is $? 0 "the child's status after reaping orphans"

# --- kill on exit ---
rm -f "$d/pid"
"$INIT" -k -t 300 -- sh -c "setsid sleep 60 & echo \$! >$d/pid; exit 0"
is $? 0 "-k: the init exits with the child's status"
orphan=$(cat "$d/pid")
sleep 0.1
! kill -0 "$orphan" 2>/dev/null; ok $? "-k: an orphan in another session is gone"

rm -f "$d/pid"
start=$(date +%s%N)
"$INIT" -k -t 300 -- sh -c "setsid sh -c 'trap \"\" TERM; sleep 60' & echo \$! >$d/pid; sleep 0.2; exit 0"
elapsed=$((($(date +%s%N) - start) / 1000000))
orphan=$(cat "$d/pid")
sleep 0.1
! kill -0 "$orphan" 2>/dev/null; ok $? "-k: an orphan ignoring TERM is killed after the grace time"
[ "$elapsed" -ge 450 ] && [ "$elapsed" -lt 3000 ]; ok $? "-k: grace time honoured ($elapsed ms)"

rm -f "$d/pid"
"$INIT" -- sh -c "setsid sleep 60 & echo \$! >$d/pid; exit 0"
orphan=$(cat "$d/pid")
leftover+=("$orphan")
kill -0 "$orphan" 2>/dev/null; ok $? "without -k the orphan is left alone (tini's behaviour)"
kill -9 "$orphan" 2>/dev/null

# --- PID 1 ---
if unshare --pid --fork --mount-proc true 2>/dev/null; then
	out=$(unshare --pid --fork --mount-proc "$INIT" -- sh -c 'echo $$; tr "\0" " " </proc/1/cmdline')
	set -- $out
	is "$1" 2 "as PID 1 the program is pid 2"
	is "$2" "$INIT" "PID 1 is whittle-init"
	unshare --pid --fork --mount-proc "$INIT" -- sh -c 'exit 5'; is $? 5 "as PID 1: exit code passes through"
	out=$(unshare --pid --fork --mount-proc "$INIT" -- sh -c \
		'(sleep 0.1 &); (sleep 0.1 &); sleep 0.5; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l')
	is "$out" 0 "as PID 1: orphans are reaped"
	unshare --pid --fork --mount-proc "$INIT" -- sh -c 'sleep 60 & exec sleep 60' &
	upid=$!
	sleep 0.3
	ipid=$(kids_of $upid | head -1 | cut -d/ -f3)
	kill -TERM "$ipid"
	wait $upid; is $? 143 "as PID 1: TERM from outside is forwarded"
	rm -f "$d/pid"
	start=$(date +%s%N)
	unshare --pid --fork --mount-proc "$INIT" -k -t 2000 -- sh -c \
		"sh -c 'trap \"exit 0\" TERM; sleep 60 & wait' & sleep 0.2; exit 0"
	is $? 0 "as PID 1 with -k: exit status"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$elapsed" -lt 1500 ]; ok $? "as PID 1 with -k: TERM ends the rest before the grace time ($elapsed ms)"
else
	for i in 1 2 3 4 5 6 7; do n=$((n + 1)); echo "ok $n # SKIP unshare --pid not permitted"; done
fi

# --- seccomp ---
if [ -x "$MKBPF" ]; then
	"$MKBPF" "$d/deny.bpf" mkdir mkdirat
	"$INIT" --seccomp "$d/deny.bpf" -- mkdir "$d/denied" 2>"$d/err"
	is $? 1 "--seccomp: mkdir fails"
	grep -q "Operation not permitted" "$d/err"; ok $? "--seccomp: with EPERM"
	[ ! -e "$d/denied" ]; ok $? "--seccomp: the directory was not made"
	"$INIT" --seccomp "$d/deny.bpf" -- touch "$d/allowed"; is $? 0 "--seccomp: allowed calls work"
	[ -e "$d/allowed" ]; ok $? "--seccomp: touch made its file"
	mkdir "$d/after"; ok $? "the filter stayed in the child, not in the caller"
	"$MKBPF" --errno 13 "$d/eacces.bpf" mkdir mkdirat
	"$INIT" --seccomp="$d/eacces.bpf" -- mkdir "$d/denied2" 2>"$d/err"
	grep -q "Permission denied" "$d/err"; ok $? "--seccomp=FILE: the filter's errno is used"
	"$INIT" --seccomp "$d/deny.bpf" -- grep NoNewPrivs /proc/self/status >"$d/nnp"
	grep -q '1$' "$d/nnp"; ok $? "--seccomp sets no_new_privs"
	head -c 12 "$d/deny.bpf" >"$d/short.bpf"
	"$INIT" --seccomp "$d/short.bpf" -- true 2>"$d/err"; is $? 1 "--seccomp: truncated filter is refused"
	grep -q "raw BPF" "$d/err"; ok $? "--seccomp: refusal is explained"
	head -c 40000 /dev/zero >"$d/big.bpf"
	"$INIT" --seccomp "$d/big.bpf" -- true 2>"$d/err"; is $? 1 "--seccomp: oversized file is refused"
	"$INIT" --seccomp "$d/missing.bpf" -- true 2>"$d/err"; is $? 1 "--seccomp: missing file"
	grep -q "missing.bpf: No such file" "$d/err"; ok $? "--seccomp: missing file is named"
else
	for i in $(seq 13); do n=$((n + 1)); echo "ok $n # SKIP $MKBPF not built"; done
fi

# --- ready stamp ---
mono() { python3 -c 'import time; print("%.9f" % time.monotonic())'; }
before=$(mono)
"$INIT" --ready-file "$d/stamp" -- true; is $? 0 "--ready-file: exit status"
after=$(mono)
stamp=$(cat "$d/stamp")
[[ "$stamp" =~ ^[0-9]+\.[0-9]{9}$ ]]; ok $? "--ready-file: '<sec>.<nsec>' ($stamp)"
python3 -c "import sys; sys.exit(0 if $before <= $stamp <= $after else 1)"
ok $? "--ready-file: CLOCK_MONOTONIC between the caller's readings"
"$INIT" --ready-fd 7 -- /usr/bin/test -e /proc/self/fd/7 7>"$d/stamp2"
is $? 1 "--ready-fd: the fd is not inherited by the program"
grep -Eq '^[0-9]+\.[0-9]{9}$' "$d/stamp2"; ok $? "--ready-fd: stamp written"
"$INIT" --ready-fd 9 -- true 2>/dev/null; is $? 1 "--ready-fd: a closed fd is an error"
"$INIT" --ready-file /nonexistent/dir/x -- true 2>/dev/null; is $? 1 "--ready-file: unwritable path is an error"

# --- terminal: the program's group takes the foreground ---
if command -v script >/dev/null && command -v ps >/dev/null; then
	printf '#!/bin/sh\nexec ps -o pgid= -o tpgid= -p $$\n' >"$d/fg.sh" && chmod +x "$d/fg.sh"
	out=$(timeout 10 script -qc "$INIT -- $d/fg.sh" /dev/null </dev/null | tr -d '\r')
	set -- $out
	[ -n "${1:-}" ] && [ "$1" = "${2:-}" ]; ok $? "on a tty the program's process group is in the foreground ($out)"
else
	n=$((n + 1)); echo "ok $n # SKIP script(1) or ps(1) missing"
fi

# --- size ---
size=$(stat -c %s "$INIT")
[ "$size" -lt 102400 ]; ok $? "whittle-init is small: $size bytes"
if [ -e /usr/bin/tini-static ]; then
	[ "$size" -lt $(($(stat -c %s /usr/bin/tini-static) / 4)) ]
	ok $? "under a quarter of tini-static"
fi
file "$INIT" 2>/dev/null | grep -q "statically linked"; ok $? "statically linked"

echo "1..$n"
[ $failed -eq 0 ]
