#!/bin/bash
# The ostree: store. Two whittled images go into one repository; the ostree
# CLI (a peer) lists and fscks what whittle wrote; the second image reuses
# the objects it shares with the first and the report says how much; the
# tree matches what dir: writes; `whittle checkout` makes a hard-linked
# bundle that whittle-run (and runc) start; libostree stays out of the
# runtime's programs.
. "$(dirname "$0")/lib.sh"

need_root
need ostree jq
RUN=${WHITTLE_RUN:-$WH_BUILD/whittle-run}
INIT=${WHITTLE_INIT:-$WH_BUILD/whittle-init}

# --- the runtime's programs never link libostree or glib ------------------
for p in "$RUN" "$INIT"; do
	if [ -x "$p" ]; then
		needed=$(readelf -d "$p" 2>/dev/null | grep NEEDED || true)
		unlike "$needed" 'ostree|glib|gio|gobject' "$(basename "$p") links no libostree/glib"
	else
		skip "$(basename "$p") links no libostree/glib" "$p is not built"
	fi
done
if [ -x "$RUN" ]; then
	unlike "$(ldd "$RUN" 2>&1)" 'ostree|glib' "ldd whittle-run: no libostree, no glib"
fi

if ! readelf -d "$WHITTLE" | grep -q 'libostree'; then
	run_wh build oci:/nonexistent ostree:"$WH_TMP"/r:x
	like "$WH_ERR" 'WITH_OSTREE' "a build without libostree says how to get ostree:"
	done_testing
fi

R=$WH_TMP/repo
mkfix basic "$WH_TMP/basic"
mkfix_text "$WH_TMP/two" <<'EOF'
# shares the shell's libraries with basic; its own program and data
layer gzip
dir    etc 0755 0 0
file   etc/passwd 0644 0 0 "text:root:x:0:0:root:/root:/bin/sh\nsvc:x:1234:1234::/app:/bin/sh\n"
file   etc/group 0644 0 0 "text:root:x:0:\nsvc:x:1234:\n"
hostbin /bin/echo /bin/cat
dir    app 0755 0 0
file   app/msg 0644 0 0 "text:hello from image two\n"
file   app/junk 0644 0 0 zero:50000
config entrypoint ["/bin/cat","/app/msg"]
config user svc
ref latest
EOF

# --- two images into one repository ---------------------------------------
run_wh build --source-date-epoch 1700000000 --report "$WH_TMP/r1.json" \
	oci:"$WH_TMP/basic":latest ostree:"$R":img/basic
is "$WH_RC" 0 "build basic into a new repository"
diag_file "$WH_TMP/wh.err"
is "$(ostree --repo="$R" config get core.mode)" bare "the repository is bare (hard-link checkouts)"
c1=$(jq -r .result.store.commit "$WH_TMP/r1.json")
is "$(ostree --repo="$R" rev-parse img/basic)" "$c1" "the report names the ref's commit"
is "$(jq .result.store.objects_reused "$WH_TMP/r1.json")" 0 "a new repository reuses nothing"
like "$WH_ERR" 'store: [0-9]+ objects new' "the summary reports the store"

run_wh build --source-date-epoch 1700000000 --keep /app/msg --report "$WH_TMP/r2.json" \
	oci:"$WH_TMP/two":latest ostree:"$R":img/two
is "$WH_RC" 0 "build the second image into the same repository"
diag_file "$WH_TMP/wh.err"
reused=$(jq .result.store.bytes_reused "$WH_TMP/r2.json")
oreused=$(jq .result.store.objects_reused "$WH_TMP/r2.json")
ok "objects reused is non-zero ($oreused)" test "${oreused:-0}" -gt 0
ok "bytes deduplicated is non-zero ($reused)" test "${reused:-0}" -gt 0
like "$WH_ERR" "reused \\([0-9.]+ [KM]i?B deduplicated\\)" "and the summary says so"

