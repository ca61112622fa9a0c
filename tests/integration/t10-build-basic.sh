#!/bin/bash
# whittle build on a small two-layer fixture (tests/fixtures/basic.manifest):
# what is kept and why, what is dropped, whiteouts and opaque directories
# across layers, symlinked directories (/bin, /lib64 -> usr/...), and that
# --dry-run and --report agree with the written image.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need jq zstd

IN=$WH_TMP/in
mkfix basic "$IN"
SRC="oci:$IN:latest"
ECHO='["/bin/echo","hi"]'

# keep/drop path sets from --dry-run output on stdin
keep_set() { awk -F'\t' '$1 == "keep" { print $2 }' | sort; }
drop_set() { awk -F'\t' '$1 == "drop" { print $2 }' | sort; }
has() { grep -qxF -- "$2" <<<"$1"; }

# --- dry run -------------------------------------------------------------
run_wh build --dry-run --entrypoint "$ECHO" "$SRC" "oci:$WH_TMP/dry:x"
is "$WH_RC" 0 "dry-run exits 0"
diag_file "$WH_TMP/wh.err"
ok "dry-run writes no destination" test ! -e "$WH_TMP/dry"
bad=$(printf '%s\n' "$WH_OUT" | grep -Ev $'^(keep\t/[^\t]+\t[^\t]+|drop\t/[^\t]+)$' | head -5)
is "$bad" "" "every dry-run line is 'keep<TAB>/path<TAB>reason' or 'drop<TAB>/path'"
keeps=$(keep_set <<<"$WH_OUT")
drops=$(drop_set <<<"$WH_OUT")
both=$(comm -12 <(echo "$keeps") <(echo "$drops"))
is "$both" "" "no path is both kept and dropped"

for p in /usr/bin/echo /bin /lib64 /lib /usr/lib64/ld-linux-x86-64.so.2 \
	/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /usr/lib/x86_64-linux-gnu/libc.so.6; do
	if has "$keeps" "$p"; then pass "dry-run keeps $p"; else fail "dry-run keeps $p"; fi
done
for p in /usr/share/doc/junk/README /usr/share/man/man1/junk.1.gz /usr/bin/tic \
	/opt/data/blob.bin /app/run.sh /usr/bin/dash /app/cache/new; do
	if has "$drops" "$p"; then pass "dry-run drops $p"; else fail "dry-run drops $p"; fi
done
libtic=$(grep -c '^/usr/lib/x86_64-linux-gnu/libtic' <<<"$keeps")
is "$libtic" 0 "the unrelated program's own library is not kept"
for p in /app/gone /app/cache/old /app/cache/old2; do
	if has "$keeps" "$p" || has "$drops" "$p"; then
		fail "$p (removed by layer 1) is not in the merged tree"
	else
		pass "$p (removed by layer 1) is not in the merged tree"
	fi
done
unlike "$WH_OUT" '/\.wh\.' "no whiteout marker appears as a file"

# --- real build with a report -------------------------------------------
OUT=$WH_TMP/out
R=$WH_TMP/report.json
run_wh build --entrypoint "$ECHO" --report "$R" "$SRC" "oci:$OUT:x"
is "$WH_RC" 0 "build exits 0"
diag_file "$WH_TMP/wh.err"
ok "report is valid JSON" jq -e . "$R"
is "$(jq -r .version "$R")" "$("$WHITTLE" --version | awk '{print $2}')" "report version is whittle's"
is "$(jq -r .source.layers "$R")" 2 "report: source has 2 layers"
is "$(jq -r .result.compression "$R")" zstd "report: default compression is zstd"
is "$(jq -c .entrypoint "$R")" "$ECHO" "report: entrypoint"
rkeeps=$(jq -r '.kept[].path' "$R" | sort)
is "$rkeeps" "$keeps" "report's kept set equals the dry run's"
is "$(jq '[.kept[] | select((.reason // "") == "")] | length' "$R")" 0 "every kept path has a reason"
is "$(jq -r '.kept[] | select(.path == "/bin") | .type' "$R")" symlink "/bin is kept as a symlink"
is "$(jq -r '.kept[] | select(.path == "/lib64") | .type' "$R")" symlink "/lib64 is kept as a symlink"
is "$(jq -r '.kept[] | select(.path == "/usr/bin/echo") | .size' "$R")" \
	"$(stat -c %s /usr/bin/echo)" "report: size of /usr/bin/echo"
ok "report: dropped files > 0" jq -e '.dropped.files > 0' "$R"
ok "report: dropped bytes cover the junk (>= 123000)" jq -e '.dropped.bytes >= 123000' "$R"
ok "report: result is smaller than the source" jq -e '.result.bytes < .source.bytes' "$R"
is "$(jq -r .result.manifest_digest "$R")" "$(oci_manifest_digest "$OUT" x)" \
	"report's manifest digest is the one in index.json"

