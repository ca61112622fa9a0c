#!/bin/bash
# Same input, same options, same SOURCE_DATE_EPOCH: same bytes, same digests.
# A different epoch or compression gives a different image.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need jq

IN=$WH_TMP/in
mkfix basic "$IN"
SRC="oci:$IN:latest"
ECHO='["/bin/echo","hi"]'
unset SOURCE_DATE_EPOCH

# build NAME [OPTIONS...]: builds into $WH_TMP/NAME and prints the manifest digest
build() {
	local name=$1
	shift
	run_wh build -q --entrypoint "$ECHO" "$@" "$SRC" "oci:$WH_TMP/$name:x"
	if [ "$WH_RC" != 0 ]; then
		diag "build $name failed ($WH_RC): $WH_ERR"
		echo "failed-$name"
		return
	fi
	oci_manifest_digest "$WH_TMP/$name" x
}

for comp in zstd gzip none; do
	a=$(build "$comp-1" --compression "$comp")
	b=$(build "$comp-2" --compression "$comp")
	like "$a" '^sha256:[0-9a-f]{64}$' "$comp: the build gives a manifest digest"
	is "$b" "$a" "$comp: two builds give the same manifest digest"
	ok "$comp: the two layouts are byte-identical" diff -r "$WH_TMP/$comp-1" "$WH_TMP/$comp-2"
done
isnt "$(build z3 --compression zstd)" "$(build g3 --compression gzip)" "zstd and gzip images differ"

# a fresh copy of the source (other inode numbers, other directory) changes nothing
cp -a "$IN" "$WH_TMP/in-copy"
run_wh build -q --entrypoint "$ECHO" "oci:$WH_TMP/in-copy:latest" "oci:$WH_TMP/copy-out:x"
is "$(oci_manifest "$WH_TMP/copy-out" x | jq -c '[.config.digest, .layers[].digest]')" \
	"$(oci_manifest "$WH_TMP/zstd-1" x | jq -c '[.config.digest, .layers[].digest]')" \
	"a copy of the source in another place gives the same config and layer"
is "$(oci_manifest_digest "$WH_TMP/copy-out" x)" "$(oci_manifest_digest "$WH_TMP/zstd-1" x)" \
	"a copy of the source in another place gives the same manifest digest"

# SOURCE_DATE_EPOCH, from the environment and from the option
e1=$(SOURCE_DATE_EPOCH=1000000000 build e1)
e1b=$(SOURCE_DATE_EPOCH=1000000000 build e1b)
e2=$(SOURCE_DATE_EPOCH=1700000000 build e2)
is "$e1b" "$e1" "same SOURCE_DATE_EPOCH: same digest"
isnt "$e2" "$e1" "another SOURCE_DATE_EPOCH: another digest"
o1=$(build o1 --source-date-epoch 1000000000)
is "$o1" "$e1" "--source-date-epoch N equals SOURCE_DATE_EPOCH=N"
o2=$(SOURCE_DATE_EPOCH=1700000000 build o2 --source-date-epoch 1000000000)
is "$o2" "$e1" "--source-date-epoch wins over the environment"

cfg() { oci_manifest "$WH_TMP/$1" x | jq -r .config.digest; }
created=$(jq -r .created "$WH_TMP/e2/blobs/sha256/$(cfg e2 | cut -d: -f2)")
is "$created" "2023-11-14T22:13:20Z" "config.created is the epoch (1700000000)"
# layer mtimes are clamped to the epoch: nothing in the layer is newer
newest=$(zstd -qdc "$WH_TMP/e1/blobs/sha256/$(oci_manifest "$WH_TMP/e1" x | jq -r '.layers[0].digest' | cut -d: -f2)" |
	tar -tv --full-time -f - | awk '{print $4" "$5}' | sort | tail -n 1)
ok "no layer entry is newer than the epoch (newest: $newest)" \
	test "$(date -u -d "$newest" +%s)" -le 1000000000

done_testing