# What the repository really shares: files of two whose object basic has.
ostree --repo="$R" ls -R -C img/basic | awk '$1 ~ /^-/ {print $5}' | sort -u >"$WH_TMP/c1"
want=$(ostree --repo="$R" ls -R -C img/two |
	awk 'NR==FNR {have[$1]=1; next} $1 ~ /^-/ && ($5 in have) {s += $4} END {print s+0}' \
		"$WH_TMP/c1" -)
is "$reused" "$want" "bytes deduplicated = sizes of two's files already in the repository"

# --- what the ostree CLI sees ----------------------------------------------
ok "ostree fsck" ostree --repo="$R" fsck
like "$(ostree --repo="$R" refs | sort | tr '\n' ' ')" '^img/basic img/two $' "both refs exist"
tree=$(ostree --repo="$R" ls -R img/basic)
like "$tree" ' /usr/bin/echo' "ls -R shows the kept program"
like "$tree" 'ld-linux-x86-64.so.2' "and its loader"
unlike "$tree" '/usr/share/doc|/opt/data|/app/gone' "and none of the junk"
like "$(ostree --repo="$R" ls img/two /app/msg)" '^-00644 0 0 +21 /app/msg' \
	"mode, owner and size of a file"
like "$(ostree --repo="$R" show img/basic)" 'Date: +2023-11-14 22:13:20' \
	"the commit time is the epoch"
meta=$(ostree --repo="$R" show --print-metadata-key=whittle.image-config img/two)
like "$meta" 'Entrypoint.*/bin/cat' "the commit carries the image config"

# --- deterministic, and the same as dir: ------------------------------------
run_wh build -q --source-date-epoch 1700000000 oci:"$WH_TMP/basic":latest ostree:"$R":img/basic
is "$(ostree --repo="$R" rev-parse img/basic)" "$c1" "the same build gives the same commit"
run_wh build -q --source-date-epoch 1700000000 oci:"$WH_TMP/basic":latest dir:"$WH_TMP/dir"
is "$WH_RC" 0 "build the same image to dir:"
"$WHITTLE" checkout -q --no-config ostree:"$R":img/basic "$WH_TMP/co" ||
	fail "checkout --no-config"
listing() { (cd "$1" && find . -printf '%p %y %m %U %G %s %l\n' | sort); }
is "$(listing "$WH_TMP/co/rootfs")" "$(listing "$WH_TMP/dir")" \
	"a checkout holds the same tree as dir: (paths, types, modes, owners, sizes, links)"

# --- a bad ref leaves the repository alone ---------------------------------
before=$(ostree --repo="$R" refs | sort)
run_wh build -q oci:"$WH_TMP/basic":latest ostree:"$R":"bad ref"
ok "an invalid ref fails ($WH_RC)" test "$WH_RC" -ne 0
like "$WH_ERR" "'bad ref'" "and names it"
is "$(ostree --repo="$R" refs | sort)" "$before" "the refs are unchanged"
mkdir -p "$WH_TMP/notrepo" && echo x >"$WH_TMP/notrepo/file"
run_wh build -q oci:"$WH_TMP/basic":latest ostree:"$WH_TMP/notrepo":x
is "$WH_RC" 1 "a directory that is not a repository is refused"
is "$(ls "$WH_TMP/notrepo")" file "and left as it was"

# --- checkout: a hard-linked bundle that runs --------------------------------
run_wh checkout --hardlink ostree:"$R":img/basic "$WH_TMP/b1"
is "$WH_RC" 0 "whittle checkout --hardlink"
like "$WH_ERR" 'commit [0-9a-f]{12} in [0-9.]+ ms' "and says how long it took"
diag "$WH_ERR"
links=$(stat -c %h "$WH_TMP/b1/rootfs/usr/bin/echo")
ok "files are hard links into the store (nlink $links)" test "$links" -ge 2
is "$(stat -c %i "$WH_TMP/b1/rootfs/usr/bin/echo")" \
	"$(stat -c %i "$(find "$R/objects" -name "$(ostree --repo="$R" ls -C img/basic /usr/bin/echo |
		awk '{print substr($5,3)}').file")")" "echo is the repository's object itself"
