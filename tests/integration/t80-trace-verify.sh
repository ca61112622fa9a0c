#!/bin/bash
# whittle trace / verify / build --verify against a small image whose
# workload is a shell script: it cats a file, reads every file of a
# directory, and looks for a path the image does not have. TAP; needs root.
. "$(dirname "$0")/lib.sh"

need_root
need jq
RUNTIME=$WH_BUILD/whittle-run
[ -x "$RUNTIME" ] || bail "$RUNTIME is missing: run make first"
export TMPDIR=$WH_TMP/tmp
mkdir -p "$TMPDIR"

mkfix_text "$WH_TMP/img" <<'EOF'
layer gzip
dir    etc 0755 0 0
file   etc/passwd 0644 0 0 "text:root:x:0:0:root:/root:/bin/sh\n"
file   etc/group 0644 0 0 "text:root:x:0:\n"
hostbin /bin/sh /bin/cat /bin/sleep
dir    app 0755 0 0
file   app/run.sh 0755 0 0 "text:#!/bin/sh\ncat /app/data/greeting\nfor f in /app/conf/*; do cat \"$f\"; done\n[ -e /app/optional ] || echo no optional\necho done\n"
dir    app/data 0755 0 0
file   app/data/greeting 0644 0 0 "text:hello from the image\n"
file   app/data/unused 0644 0 0 "text:never read\n"
dir    app/conf 0755 0 0
file   app/conf/a 0644 0 0 "text:conf a\n"
file   app/conf/b 0644 0 0 "text:conf b\n"
file   app/extra 0644 0 0 "text:extra\n"
file   app/junk 0644 0 0 zero:100000
config entrypoint ["/app/run.sh"]
config env ["PATH=/usr/bin:/bin"]
ref latest
EOF
IMG=oci:$WH_TMP/img:latest
R=(--runtime "$RUNTIME")

# ---- trace ----
run_wh trace "${R[@]}" --name fixture -o "$WH_TMP/prof.json" "$IMG"
is "$WH_RC" 0 "trace of the script exits 0"
like "$WH_ERR" "the workload exited 0" "the summary says how the trace ended"
P=$WH_TMP/prof.json
keep=$(jq -r '.keep[]' "$P" 2>/dev/null)
like "$keep" '^/app/conf/\*\*$' "a directory whose every file was read is kept as a glob"
like "$keep" '^/app/data/greeting$' "a file that was read is kept"
like "$keep" '^/app/run.sh$' "the entrypoint script is kept"
unlike "$keep" '/app/data/unused|/app/data/\*\*' "a file next to a read one, never read, is not kept"
unlike "$keep" '/app/junk|/app/extra' "files nothing read are not kept"
unlike "$keep" '/app/optional' "a path looked up and not found is not a keep entry"
like "$keep" 'dash|/bin/sh' "the script's interpreter is kept"
is "$(jq -r '.name' "$P")" fixture "--name names the profile"
like "$(jq -r '.description' "$P")" "^traced from $IMG on [0-9]{4}-" "the description says where it came from"
sc=$(jq -r '.syscalls[]' "$P")
like "$sc" '^openat$' "syscalls list openat"
like "$sc" '^execve$' "syscalls list execve"
like "$sc" '^exit_group$' "syscalls list exit_group"
is "$(jq -r '.syscalls | (. == sort)' "$P")" true "syscalls are sorted"
is "$(jq -c '.smoke.cmd' "$P")" '["/app/run.sh"]' "a workload that exited 0 becomes the smoke command"
ok "the traced profile passes profile check" "$WHITTLE" profile check "$P"
is "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | wc -l)" 0 "trace leaves nothing in TMPDIR"

# ---- build with it, verify ----
run_wh build -q --profile "$P" "$IMG" "dir:$WH_TMP/rootfs"
is "$WH_RC" 0 "build with the traced profile"
[ -f "$WH_TMP/rootfs/app/data/greeting" ] && [ ! -e "$WH_TMP/rootfs/app/data/unused" ] &&
	[ ! -e "$WH_TMP/rootfs/app/junk" ]
