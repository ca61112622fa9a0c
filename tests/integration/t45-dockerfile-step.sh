#!/bin/bash
# The Dockerfile use: the static whittle copied into a build stage, run there
# as `whittle build dir:/ dir:/out`, and the result run on its own. A chroot
# stands in for the build stage (it is what a RUN step sees of its root).
. "$(dirname "$0")/lib.sh"
need_root
need jq

static=$WH_TOP/build-static/whittle
if [ ! -x "$static" ]; then
	make -s -C "$WH_TOP" static >"$WH_TMP/make.log" 2>&1 || bail "make static: $(tail -5 "$WH_TMP/make.log")"
fi
is "$(file -b "$static" | grep -c 'statically linked')" 1 "make static gives a statically linked whittle"

# The build stage: a shell and a few tools from this host, an application
# file and documentation, everything kept.
mkfix_text "$WH_TMP/in" <<'MANIFEST'
layer gzip
dir    etc 0755 0 0
file   etc/passwd 0644 0 0 "text:root:x:0:0:root:/root:/bin/sh\n"
file   etc/group 0644 0 0 "text:root:x:0:\n"
file   etc/greeting 0644 0 0 "text:hello from a whittled image\n"
hostbin /bin/sh /bin/cat /bin/mkdir /bin/chmod
dir    usr/share 0755 0 0
dir    usr/share/doc 0755 0 0
file   usr/share/doc/README 0644 0 0 rand:50000
config env ["PATH=/usr/local/bin:/usr/bin:/bin"]
ref latest
MANIFEST
stage=$WH_TMP/stage
run_wh build -q --keep '/**' "oci:$WH_TMP/in:latest" "dir:$stage"
is "$WH_RC" 0 "a build stage root from the fixture"
[ "$WH_RC" = 0 ] || bail "$WH_ERR"

# Copy whittle and a profile in from inside the chroot: nothing is written
# through the stage's own (absolute) symlinks.
chroot "$stage" /bin/sh -c 'mkdir -p /usr/local/bin /whittle && cat >/usr/local/bin/whittle && chmod 755 /usr/local/bin/whittle' <"$static"
chroot "$stage" /bin/sh -c 'cat >/whittle/shell.json' <"$WH_TOP/profiles/shell.json"

chroot "$stage" /usr/local/bin/whittle build -q --profile /whittle/shell.json --keep /etc/greeting \
	--entrypoint '["/bin/sh","-c","cat /etc/greeting"]' --report /whittle/report.json \
	dir:/ dir:/out >"$WH_TMP/out.log" 2>&1
rc=$?
is "$rc" 0 "whittle build dir:/ dir:/out inside the stage"
[ "$rc" = 0 ] || diag_file "$WH_TMP/out.log"

out=$stage/out
ok "the result has /etc/greeting" test -f "$out/etc/greeting"
ok "the result has a shell" test -e "$out/bin/sh" -o -L "$out/bin/sh"
ok "the destination did not index itself" test ! -e "$out/out"
ok "documentation was dropped" test ! -e "$out/usr/share/doc/README"
ok "the profile directory was not kept" test ! -e "$out/whittle"
is "$(chroot "$out" /bin/sh -c 'cat /etc/greeting')" "hello from a whittled image" \
	"the whittled tree runs its workload on its own"
before=$(jq .source.bytes "$stage/whittle/report.json")
after=$(jq .result.bytes "$stage/whittle/report.json")
ok "the result is smaller ($after of $before bytes)" test "$after" -lt "$before"

# Running it again replaces /out (a RUN step re-run, /out not empty).
chroot "$stage" /usr/local/bin/whittle build -q --profile /whittle/shell.json --keep /etc/greeting \
	dir:/ dir:/out >"$WH_TMP/out2.log" 2>&1
is "$?" 0 "a second build over a non-empty /out"
ok "and /out is still whole" test -f "$out/etc/greeting"
ok "no temporary directories are left next to /out" \
	sh -c "! ls -d '$stage'/out.tmp-* 2>/dev/null | grep -q ."

done_testing