is "$(jq -c .process.args "$WH_TMP/b1/config.json")" '["/bin/echo","hello from echo"]' \
	"config.json runs the image's entrypoint"
is "$(jq -c '[.linux.namespaces[].type] | sort' "$WH_TMP/b1/config.json")" \
	'["ipc","mount","network","pid","uts"]' "with the default namespaces"
is "$(jq -c '[.mounts[].destination]' "$WH_TMP/b1/config.json")" \
	'["/proc","/dev","/dev/pts","/dev/shm","/dev/mqueue","/sys"]' "and mounts"
is "$(jq -c '[.root.readonly, .process.terminal]' "$WH_TMP/b1/config.json")" '[true,false]' \
	"a hard-linked root is read-only (it is the store's objects), no terminal"

run_wh checkout ostree:"$R":img/basic "$WH_TMP/b1"
is "$WH_RC" 1 "a bundle with a config.json is refused"
run_wh checkout -q --copy ostree:"$R":img/basic "$WH_TMP/b1copy"
is "$(jq -c .root.readonly "$WH_TMP/b1copy/config.json")" false "a copied root is writable"
run_wh checkout -q --writable ostree:"$R":img/basic "$WH_TMP/b1w"
is "$(jq -c .root.readonly "$WH_TMP/b1w/config.json")" false "--writable makes a hard-linked root writable"
run_wh checkout oci:"$WH_TMP/basic":latest "$WH_TMP/b9"
is "$WH_RC" 2 "checkout of a non-ostree image is a usage error"
run_wh checkout ostree:"$R":img/nope "$WH_TMP/b9"
is "$WH_RC" 1 "checkout of a missing ref fails"
like "$WH_ERR" "img/nope" "naming the ref"
ok "and leaves no bundle behind" test ! -e "$WH_TMP/b9"

run_wh checkout -q ostree:"$R":img/two "$WH_TMP/b2"
is "$WH_RC" 0 "checkout of the second image"
is "$(jq -c .process.user "$WH_TMP/b2/config.json")" '{"uid":1234,"gid":1234}' \
	"its User is looked up in its own /etc/passwd"

[ -x "$RUN" ] || bail "$RUN not built (make -j2)"
STATE=$(mktemp -d /run/whittle-t75.XXXXXX)
at_exit "rm -rf '$STATE'"
at_exit "'$RUN' --root '$STATE' delete -f t75-b1; '$RUN' --root '$STATE' delete -f t75-b2"
out=$(cd "$WH_TMP/b1" && timeout 30 "$RUN" --root "$STATE" run --bundle . t75-b1 2>&1)
is "$out" "hello from echo" "whittle-run runs the checked-out basic image"
out=$(cd "$WH_TMP/b2" && timeout 30 "$RUN" --root "$STATE" run --bundle . t75-b2 2>&1)
is "$out" "hello from image two" "and the second image, as its user"
if have runc; then
	RSTATE=$(mktemp -d /run/whittle-t75-runc.XXXXXX)
	at_exit "runc --root '$RSTATE' delete -f t75-runc; rm -rf '$RSTATE'"
	out=$(cd "$WH_TMP/b1" && timeout 30 runc --root "$RSTATE" run t75-runc 2>&1)
	is "$out" "hello from echo" "runc runs the same bundle"
else
	skip "runc runs the checkout" "runc is not installed"
fi
ok "ostree fsck after running containers on hard-linked roots" ostree --repo="$R" fsck -q

is "$(cat "$WH_TMP/outside/marker")" "decoy: must never change" "nothing outside was touched"
done_testing
