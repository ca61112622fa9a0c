#!/bin/bash
# A real Debian image with Python (the AL2023 stand-in from
# benchmarks/make-samples, or, without it, an mmdebstrap rootfs cached under
# build/): whittled with the python3 profile it must shrink and still run
# ssl, sqlite3 and ctypes under runc. The same rootfs is also repacked by
# mkfixture's `tarball` directive into a one-layer zstd image and written to a
# dir: destination that runc runs as its bundle's rootfs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
need jq runc umoci

PYCHECK='import ssl, sqlite3, ctypes; print("ok")'

# --- the source image ---------------------------------------------------------------
if [ -x "$WH_TOP/benchmarks/make-samples" ]; then
	SRC=$("$WH_TOP/benchmarks/make-samples" -q --print al2023-python 2>"$WH_TMP/samples.log" | tail -n 1)
	if [ -z "$SRC" ]; then
		debian_reachable || skip_all "needs network to a Debian mirror (make-samples failed)"
		bail "benchmarks/make-samples failed: $(tail -n 5 "$WH_TMP/samples.log")"
	fi
else
	need mmdebstrap
	cache=$WH_BUILD/t50
	rootfs=$cache/bookworm-python3.tar
	if [ ! -s "$rootfs" ]; then
		debian_reachable || skip_all "needs network to a Debian mirror (mmdebstrap)"
		mkdir -p "$cache"
		SOURCE_DATE_EPOCH=1704067200 mmdebstrap --mode=root --variant=minbase \
			--include=python3,ca-certificates --skip=output/dev bookworm "$rootfs.tmp" \
			</dev/null >"$WH_TMP/mmdebstrap.log" 2>&1 ||
			bail "mmdebstrap failed: $(tail -n 5 "$WH_TMP/mmdebstrap.log")"
		mv "$rootfs.tmp" "$rootfs"
	fi
	mkfix_text "$WH_TMP/debian" <<EOF
layer gzip 1
tarball $rootfs
config entrypoint ["/usr/bin/python3","-c","print('ready')"]
config env ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"]
ref latest
EOF
	SRC="oci:$WH_TMP/debian:latest"
