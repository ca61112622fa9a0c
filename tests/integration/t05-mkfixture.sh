#!/bin/bash
# The fixture tool the other tests stand on: its images must be valid for
# skopeo and umoci, runnable, reproducible, and broken exactly where a
# manifest says so.
WH_NO_WHITTLE=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need jq skopeo umoci

F=$WH_TMP/f
mkdir "$F"
mkfix peer "$F/a"
mkfix peer "$F/b"
ok "same manifest, same bytes" diff -r "$F/a" "$F/b"
ok "skopeo copy verifies every digest and size" skopeo copy -q "oci:$F/a:latest" "oci-archive:$F/a.tar"
ok "umoci unpacks it" umoci unpack --image "$F/a:latest" "$F/bundle"
is "$(cat "$F/bundle/rootfs/etc/greeting")" "hello from a whittled image" "file content (text:)"
is "$(cat "$F/bundle/rootfs/etc/motd")" "second layer" "second layer applied"
is "$(readlink "$F/bundle/rootfs/bin")" "usr/bin" "hostbin keeps the host's /bin -> usr/bin link"
if is_root; then
	is "$(chroot "$F/bundle/rootfs" /bin/sh -c 'echo hi; cat /etc/motd' 2>&1)" "hi"$'\n'"second layer" \
		"hostbin brings the libraries: the image runs in a chroot"
else
	skip "hostbin image runs in a chroot" "needs root"
fi
is "$(jq -c .process.args "$F/bundle/config.json")" \
	'["/bin/sh","-c","cat /etc/greeting; echo args: \"$@\"","sh","one","two"]' "config entrypoint and cmd"

# whiteouts, opaque dirs, mtimes in the basic fixture (gzip + zstd layers)
mkfix basic "$F/basic"
l1=$(oci_manifest "$F/basic" | jq -r '.layers[1].digest')
is "$(zstd -qdc "$F/basic/blobs/sha256/${l1#sha256:}" | tar -tf - | sort | tr '\n' ' ')" \
	"app/.wh.gone app/cache/.wh..wh..opq app/cache/new " "whiteout and opaque markers"
like "$(oci_list "$F/basic" | head -n 1)" '^etc/$' "directories are written with a trailing /"
l0=$(oci_manifest "$F/basic" | jq -r '.layers[0].digest')
like "$(gzip -dc "$F/basic/blobs/sha256/${l0#sha256:}" | tar -tv --full-time -f - | head -n 1)" \
	'2027-01-15 08:00:00' "mtime sets the entries' time"

# docker-archive and hostile corruptions, as peers see them
mkfix_text "$F/d" <<'EOF2'
layer gzip
file a 0644 0 0 text:a
format docker-archive img.tar fx:1
EOF2
like "$(skopeo inspect "docker-archive:$F/d/img.tar" 2>&1)" '"Digest"' "docker-archive output reads in skopeo"
for c in "layer-digest 0" "truncate-layer 0" "missing-blob 0"; do
	mkfix_text "$F/c-${c// /-}" <<EOF2
layer gzip
file a 0644 0 0 rand:100000
corrupt $c
EOF2
	if skopeo copy -q "oci:$F/c-${c// /-}" "oci-archive:$F/c.tar" >/dev/null 2>&1; then
		# a truncated blob with a matching digest copies fine: its gzip stream is what is broken
		if [ "$c" = "truncate-layer 0" ] &&
			! gzip -t "$F/c-${c// /-}/blobs/sha256/$(layer_digest "$F/c-${c// /-}" 0 | cut -d: -f2)" 2>/dev/null; then
			pass "corrupt $c: the gzip stream is cut"
		else
			fail "corrupt $c: skopeo notices"
		fi
	else
		pass "corrupt $c: skopeo notices"
	fi
	rm -f "$F/c.tar"
done
# skopeo 1.9 checks digests but not sizes: look at the descriptor itself
mkfix_text "$F/size" <<'EOF2'
layer gzip
file a 0644 0 0 text:a
corrupt layer-size 0
EOF2
l=$(layer_digest "$F/size" 0)
is "$(oci_manifest "$F/size" | jq .layers[0].size)" "$(($(stat -c %s "$F/size/blobs/sha256/${l#sha256:}") + 1))" \
	"corrupt layer-size 0: the descriptor says one byte more than the blob has"
mkfix_text "$F/h" <<'EOF2'
layer none
raw ../../up text:x
raw /abs text:x
bogus-size huge 1099511627776000
EOF2
l=$(layer_digest "$F/h" 0)
is "$(head -c 100 "$F/h/blobs/sha256/${l#sha256:}" | tr -d '\0')" "../../up" "raw names are written verbatim"
like "$(tar -tvf "$F/h/blobs/sha256/${l#sha256:}" 2>&1)" '1099511627776000' "bogus-size claims the size"

# manifest mistakes are errors with a line number, and OUTDIR must be new or empty
printf 'layer gzip\nfrobnicate x\n' >"$WH_TMP/bad.manifest"
out=$("$MKFIXTURE" "$WH_TMP/bad.manifest" "$F/bad" 2>&1)
like "$out" 'bad.manifest:2: unknown directive' "unknown directive: an error naming the line"
printf 'layer gzip\nfile ../x 0644 0 0 text:x\n' >"$WH_TMP/bad2.manifest"
out=$("$MKFIXTURE" "$WH_TMP/bad2.manifest" "$F/bad2" 2>&1)
like "$out" 'not clean' "an unclean path needs 'raw'"
out=$("$MKFIXTURE" "$FIXTURES/peer.manifest" "$F/a" 2>&1)
like "$out" 'not empty' "a non-empty OUTDIR is refused"

done_testing
