#!/bin/bash
# Hostile and broken inputs. Each must fail with exit 1 and one error naming
# the layer digest and the entry, write nothing outside DEST, and leave an
# existing DEST as it was; usage errors exit 2. A decoy file outside every
# directory whittle is given ($WH_TMP/outside/marker) is what the escapes aim
# at: it must never change.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need jq

OUTSIDE=$WH_TMP/outside
ECHO='["/bin/echo","hi"]'
# A valid, runnable base (layer 0); each case adds its hostile layers after it.
BASE='layer gzip 1
hostbin /bin/echo
config entrypoint ["/bin/echo","hi"]
ref latest'

# check_fail NAME DESTDESC DIGEST ENTRY_RE: asserts the last run failed properly.
check_fail() {
	local name=$1 what=$2 dig=$3 entry=$4
	is "$WH_RC" 1 "$name ($what): exits 1"
	[ "$WH_RC" = 1 ] || diag_file "$WH_TMP/wh.err"
	like "$WH_ERR" '^whittle: ' "$name ($what): the error starts with 'whittle: '"
	is "$(grep '^whittle: ' <<<"$WH_ERR" | grep -vc 'warning' | tr -d ' ')" 1 \
		"$name ($what): the error is printed once"
	[ -z "$dig" ] || like "$WH_ERR" "${dig:7:12}" "$name ($what): names the layer ${dig:0:19}"
	[ -z "$entry" ] || like "$WH_ERR" "$entry" "$name ($what): names the entry (/$entry/)"
}

# hostile NAME LAYER ENTRY_RE: the manifest on stdin is appended to BASE;
# LAYER is the index of the layer the error is about ('-' for none).
hostile() {
	local name=$1 layer=$2 entry=$3 c=$WH_TMP/$1 dig=""
	mkdir -p "$c"
	{ printf '%s\n' "$BASE"; cat; } | mkfix_text "$c/in"
	[ "$layer" = - ] || dig=$(jq -r ".layers[$layer].digest" <<<"$(oci_manifest "$c/in")")
	# existing destinations: an OCI layout (the fixture itself) and a directory
	cp -a "$c/in" "$c/dest-oci"
	mkdir "$c/dest-dir" && echo existing >"$c/dest-dir/existing"
	local s_oci s_dir s_out s_case
	s_oci=$(snapshot "$c/dest-oci")
	s_dir=$(snapshot "$c/dest-dir")
	s_out=$(snapshot "$OUTSIDE")
	s_case=$(ls -A "$c")

	run_wh build --entrypoint "$ECHO" "oci:$c/in:latest" "oci:$c/dest-oci:x"
	check_fail "$name" "oci dest" "$dig" "$entry"
	run_wh build --entrypoint "$ECHO" "oci:$c/in:latest" "dir:$c/dest-dir"
	check_fail "$name" "dir dest" "$dig" "$entry"
	run_wh build --entrypoint "$ECHO" "oci:$c/in:latest" "oci-archive:$c/new.tar"
	check_fail "$name" "oci-archive dest" "$dig" "$entry"

	is "$(snapshot "$c/dest-oci")" "$s_oci" "$name: the existing OCI destination is unchanged"
	is "$(snapshot "$c/dest-dir")" "$s_dir" "$name: the existing dir destination is unchanged"
	is "$(ls -A "$c")" "$s_case" "$name: nothing new next to the destinations"
	is "$(snapshot "$OUTSIDE")" "$s_out" "$name: the decoy outside is untouched"
}

# --- control: the base builds, so the failures below are the hostile parts' --
mkfix_text "$WH_TMP/control" <<<"$BASE"
run_wh build --entrypoint "$ECHO" "oci:$WH_TMP/control:latest" "oci:$WH_TMP/control-out:x"
is "$WH_RC" 0 "control: the base image builds"
diag_file "$WH_TMP/wh.err"

# --- paths ------------------------------------------------------------------
hostile abs-path 1 'outside/marker' <<EOF
layer gzip
raw $OUTSIDE/marker text:pwned
EOF

hostile dotdot-path 1 '\.\./' <<EOF
layer gzip
raw ../../../../../../../../../..$OUTSIDE/marker text:pwned
EOF

hostile dotdot-inner 1 'usr/\.\./\.\./pwned' <<EOF
layer gzip
raw usr/../../pwned text:pwned
EOF