fi
SRCDIR=${SRC#oci:}
SRCDIR=${SRCDIR%:*}
diag "source image: $SRC"

# runc_run BUNDLE ARGS_JSON: runs ARGS in the bundle, prints stdout
runc_run() {
	local b=$1 id=whittle-t50-$$-$RANDOM
	jq --argjson a "$2" '.process.terminal = false | .process.args = $a
		| .linux.namespaces |= map(select(.type != "network"))' \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
	at_exit "runc delete -f $id"
	timeout 120 runc run --bundle "$b" "$id" </dev/null 2>"$WH_TMP/runc.err"
}

# --- the make-samples (or mmdebstrap) image, whittled to a gzip OCI image ------------------
R=$WH_TMP/report.json
start=$(date +%s)
run_wh build --profile python3 --compression gzip --report "$R" "$SRC" "oci:$WH_TMP/out:x"
is "$WH_RC" 0 "whittle build --profile python3 of the Debian image"
diag_file "$WH_TMP/wh.err"
diag "build took $(($(date +%s) - start)) s"
ok "the result has fewer bytes than the source" jq -e '.result.bytes < .source.bytes' "$R"
ok "the result has fewer files than the source" jq -e '.result.files < .source.files' "$R"
ok "the result's layer is smaller than the source's layers" \
	jq -e '.result.compressed_bytes < .source.compressed_bytes' "$R"
diag "$(jq -r '"files \(.source.files) -> \(.result.files), bytes \(.source.bytes) -> \(.result.bytes), compressed \(.source.compressed_bytes) -> \(.result.compressed_bytes)"' "$R" 2>/dev/null)"
ok "python3 is kept" jq -e '[.kept[].path] | index("/usr/bin/python3") != null' "$R"
is "$(jq '[.kept[].path | select(test("^/usr/share/(doc|man)/"))] | map(select(test("copyright$") | not)) | length' "$R")" \
	0 "no documentation or man pages are kept"
is "$(jq '[.kept[].path | select(test("/(test|idlelib|tkinter)/"))] | length' "$R")" 0 \
	"the profile's drops hold (no test/, idlelib/, tkinter/)"

B=$WH_TMP/bundle
ok "umoci unpack of the whittled image" umoci unpack --image "$WH_TMP/out:x" "$B"
out=$(runc_run "$B" "$(jq -nc --arg c "$PYCHECK" '["/usr/bin/python3","-c",$c]')")
is "$out" ok "python3 -c 'import ssl, sqlite3, ctypes' in the whittled image under runc"
diag_file "$WH_TMP/runc.err"
# the image's own entrypoint and cmd
cfg=$(oci_manifest "$WH_TMP/out" x | jq -r .config.digest)
args=$(jq -c '(.config.Entrypoint // []) + (.config.Cmd // [])' "$WH_TMP/out/blobs/sha256/${cfg#sha256:}")
out=$(runc_run "$B" "$args")
like "$out" 'ready' "the image's own workload ($args) runs and gets ready"
diag_file "$WH_TMP/runc.err"

# --- the same rootfs through mkfixture's tarball directive, to a dir: destination ------------
base=$(oci_manifest "$SRCDIR" "${SRC##*:}" | jq -r '.layers[0].digest')
mkfix_text "$WH_TMP/repack" <<EOF
layer zstd 1
tarball $SRCDIR/blobs/sha256/${base#sha256:}
config env ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
ref latest
EOF
B2=$WH_TMP/bundle2
mkdir -p "$B2"
run_wh build -q --profile python3 --entrypoint /usr/bin/python3 --report "$WH_TMP/r2.json" \
	"oci:$WH_TMP/repack:latest" "dir:$B2/rootfs"
is "$WH_RC" 0 "whittle build of the repacked (one zstd layer) image to dir:"
diag_file "$WH_TMP/wh.err"
ok "dir: result is smaller" jq -e '.result.bytes < .source.bytes' "$WH_TMP/r2.json"
ok "runc spec for the dir: rootfs" runc spec --bundle "$B2"
out=$(runc_run "$B2" "$(jq -nc --arg c "$PYCHECK" '["/usr/bin/python3","-c",$c]')")
is "$out" ok "python3 imports ssl, sqlite3, ctypes in the dir: output under runc"
diag_file "$WH_TMP/runc.err"

# --- the shipped profiles, proven by whittle verify on this Debian image ---------------------
# verify runs the profile's smoke command (or the image's entrypoint) in the whittled image under
# the tracer, with the profile's syscall allowlist enforced, and fails on a path the workload
# looks up that the original has and the result lacks.
run_wh verify --profile python3 "$SRC" "oci:$WH_TMP/out:x"
is "$WH_RC" 0 "whittle verify --profile python3: smoke test and lookups"
[ "$WH_RC" = 0 ] || diag_file "$WH_TMP/wh.err"
run_wh verify "$SRC" "oci:$WH_TMP/out:x"
is "$WH_RC" 0 "whittle verify of the image's own workload"
[ "$WH_RC" = 0 ] || diag_file "$WH_TMP/wh.err"

run_wh build -q --profile shell --entrypoint '["/bin/sh","-c","echo shell ready"]' \
	--report "$WH_TMP/rs.json" "$SRC" "oci:$WH_TMP/shell:x"
is "$WH_RC" 0 "whittle build --profile shell of the Debian image"
ok "the shell image keeps no python" jq -e '[.kept[].path] | index("/usr/bin/python3") == null' "$WH_TMP/rs.json"
run_wh verify --profile shell "$SRC" "oci:$WH_TMP/shell:x"
is "$WH_RC" 0 "whittle verify --profile shell: coreutils, nss and /tmp work"
[ "$WH_RC" = 0 ] || diag_file "$WH_TMP/wh.err"

# static: a static program added on top of the Debian image keeps only itself
mkfix_text "$WH_TMP/static-src" <<EOF
layer gzip 1
tarball $SRCDIR/blobs/sha256/${base#sha256:}
layer gzip
dir    usr/local/bin 0755 0 0
file   usr/local/bin/busybox 0755 0 0 host:/bin/busybox
config entrypoint ["/usr/local/bin/busybox","echo","static ready"]
config env ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
ref latest
EOF
run_wh build -q --profile static --report "$WH_TMP/rst.json" "oci:$WH_TMP/static-src:latest" \
	"oci:$WH_TMP/static:x"
is "$WH_RC" 0 "whittle build --profile static"
ok "the static image holds a handful of files ($(jq .result.files "$WH_TMP/rst.json"))" \
	jq -e '.result.files < 12' "$WH_TMP/rst.json"
run_wh verify --profile static --expect "static ready" "oci:$WH_TMP/static-src:latest" "oci:$WH_TMP/static:x"
is "$WH_RC" 0 "whittle verify --profile static runs the program"
[ "$WH_RC" = 0 ] || diag_file "$WH_TMP/wh.err"

done_testing
