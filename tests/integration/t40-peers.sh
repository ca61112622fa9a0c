#!/bin/bash
# whittle's outputs read by real clients written by others (skopeo, umoci,
# podman) and run by runc; and whittle reading what those clients write
# (oci-archive, docker-archive) plus plain rootfs sources (dir:, tar:).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need jq skopeo umoci

IN=$WH_TMP/in
mkfix peer "$IN"
SRC="oci:$IN:latest"
KEEP=(--keep /etc/greeting --keep /usr/bin/cat --keep /etc/passwd)
GREETING="hello from a whittled image"
OUT=$WH_TMP/out

run_wh build --compression gzip "${KEEP[@]}" --report "$WH_TMP/report.json" "$SRC" "oci:$OUT:x"
is "$WH_RC" 0 "gzip build of the peer fixture"
diag_file "$WH_TMP/wh.err"
mdigest=$(oci_manifest_digest "$OUT" x)

# --- skopeo -------------------------------------------------------------------
insp=$(skopeo inspect "oci:$OUT:x" 2>"$WH_TMP/skopeo.err")
is "$?" 0 "skopeo inspect oci:OUT:x"
diag_file "$WH_TMP/skopeo.err"
is "$(jq -r .Digest <<<"$insp")" "$mdigest" "skopeo sees the manifest digest of index.json"
is "$(jq '.Layers | length' <<<"$insp")" 1 "skopeo sees one layer"
is "$(skopeo inspect --config "oci:$OUT:x" 2>/dev/null | jq -c .config.Entrypoint)" \
	"$(jq -c .config.Entrypoint "$IN/blobs/sha256/$(oci_manifest "$IN" | jq -r .config.digest | cut -d: -f2)")" \
	"skopeo sees the image's entrypoint carried over"
ok "skopeo copy oci: -> oci-archive: (digests verified)" \
	skopeo copy -q "oci:$OUT:x" "oci-archive:$WH_TMP/copy.tar:x"
ok "skopeo copy oci: -> dir:" skopeo copy -q "oci:$OUT:x" "dir:$WH_TMP/skopeo-dir"
ok "skopeo's dir: copy has a manifest and the layer" test -s "$WH_TMP/skopeo-dir/manifest.json" -a \
	-s "$WH_TMP/skopeo-dir/$(layer_digest "$OUT" 0 | cut -d: -f2)"

# whittle's own archives, read by skopeo
run_wh build -q --compression gzip "${KEEP[@]}" "$SRC" "oci-archive:$WH_TMP/wh-oci.tar:x"
is "$WH_RC" 0 "build to oci-archive:"
ok "skopeo inspect oci-archive: (whittle's)" skopeo inspect "oci-archive:$WH_TMP/wh-oci.tar:x"
run_wh build -q "${KEEP[@]}" "$SRC" "docker-archive:$WH_TMP/wh-docker.tar:whittle/peer:1"
is "$WH_RC" 0 "build to docker-archive:"
ok "skopeo inspect docker-archive: (whittle's)" skopeo inspect "docker-archive:$WH_TMP/wh-docker.tar"

# --- umoci --------------------------------------------------------------------------
BUNDLE=$WH_TMP/bundle
ok "umoci unpack of the gzip output" umoci unpack --image "$OUT:x" "$BUNDLE"
is "$(cat "$BUNDLE/rootfs/etc/greeting" 2>/dev/null)" "$GREETING" "the unpacked rootfs has /etc/greeting"
ok "the unpacked rootfs has no docs" test ! -e "$BUNDLE/rootfs/usr/share/doc/README"
ok "the unpacked rootfs has no unrelated program" test ! -e "$BUNDLE/rootfs/usr/bin/tic"
ok "the unpacked rootfs has /bin/sh (a symlink chain to dash)" test -L "$BUNDLE/rootfs/bin"

