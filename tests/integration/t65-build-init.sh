#!/bin/bash
# whittle build --init / --seccomp: whittle-init goes into the image and in
# front of the entrypoint, the profile's syscalls are compiled to a filter
# that whittle-init loads; run with runc: the workload runs under
# whittle-init as PID 1, its exit code comes back, and a syscall left out of
# the profile fails with EPERM while everything else works.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need jq umoci
INIT=$WH_BUILD/whittle-init
[ -x "$INIT" ] || bail "$INIT not built (make -j2)"

IN=$WH_TMP/in
mkfix_text "$IN" <<'EOF'
layer gzip
dir etc 0755 0 0
file etc/passwd 0644 0 0 "text:root:x:0:0:root:/root:/bin/sh\n"
hostbin /bin/sh /bin/mkdir /bin/cat
dir tmp 1777 0 0
dir app 0755 0 0
file app/run.sh 0755 0 0 "text:#!/bin/sh\necho ppid=$PPID\necho pid1=$(cat /proc/1/cmdline)\nmkdir /tmp/made 2>&1; echo mkdir=$?\necho args: \"$@\"\nexit 7\n"
config entrypoint ["/app/run.sh"]
config cmd ["one","two"]
config env ["PATH=/usr/bin:/bin"]
ref latest
EOF
SRC="oci:$IN:latest"