hostile symlink-escape-abs 1 'evil/marker' <<EOF
layer gzip
symlink evil $OUTSIDE
file evil/marker 0644 0 0 text:pwned
EOF

hostile symlink-escape-rel 1 'evil/marker' <<EOF
layer gzip
symlink evil ../../../../../../../../../..$OUTSIDE
file evil/marker 0644 0 0 text:pwned
EOF

# the link comes in one layer, the write through it in the next
hostile symlink-escape-layers 2 'evil/marker' <<EOF
layer gzip
symlink evil $OUTSIDE
layer gzip
file evil/marker 0644 0 0 text:pwned
EOF

hostile hardlink-outside-rel 1 'hl-out' <<EOF
layer gzip
raw-hardlink hl-out ../../../../../../../../../..$OUTSIDE/marker
EOF

hostile hardlink-outside-abs 1 'hl-abs' <<EOF
layer gzip
raw-hardlink hl-abs $OUTSIDE/marker
EOF

hostile hardlink-missing 1 'hl-missing' <<EOF
layer gzip
hardlink hl-missing nowhere/file
EOF

# --- sizes, streams, blobs ----------------------------------------------------
# 1000 TiB: past any cap, and no data follows the header
hostile absurd-size 1 'huge-size' <<EOF
layer gzip
bogus-size huge-size 1099511627776000
EOF

# a plausible size whose data is missing: the stream ends inside the entry
hostile short-entry 1 'short-data' <<EOF
layer gzip
bogus-size short-data 1000000
EOF

hostile truncated-layer 1 '' <<EOF
layer gzip
file big 0644 0 0 rand:300000
corrupt truncate-layer 1
EOF

hostile digest-mismatch 1 '' <<EOF
layer gzip
file data 0644 0 0 text:data
corrupt layer-digest 1
EOF

hostile size-mismatch 1 '' <<EOF
layer gzip
file data 0644 0 0 text:data
corrupt layer-size 1
EOF

hostile missing-blob 1 '' <<EOF
layer gzip
file data 0644 0 0 text:data
corrupt missing-blob 1
EOF

hostile config-json - '[Cc]onfig' <<EOF
corrupt config-json
EOF

hostile missing-config - '[Cc]onfig' <<EOF
corrupt missing-config
EOF

hostile manifest-mediatype - '[Mm]edia ?[Tt]ype|vnd\.example\.bogus' <<EOF
corrupt manifest-mediatype
EOF

# --- device nodes: skipped with a warning (builder/layer_apply.c's ladder) --
c=$WH_TMP/device
mkfix_text "$c" <<EOF
$BASE
layer gzip
dev dev/evil-null c 1 3
dev dev/evil-sda b 8 0
fifo run/ok-fifo 0644 0 0
EOF
run_wh build --dry-run --entrypoint "$ECHO" --keep '/dev/**' --keep '/run/**' "oci:$c:latest" "oci:$WH_TMP/dev-out:x"
is "$WH_RC" 0 "device nodes: the build goes on"
like "$WH_ERR" 'device' "device nodes: a warning says they were skipped"
unlike "$WH_OUT" 'evil-(null|sda)' "device nodes: never kept"
like "$WH_OUT" $'keep\t/run/ok-fifo' "a fifo is an ordinary entry (kept on --keep)"

# --- hostile archives: members that climb out of an unpack directory --------
# payload/<depth>/... so a "../" member name resolves to a file that holds "pwned"
payload=$WH_TMP/payload
mkdir -p "$payload/a/b/c/d/e/f/g/h/i/j$OUTSIDE"
echo pwned >"$payload/a/b/c/d/e/f/g/h/i/j$OUTSIDE/marker"
evil_members() { # ARCHIVE: appends an absolute and a ../ member aimed at the decoy
	tar -P --transform "s|^|$OUTSIDE/|" -rf "$1" -C "$payload/a/b/c/d/e/f/g/h/i/j$OUTSIDE" marker
	tar -P --transform "s|^|../../../../../../../../../..$OUTSIDE/|" -rf "$1" \
		-C "$payload/a/b/c/d/e/f/g/h/i/j$OUTSIDE" marker
}
s_out=$(snapshot "$OUTSIDE")
tar -cf "$WH_TMP/evil-oci.tar" -C "$WH_TMP/control" .
evil_members "$WH_TMP/evil-oci.tar"
run_wh build --entrypoint "$ECHO" "oci-archive:$WH_TMP/evil-oci.tar:latest" "oci:$WH_TMP/ea-out:x"
like "$WH_RC" '^[01]$' "oci-archive with escaping members: refused or ignored (exit $WH_RC)"
is "$(snapshot "$OUTSIDE")" "$s_out" "oci-archive with escaping members: the decoy is untouched"