is "$(oci_manifest "$OUT" x | jq '.layers | length')" 1 "output has one layer"
like "$(oci_manifest "$OUT" x | jq -r '.layers[0].mediaType')" 'tar\+zstd$' "output layer is zstd"
listing=$(oci_list "$OUT" x | sed 's|^\./||; s|/$||' | sort)
ok "output layer lists usr/bin/echo" grep -qx usr/bin/echo <<<"$listing"
ok "output layer keeps the lib64 symlink" grep -qx lib64 <<<"$listing"
unlike "$listing" '^(usr/share/doc|opt/data|usr/bin/tic|app/)' "junk is not in the output layer"
unlike "$listing" '\.wh\.' "no whiteout marker in the output layer"
cfg=$(oci_manifest "$OUT" x | jq -r .config.digest)
is "$(jq -c .config.Entrypoint "$OUT/blobs/sha256/${cfg#sha256:}")" "$ECHO" "output config Entrypoint"

# --- the image's own entrypoint, a script, a --keep glob -------------------
run_wh build --dry-run "$SRC" "oci:$WH_TMP/dry2:x"
is "$WH_RC" 0 "dry-run with the image's own entrypoint exits 0"
k2=$(keep_set <<<"$WH_OUT")
if has "$k2" /usr/bin/echo && ! has "$k2" /usr/bin/dash; then
	pass "image entrypoint /bin/echo: echo kept, dash not"
else
	fail "image entrypoint /bin/echo: echo kept, dash not" "$k2"
fi

run_wh build --dry-run --entrypoint /app/run.sh "$SRC" "oci:$WH_TMP/dry3:x"
is "$WH_RC" 0 "dry-run with a script entrypoint (plain word) exits 0"
k3=$(keep_set <<<"$WH_OUT")
for p in /app/run.sh /usr/bin/dash /usr/bin/sh /bin /usr/lib/x86_64-linux-gnu/libc.so.6; do
	if has "$k3" "$p"; then pass "script entrypoint keeps $p"; else fail "script entrypoint keeps $p"; fi
done
like "$(printf '%s\n' "$WH_OUT" | awk -F'\t' '$2 == "/app/run.sh" { print $3 }')" \
	'(entrypoint|Entrypoint|cmd)' "the entrypoint's reason says so"

run_wh build --dry-run --entrypoint "$ECHO" --keep '/opt/data/**' "$SRC" "oci:$WH_TMP/dry4:x"
is "$WH_RC" 0 "dry-run with --keep exits 0"
like "$(printf '%s\n' "$WH_OUT" | awk -F'\t' '$1 == "keep" && $2 == "/opt/data/blob.bin" { print $3 }')" \
	'keep' "--keep '/opt/data/**' keeps blob.bin, with the keep as reason"

# --- gzip output ---------------------------------------------------------------
run_wh build -q --compression gzip --entrypoint "$ECHO" "$SRC" "oci:$WH_TMP/gz:x"
is "$WH_RC" 0 "gzip build exits 0"
is "$WH_ERR" "" "-q prints nothing on success"
like "$(oci_manifest "$WH_TMP/gz" x | jq -r '.layers[0].mediaType')" 'tar\+gzip$' "gzip layer media type"
ok "gzip output lists usr/bin/echo" grep -q 'usr/bin/echo' <<<"$(oci_list "$WH_TMP/gz" x)"

# --- an entrypoint that is not in the image: said on stderr -------------------------
run_wh build --dry-run --entrypoint '["/usr/bin/nosuchprog"]' "$SRC" "oci:$WH_TMP/dry5:x"
like "$WH_ERR" 'nosuchprog' "a missing absolute entrypoint is reported"
run_wh build --dry-run --entrypoint '["nosuchprog"]' "$SRC" "oci:$WH_TMP/dry6:x"
like "$WH_ERR" 'nosuchprog' "a bare-word entrypoint missing from PATH is reported"

# --- hard links across layers -------------------------------------------------------
# layer 1 replaces data/orig: data/link keeps layer 0's content (as overlayfs
# shows it); layer 1 deletes data/gone: data/alive, its hard link, stays.
HL=$WH_TMP/hardlinks
mkfix_text "$HL" <<'EOF'
layer gzip
hostbin /bin/echo
file data/orig 0644 0 0 text:original
hardlink data/link data/orig
file data/gone 0644 0 0 text:survivor
hardlink data/alive data/gone
file data/same 0644 0 0 text:same
hardlink data/same2 data/same
layer gzip
file data/orig 0644 0 0 text:replaced
whiteout data/gone
config entrypoint ["/bin/echo","hi"]
ref latest
EOF
# layer_cat DIR PATH [MEMBER...]: PATH's content in the (uncompressed) layer
# of DIR's image x; extra members let tar resolve a hard link's target.
layer_cat() {
	local dir=$1 path=$2 tmp=$WH_TMP/layer-cat layer
	shift 2
	rm -rf "$tmp" && mkdir "$tmp" || return
	layer=$(oci_manifest "$dir" x | jq -r '.layers[0].digest')
	tar -xf "$dir/blobs/sha256/${layer#sha256:}" -C "$tmp" "$path" "$@" 2>/dev/null
	cat "$tmp/$path" 2>/dev/null
}
run_wh build -q --compression none --keep /data/same2 "oci:$HL:latest" "oci:$WH_TMP/hl1:x"
is "$WH_RC" 0 "hard links within a layer: build exits 0"
is "$(layer_cat "$WH_TMP/hl1" data/same2 data/same)" same "hard link within a layer: content"
run_wh build -q --compression none --keep /data/orig --keep /data/link "oci:$HL:latest" \
	"oci:$WH_TMP/hl2:x"
is "$WH_RC" 0 "hard link, target replaced in a later layer: build exits 0"
is "$(layer_cat "$WH_TMP/hl2" data/orig data/link)" replaced "the replaced path has the new content"
is "$(layer_cat "$WH_TMP/hl2" data/link data/orig)" original "the link keeps the lower layer's content"
run_wh build -q --compression none --keep /data/alive "oci:$HL:latest" "oci:$WH_TMP/hl3:x"
is "$WH_RC" 0 "hard link, target deleted in a later layer: build exits 0"
[ "$WH_RC" = 0 ] || diag "$WH_ERR"
is "$(layer_cat "$WH_TMP/hl3" data/alive)" survivor "the surviving link has the content"

done_testing