# The default list without mkdir and mkdirat, as a profile written by hand
# (or by whittle trace) would leave them out.
awk '/wh_seccomp_default\[\] = \{/ { on = 1; next } on && /NULL,/ { exit }
	on { gsub(/[ ",]/, ""); if ($0 != "" && $0 !~ /^\//) print }' \
	"$WH_TOP/builder/seccomp_default.c" | grep -vx -e mkdir -e mkdirat >"$WH_TMP/names"
n_names=$(wc -l <"$WH_TMP/names")
[ "$n_names" -gt 250 ] || bail "could not read the default list from seccomp_default.c ($n_names names)"
jq -R . "$WH_TMP/names" | jq -s '{name: "t65", keep: ["/bin/mkdir", "/bin/cat", "/tmp"], syscalls: .}' \
	>"$WH_TMP/nomkdir.json"
echo '{"name": "t65d", "keep": ["/bin/mkdir", "/bin/cat", "/tmp"]}' >"$WH_TMP/plain.json"
echo '{"name": "t65b", "keep": ["/bin/cat"], "syscalls": ["getpid", "mkdir_please"]}' >"$WH_TMP/bad.json"

config_of() { # config_of OCI-DIR: the image config JSON
	cat "$1/blobs/sha256/$(oci_manifest "$1" | jq -r .config.digest | cut -d: -f2)"
}

# --- the build --------------------------------------------------------------------
OUT=$WH_TMP/out
run_wh build --compression gzip --profile "$WH_TMP/nomkdir.json" --init --seccomp \
	--report "$WH_TMP/r.json" "$SRC" "oci:$OUT:x"
is "$WH_RC" 0 "build --init --seccomp"
diag_file "$WH_TMP/wh.err"
is "$(config_of "$OUT" | jq -c .config.Entrypoint)" \
	'["/whittle-init","-g","--seccomp","/etc/whittle/seccomp.bpf","--","/app/run.sh"]' \
	"the entrypoint runs whittle-init with the filter in front of the original"
is "$(config_of "$OUT" | jq -c .config.Cmd)" '["one","two"]' "Cmd is left alone"
is "$(jq -r '.kept[] | select(.path == "/whittle-init") | .reason' "$WH_TMP/r.json")" "--init" \
	"the report keeps /whittle-init for --init"
is "$(jq -r '.kept[] | select(.path == "/whittle-init") | .size' "$WH_TMP/r.json")" \
	"$(stat -c %s "$INIT")" "with the size of build/whittle-init"
like "$(jq -r '.kept[] | select(.path == "/etc/whittle/seccomp.bpf") | .reason' "$WH_TMP/r.json")" \
	'^--seccomp: [0-9]+ syscalls$' "the report keeps the filter with its syscall count"
like "$(jq -r '.kept[] | select(.path == "/etc/whittle") | .reason' "$WH_TMP/r.json")" \
	'^parent of /etc/whittle/seccomp.bpf$' "and its directory"
is "$(jq -c .entrypoint "$WH_TMP/r.json")" "$(config_of "$OUT" | jq -c .config.Entrypoint)" \
	"the report shows the new entrypoint"
oci_list "$OUT" x >"$WH_TMP/list"
ok "the layer has whittle-init" grep -qx 'whittle-init' "$WH_TMP/list"
ok "the layer has the filter" grep -qx 'etc/whittle/seccomp.bpf' "$WH_TMP/list"

run_wh build -q --profile "$WH_TMP/nomkdir.json" --init --seccomp --dry-run "$SRC" "oci:$WH_TMP/dry:x"
is "$WH_RC" 0 "dry run with --init --seccomp"
like "$WH_OUT" $'keep\t/whittle-init\t--init' "the dry run lists /whittle-init"
like "$WH_OUT" $'keep\t/etc/whittle/seccomp.bpf\t--seccomp: ' "and the filter"
ok "the dry run writes nothing" test ! -e "$WH_TMP/dry"

run_wh build --compression gzip --profile "$WH_TMP/nomkdir.json" --init --seccomp "$SRC" "oci:$WH_TMP/out2:x"
is "$(oci_manifest_digest "$WH_TMP/out2" x)" "$(oci_manifest_digest "$OUT" x)" \
	"the same build twice gives the same manifest digest"

# Whittling a whittled image again does not nest the init.
run_wh build -q --compression gzip --profile "$WH_TMP/plain.json" --init "oci:$OUT:x" "oci:$WH_TMP/again:x"
is "$WH_RC" 0 "build --init from an image that has it already"
is "$(config_of "$WH_TMP/again" | jq -c .config.Entrypoint)" '["/whittle-init","-g","--","/app/run.sh"]' \
	"the old whittle-init and its options are replaced, not wrapped"

# --- errors -------------------------------------------------------------------------
run_wh build -q --init --init-path "$WH_TMP/no-such-init" "$SRC" "oci:$WH_TMP/e1:x"
is "$WH_RC" 1 "--init-path to a missing file fails"
like "$WH_ERR" "--init-path: '$WH_TMP/no-such-init' does not exist" "and says which"
ok "nothing is written" test ! -e "$WH_TMP/e1"

mkdir "$WH_TMP/lonely"
cp "$WHITTLE" "$WH_TMP/lonely/whittle"
"$WH_TMP/lonely/whittle" build -q --init "$SRC" "oci:$WH_TMP/e2:x" 2>"$WH_TMP/e2.err"
is "$?" 1 "--init without a whittle-init next to whittle fails"
like "$(cat "$WH_TMP/e2.err")" "whittle-init not found \(looked for '$WH_TMP/lonely/whittle-init' and .*\); build it or give --init-path" \
	"the error names where it looked and what to do"

printf 'not an ELF file\n' >"$WH_TMP/fake-init"
run_wh build -q --init --init-path "$WH_TMP/fake-init" "$SRC" "oci:$WH_TMP/e3:x"
is "$WH_RC" 1 "an --init-path that is not a program fails"
like "$WH_ERR" "--init: '$WH_TMP/fake-init'" "and names the file"

run_wh build -q --profile "$WH_TMP/bad.json" --seccomp "$SRC" "oci:$WH_TMP/e4:x"
is "$WH_RC" 1 "an unknown syscall in the profile fails the build"
like "$WH_ERR" "profile t65b: syscalls: unknown syscall 'mkdir_please'" "naming the field and the name"

run_wh build -q --seccomp --seccomp-action trap "$SRC" "oci:$WH_TMP/e5:x"
is "$WH_RC" 2 "a bad --seccomp-action is a usage error"
like "$WH_ERR" "--seccomp-action: 'trap'" "naming the value"

ARM=$WH_TMP/arm
mkfix_text "$ARM" <<'EOF'
layer gzip
file app/run 0755 0 0 "text:#!/bin/sh\n"
config entrypoint ["/app/run"]
config architecture arm64
ref latest
EOF
run_wh build -q --init "oci:$ARM:latest" "oci:$WH_TMP/e6:x"
is "$WH_RC" 1 "--init into an image of another architecture fails"
like "$WH_ERR" "not built for the image's architecture 'arm64'" "and says why"
run_wh build -q --seccomp --report "$WH_TMP/arm.json" "oci:$ARM:latest" "oci:$WH_TMP/arm-out:x"
is "$WH_RC" 0 "--seccomp alone builds a filter for arm64 on this host"
like "$(jq -r '.kept[] | select(.path == "/etc/whittle/seccomp.bpf") | .reason' "$WH_TMP/arm.json")" \
	'^--seccomp: [0-9]+ syscalls \(default\)$' "from the default list when the profile has none"

# --- running it -----------------------------------------------------------------------
# runc_image OCI-DIR NAME: unpacks and runs the image; sets RUN_OUT and RUN_RC.
runc_image() {
	local b=$WH_TMP/bundle-$2 id=whittle-t65-$2-$$
	umoci unpack --image "$1:x" "$b" >"$WH_TMP/umoci.log" 2>&1 || {
		RUN_RC=255 RUN_OUT="umoci unpack failed: $(cat "$WH_TMP/umoci.log")"
		return
	}
	jq '.process.terminal = false | .linux.namespaces |= map(select(.type != "network"))' \
		"$b/config.json" >"$WH_TMP/config.json" && mv "$WH_TMP/config.json" "$b/config.json"
	at_exit "runc delete -f $id"
	RUN_OUT=$(timeout 60 runc run --bundle "$b" "$id" </dev/null 2>"$WH_TMP/runc-$2.err")
	RUN_RC=$?
	diag_file "$WH_TMP/runc-$2.err"
}

if is_root && have runc; then
	runc_image "$OUT" seccomp
	is "$RUN_RC" 7 "the workload's exit code comes back through whittle-init and runc"
	ok "the workload's parent is PID 1" grep -qx 'ppid=1' <<<"$RUN_OUT"
	# /proc/1/cmdline with its NUL separators dropped by the shell
	ok "PID 1 is whittle-init, loading the filter" \
		grep -qx 'pid1=/whittle-init-g--seccomp/etc/whittle/seccomp.bpf--/app/run.shonetwo' <<<"$RUN_OUT"
	like "$RUN_OUT" 'mkdir: cannot create directory .*/tmp/made.*: Operation not permitted' \
		"mkdir, left out of the profile, fails with EPERM"
	like "$RUN_OUT" 'mkdir=1' "and the workload goes on"
	like "$RUN_OUT" 'args: one two' "Cmd reaches the workload"
	ok "the directory was not made" test ! -e "$WH_TMP/bundle-seccomp/rootfs/tmp/made"

	# The same image without the filter: mkdir works, so the EPERM above is the filter's.
	run_wh build -q --compression gzip --profile "$WH_TMP/plain.json" --init "$SRC" "oci:$WH_TMP/plain:x"
	is "$WH_RC" 0 "build --init without --seccomp"
	runc_image "$WH_TMP/plain" plain
	is "$RUN_RC" 7 "without the filter: exit code 7"
	like "$RUN_OUT" 'mkdir=0' "without the filter mkdir works"
	ok "and PID 1 is whittle-init without --seccomp" \
		grep -qx 'pid1=/whittle-init-g--/app/run.shonetwo' <<<"$RUN_OUT"

	run_wh build -q --compression gzip --profile "$WH_TMP/nomkdir.json" --init --seccomp \
		--seccomp-action kill "$SRC" "oci:$WH_TMP/kill:x"
	is "$WH_RC" 0 "build with --seccomp-action kill"
	runc_image "$WH_TMP/kill" kill
	like "$RUN_OUT" "mkdir=$((128 + 31))" "kill: mkdir dies of SIGSYS"
	is "$RUN_RC" 7 "and the workload goes on to its exit code"
else
	skip "runc runs the image under whittle-init" "needs root and runc"
fi

done_testing