is "$?" 0 "the result has the read file and lacks the unread ones"
run_wh build -q --profile "$P" "$IMG" "oci:$WH_TMP/good:latest"
run_wh verify "${R[@]}" --profile "$P" "$IMG" "oci:$WH_TMP/good:latest"
is "$WH_RC" 0 "verify passes for the traced profile's result"
like "$WH_ERR" "verified" "verify says so"
unlike "$WH_ERR" "/app/optional" "a path the original lacks too is not reported"
run_wh verify "${R[@]}" --expect "hello from the image" "$IMG" "oci:$WH_TMP/good:latest"
is "$WH_RC" 0 "verify --expect with text the workload prints"
run_wh verify "${R[@]}" --expect "no such text" "$IMG" "oci:$WH_TMP/good:latest"
is "$WH_RC" 1 "verify --expect with text it does not print fails"
like "$WH_ERR" "lacks 'no such text'" "and says which text is missing"

# The traced syscall list, enforced by whittle-init, still runs the workload.
run_wh build -q --init --seccomp --profile "$P" "$IMG" "oci:$WH_TMP/seccomp:latest"
is "$WH_RC" 0 "build --init --seccomp with the traced syscalls"
run_wh verify "${R[@]}" --expect "hello from the image" "$IMG" "oci:$WH_TMP/seccomp:latest"
is "$WH_RC" 0 "the image's own entrypoint (whittle-init with the filter) passes verify"
jq '.syscalls -= ["getdents64"] | del(.smoke)' "$P" >"$WH_TMP/nodents.json"
run_wh build -q --init --seccomp --profile "$WH_TMP/nodents.json" "$IMG" "oci:$WH_TMP/nodents:latest"
run_wh verify "${R[@]}" --expect "conf b" "$IMG" "oci:$WH_TMP/nodents:latest"
is "$WH_RC" 1 "without getdents64 in the list the filter breaks the directory read, and verify sees it"

# verify enforces the profile's syscalls itself (whittle-run's linux.seccomp), as the
# image will: the traced list passes, the list without getdents64 does not.
run_wh verify -v "${R[@]}" --profile "$P" "$IMG" "oci:$WH_TMP/good:latest"
is "$WH_RC" 0 "verify under the traced profile's syscalls passes"
like "$WH_ERR" "syscalls are enforced" "and says the syscalls were enforced"
run_wh verify "${R[@]}" --profile "$WH_TMP/nodents.json" --expect "conf b" "$IMG" \
	"oci:$WH_TMP/good:latest"
is "$WH_RC" 1 "verify --profile without getdents64 fails on an image with no filter of its own"
like "$WH_ERR" "lacks 'conf b'" "because the directory read failed"
run_wh verify "${R[@]}" --no-seccomp --profile "$WH_TMP/nodents.json" --expect "conf b" "$IMG" \
	"oci:$WH_TMP/good:latest"
is "$WH_RC" 0 "verify --no-seccomp runs without the allowlist"
jq '.syscalls -= ["getdents64"] | .smoke.expect = "conf b"' "$P" >"$WH_TMP/nodents-smoke.json"
run_wh build -q --verify --profile "$WH_TMP/nodents-smoke.json" "$IMG" "oci:$WH_TMP/nd-refused:latest"
is "$WH_RC" 1 "build --verify fails when the profile's syscalls break its smoke test"
like "$WH_ERR" "lacks 'conf b'" "and says what the smoke test missed"
[ ! -e "$WH_TMP/nd-refused" ]
is "$?" 0 "and writes no DEST"
run_wh build -q --verify --no-seccomp --profile "$WH_TMP/nodents-smoke.json" "$IMG" \
	"oci:$WH_TMP/nd-accepted:latest"
is "$WH_RC" 0 "build --verify --no-seccomp passes with the same profile"
jq '.syscalls += ["no_such_call"]' "$P" >"$WH_TMP/badcall.json"
run_wh verify "${R[@]}" --profile "$WH_TMP/badcall.json" "$IMG" "oci:$WH_TMP/good:latest"
is "$WH_RC" 1 "verify with an unknown syscall in the profile fails"
like "$WH_ERR" "unknown syscall 'no_such_call'" "naming the syscall"
run_wh verify "${R[@]}" "oci:$WH_TMP/no-such-image:latest" "oci:$WH_TMP/good:latest"
is "$WH_RC" 1 "verify with an ORIGINAL that cannot be read fails (and does not crash)"

# ---- a profile that is too small ----
cat >"$WH_TMP/small.json" <<'EOF'
{"name": "small", "keep": ["/app/run.sh", "/app/conf/**", "/usr/bin/cat"]}
EOF
run_wh build -q --profile "$WH_TMP/small.json" "$IMG" "oci:$WH_TMP/small:latest"
is "$WH_RC" 0 "build with a hand-written profile that misses a file"
run_wh verify "${R[@]}" "$IMG" "oci:$WH_TMP/small:latest"
is "$WH_RC" 1 "verify fails for it"
like "$WH_ERR" "/app/data/greeting: looked up by the workload, in the original" \
	"verify names the missing path"