if have skopeo; then
	skopeo copy -q "oci:$WH_TMP/control:latest" "docker-archive:$WH_TMP/evil-docker.tar:evil:1" \
		>/dev/null 2>&1
	evil_members "$WH_TMP/evil-docker.tar"
	run_wh build --entrypoint "$ECHO" "docker-archive:$WH_TMP/evil-docker.tar" "oci:$WH_TMP/ed-out:x"
	like "$WH_RC" '^[01]$' "docker-archive with escaping members: refused or ignored (exit $WH_RC)"
	is "$(snapshot "$OUTSIDE")" "$s_out" "docker-archive with escaping members: the decoy is untouched"
else
	skip "docker-archive with escaping members" "needs skopeo"
fi

# a tar: source is one layer: its members are entries, and these must be refused
mkdir -p "$WH_TMP/rootfs-src"
echo ok >"$WH_TMP/rootfs-src/file"
tar -cf "$WH_TMP/evil-rootfs.tar" -C "$WH_TMP/rootfs-src" file
evil_members "$WH_TMP/evil-rootfs.tar"
run_wh build --keep /file "tar:$WH_TMP/evil-rootfs.tar" "dir:$WH_TMP/er-out"
check_fail "tar source" "dir dest" "" 'marker'
is "$(snapshot "$OUTSIDE")" "$s_out" "tar: source with escaping members: the decoy is untouched"
ok "tar: source with escaping members: no destination" test ! -e "$WH_TMP/er-out"

# --- references -------------------------------------------------------------
run_wh build --entrypoint "$ECHO" "oci:$WH_TMP/control:nope" "oci:$WH_TMP/ref-out:x"
check_fail "missing REF" "oci dest" "" 'nope'
run_wh build --entrypoint "$ECHO" "oci:$WH_TMP/does-not-exist:latest" "oci:$WH_TMP/ref-out:x"
check_fail "missing source dir" "oci dest" "" 'does-not-exist'
run_wh build --entrypoint "$ECHO" "oci-archive:$WH_TMP/does-not-exist.tar" "oci:$WH_TMP/ref-out:x"
check_fail "missing source archive" "oci dest" "" 'does-not-exist'
ok "failed builds left no destination" test ! -e "$WH_TMP/ref-out"

# --- usage errors: exit 2 ---------------------------------------------------------
usage() { # DESC ARGS...
	local desc=$1
	shift
	run_wh "$@"
	is "$WH_RC" 2 "usage: $desc exits 2"
	[ "$WH_RC" = 2 ] || diag_file "$WH_TMP/wh.err"
	isnt "$WH_ERR" "" "usage: $desc says why on stderr"
}
S="oci:$WH_TMP/control:latest"
D="oci:$WH_TMP/usage-out:x"
usage "no command"
usage "unknown command" frobnicate
usage "build without arguments" build
usage "build with one argument" build "$S"
usage "build with three arguments" build "$S" "$D" extra
usage "unknown option" build --frobnicate "$S" "$D"
usage "bad source transport" build "bogus:$WH_TMP/control" "$D"
usage "unsupported source transport" build "docker://example.org/x:1" "$D"
usage "bad destination transport" build "$S" "bogus:$WH_TMP/x"
usage "tar: as a destination" build "$S" "tar:$WH_TMP/x.tar"
usage "bad --need feature" build --need frobnicate "$S" "$D"
usage "relative --keep" build --keep usr/bin/echo "$S" "$D"
usage "bad compression" build --compression lz4 "$S" "$D"
usage "bad level" build --level abc "$S" "$D"
usage "entrypoint: broken JSON" build --entrypoint '["/bin/echo"' "$S" "$D"
usage "bad --source-date-epoch" build --source-date-epoch yesterday "$S" "$D"
ok "usage errors wrote nothing" test ! -e "$WH_TMP/usage-out"
is "$(snapshot "$OUTSIDE")" "$s_out" "the decoy is untouched after everything"

done_testing