# --- runc ---------------------------------------------------------------------------
if is_root && have runc; then
	# the image's process, without a terminal or a network namespace to set up
	jq '.process.terminal = false
	    | .linux.namespaces |= map(select(.type != "network"))' \
		"$BUNDLE/config.json" >"$WH_TMP/config.json" && mv "$WH_TMP/config.json" "$BUNDLE/config.json"
	id=whittle-it-$$
	at_exit "runc delete -f $id"
	out=$(timeout 60 runc run --bundle "$BUNDLE" "$id" </dev/null 2>"$WH_TMP/runc.err")
	is "$?" 0 "runc runs the whittled image"
	diag_file "$WH_TMP/runc.err"
	is "$out" "$GREETING"$'\n'"args: one two" "the workload prints its greeting and Cmd"
else
	skip "runc runs the whittled image" "needs root and runc"
fi

# --- podman -------------------------------------------------------------------------
if is_root && have podman; then
	P=$WH_TMP/podman
	pod() {
		podman --root "$P/root" --runroot "$P/runroot" --storage-driver vfs \
			--cgroup-manager cgroupfs --events-backend none "$@"
	}
	at_exit "podman --root $P/root --runroot $P/runroot --storage-driver vfs rmi -a -f"
	ok "podman load -i of the docker-archive output" pod load -q -i "$WH_TMP/wh-docker.tar"
	like "$(pod images --format '{{.Repository}}:{{.Tag}}' 2>&1)" 'whittle/peer:1' \
		"podman lists the loaded image by its name:tag"
	ok "podman load -i of the oci-archive output" pod load -q -i "$WH_TMP/wh-oci.tar"
else
	skip "podman load of the archives" "needs root and podman"
fi

# --- sources written by others, and rootfs sources ---------------------------------------
kept_of() { jq -r '.kept[].path' "$1" | sort; }
want=$(kept_of "$WH_TMP/report.json")
from_source() { # NAME REF: builds REF with the same options; compares the kept set
	local name=$1 ref=$2
	shift 2
	run_wh build -q --compression gzip "${KEEP[@]}" "$@" --report "$WH_TMP/r-$name.json" \
		"$ref" "oci:$WH_TMP/out-$name:x"
	is "$WH_RC" 0 "$name source builds"
	[ "$WH_RC" = 0 ] || diag_file "$WH_TMP/wh.err"
	is "$(kept_of "$WH_TMP/r-$name.json" 2>/dev/null)" "$want" "$name source: same kept set as oci:"
}
ok "skopeo copy fixture -> oci-archive:" skopeo copy -q "$SRC" "oci-archive:$WH_TMP/src-oci.tar:latest"
from_source oci-archive "oci-archive:$WH_TMP/src-oci.tar:latest"
ok "skopeo copy fixture -> docker-archive:" skopeo copy -q "$SRC" "docker-archive:$WH_TMP/src-docker.tar:fx:1"
from_source docker-archive "docker-archive:$WH_TMP/src-docker.tar"
from_source docker-archive-tag "docker-archive:$WH_TMP/src-docker.tar:fx:1"

# a rootfs directory and a rootfs tarball carry no config: the entrypoint comes from the command line
EP=$(jq -c .config.Entrypoint "$IN/blobs/sha256/$(oci_manifest "$IN" | jq -r .config.digest | cut -d: -f2)")
ok "umoci unpack of the fixture (a rootfs source)" umoci unpack --image "$IN:latest" "$WH_TMP/src-bundle"
from_source dir "dir:$WH_TMP/src-bundle/rootfs" --entrypoint "$EP"
ok "tar of that rootfs" tar -C "$WH_TMP/src-bundle/rootfs" -cf "$WH_TMP/rootfs.tar" .
from_source tar "tar:$WH_TMP/rootfs.tar" --entrypoint "$EP"

# --- dir: destination, run inside a chroot (reads only) -----------------------------------
run_wh build -q "${KEEP[@]}" "$SRC" "dir:$WH_TMP/rootfs-out"
is "$WH_RC" 0 "build to dir:"
if is_root; then
	is "$(chroot "$WH_TMP/rootfs-out" /bin/sh -c 'cat /etc/greeting' 2>&1)" "$GREETING" \
		"the dir: output runs in a chroot"
else
	skip "the dir: output runs in a chroot" "needs root"
fi

done_testing