unlike "$WH_ERR" "/app/conf/" "and only that path"

run_wh build -q --verify --profile "$WH_TMP/small.json" "$IMG" "oci:$WH_TMP/refused:latest"
is "$WH_RC" 1 "build --verify fails with the small profile"
like "$WH_ERR" "/app/data/greeting" "build --verify names the missing path"
[ ! -e "$WH_TMP/refused" ]
is "$?" 0 "build --verify does not write DEST when verify fails"
run_wh build -q --verify --profile "$P" "$IMG" "oci:$WH_TMP/accepted:latest"
is "$WH_RC" 0 "build --verify with the traced profile"
[ -f "$WH_TMP/accepted/index.json" ]
is "$?" 0 "and DEST is written"
is "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | wc -l)" 0 "verify leaves nothing in TMPDIR"

# ---- a second run merged into the first ----
run_wh trace "${R[@]}" --merge "$P" -o "$WH_TMP/merged.json" "$IMG" -- /bin/cat /app/extra
is "$WH_RC" 0 "trace with ARGS and --merge"
mk=$(jq -r '.keep[]' "$WH_TMP/merged.json")
like "$mk" '^/app/extra$' "the merged profile has the second run's file"
like "$mk" '^/app/conf/\*\*$' "and the first run's glob"
is "$(jq -c '.entrypoint' "$WH_TMP/merged.json")" '["/bin/cat","/app/extra"]' \
	"ARGS become the entrypoint"

# ---- how a trace ends ----
run_wh trace "${R[@]}" -o "$WH_TMP/fail.json" "$IMG" -- /bin/sh -c 'echo bye; exit 3'
is "$WH_RC" 1 "a workload that fails fails the trace"
like "$WH_ERR" "exited with status 3" "and the reason is given"
like "$WH_ERR" "bye" "with the workload's last output"
[ ! -e "$WH_TMP/fail.json" ]
is "$?" 0 "no profile is written then"

start=$(date +%s)
(sleep 1 && touch "$WH_TMP/go") &
run_wh trace "${R[@]}" --duration 30 --probe "test -e '$WH_TMP/go'" -o "$WH_TMP/probe.json" \
	"$IMG" -- /bin/sleep 60
took=$(($(date +%s) - start))
is "$WH_RC" 0 "trace with a probe ends when the probe succeeds"
like "$WH_ERR" "the probe succeeded" "and says so"
[ "$took" -lt 15 ]
is "$?" 0 "long before the duration ($took s)"
like "$(jq -r '.keep[]' "$WH_TMP/probe.json")" 'sleep' "the server's program is in the profile"
is "$(jq -c '.smoke' "$WH_TMP/probe.json")" null "a probed run sets no smoke command"

run_wh trace "${R[@]}" --duration 2 --probe false -o "$WH_TMP/never.json" "$IMG" -- /bin/sleep 60
is "$WH_RC" 1 "a probe that never succeeds fails the trace"
like "$WH_ERR" "probe never succeeded" "and says so"

run_wh trace "${R[@]}" --duration 30 --ready-line READY-NOW -o "$WH_TMP/ready.json" "$IMG" -- \
	/bin/sh -c 'echo READY-NOW; exec sleep 60'
is "$WH_RC" 0 "trace ends at the ready line"
like "$WH_ERR" "ready line appeared" "and says so"

run_wh trace "${R[@]}" --duration 1 -o "$WH_TMP/dur.json" "$IMG" -- /bin/sleep 60
is "$WH_RC" 0 "without probe or ready line, a workload still running at the end is fine"
like "$WH_ERR" "whole duration" "and the summary says it ran for the whole duration"
is "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | wc -l)" 0 "stopped containers leave nothing in TMPDIR"

# ---- usage and privileges ----
run_wh trace
is "$WH_RC" 2 "trace without SOURCE is a usage error"
run_wh verify "$IMG"
is "$WH_RC" 2 "verify without WHITTLED is a usage error"
if have setpriv; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$WHITTLE" trace "$IMG" 2>&1)
	is "$?" 1 "trace as an unprivileged user fails"
	like "$out" "needs root \(ptrace/fanotify\)" "and says it needs root"
else
	skip "trace as an unprivileged user" "setpriv is missing"
fi

done_testing
