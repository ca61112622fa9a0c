# shellcheck shell=bash
# Shared helpers for the integration tests (sourced by tests/integration/t*.sh).
#
# TAP: ok DESC CMD..., is GOT WANT DESC, like TEXT REGEX DESC, skip DESC REASON,
# TODO=reason for known bugs, done_testing; whole-file prerequisites: need_root, need CMD..., need_network.
# Every script gets a private $WH_TMP, removed on exit, with a decoy
# $WH_TMP/outside/marker that no build may ever touch.
set -u

: "${WH_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${WH_BUILD:=$WH_TOP/build}"
WHITTLE=${WHITTLE:-$WH_BUILD/whittle}
MKFIXTURE=${MKFIXTURE:-$WH_BUILD/tools/mkfixture}
FIXTURES=$WH_TOP/tests/fixtures
# the profiles of this tree, wherever the binary under test lives
export WHITTLE_PROFILE_PATH=${WHITTLE_PROFILE_PATH:-$WH_TOP/profiles}
export LC_ALL=C

_tap_n=0
_tap_failed=0
_cleanups=()

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do printf '# %s\n' "$line"; done >&2
}

# Prints a file's first lines as diagnostics (whittle's stderr, a log).
diag_file() {
	[ -s "$1" ] && diag "--- $1" "$(head -n "${2:-20}" "$1")"
	return 0
}

# TODO="reason": the assertions that follow describe a known bug; TAP
# reports them (and says when they start passing) without failing the file.
TODO=""

pass() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1${TODO:+ # TODO $TODO}"
}

fail() {
	_tap_n=$((_tap_n + 1))
	[ -n "$TODO" ] || _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1${TODO:+ # TODO $TODO}"
	shift
	[ $# -eq 0 ] || diag "$@"
}

# ok DESC CMD ARGS...: passes when CMD exits 0; its output is shown on failure.
ok() {
	local desc=$1 log
	shift
	log=$(mktemp "$WH_TMP/log.XXXXXX")
	if "$@" >"$log" 2>&1; then
		pass "$desc"
	else
		fail "$desc" "command failed ($?): $*" "$(head -n 30 "$log")"
	fi
	rm -f "$log"
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:      '$1'" "expected: '$2'"
	fi
}

isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3" "got '$1', expected something else"
	fi
}

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "'$(printf '%s' "$1" | head -c 600)'" "does not match /$2/"
	fi
}

unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		fail "$3" "'$(printf '%s' "$1" | head -c 600)'" "matches /$2/"
	else
		pass "$3"
	fi
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

bail() {
	echo "Bail out! $*"
	exit 255
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ] || diag "$_tap_failed of $_tap_n failed"
	[ "$_tap_failed" -eq 0 ]
	exit
}

have() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || return 1
	done
}

need() {
	local c
	for c in "$@"; do
		have "$c" || skip_all "needs $c"
	done
}

is_root() {
	[ "$(id -u)" = 0 ]
}

need_root() {
	is_root || skip_all "needs root"
}

# Whether Debian's mirror answers: tells a network outage from a failure.
debian_reachable() {
	timeout 10 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null
}

# Registers a command to run on exit (before the temp dir goes).
at_exit() {
	_cleanups+=("$*")
}

_cleanup() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	# rm never follows the absolute symlinks image trees are full of.
	[ -n "${WH_TMP:-}" ] && rm -rf --one-file-system "$WH_TMP"
}

WH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/whittle-it.XXXXXX") || bail "mktemp failed"
trap _cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WH_TMP/outside"
echo "decoy: must never change" >"$WH_TMP/outside/marker"

# WH_NO_WHITTLE=1: a test of the test tools themselves
[ -n "${WH_NO_WHITTLE:-}" ] || [ -x "$WHITTLE" ] || bail "$WHITTLE is missing: run make first"
[ -x "$MKFIXTURE" ] || bail "$MKFIXTURE is missing: run make first"

# run_wh ARGS...: runs whittle; sets WH_RC, and WH_OUT / WH_ERR to its output.
# shellcheck disable=SC2034 # read by the tests
run_wh() {
	"$WHITTLE" "$@" >"$WH_TMP/wh.out" 2>"$WH_TMP/wh.err"
	WH_RC=$?
	WH_OUT=$(cat "$WH_TMP/wh.out")
	WH_ERR=$(cat "$WH_TMP/wh.err")
}

# mkfix NAME DIR: builds tests/fixtures/NAME.manifest into DIR (an OCI layout).
mkfix() {
	"$MKFIXTURE" "$FIXTURES/$1.manifest" "$2" >"$WH_TMP/mkfixture.log" 2>&1 ||
		bail "mkfixture $1: $(cat "$WH_TMP/mkfixture.log")"
}

# mkfix_text DIR <<EOF ... EOF: a fixture from a manifest on stdin.
mkfix_text() {
	local m
	m=$(mktemp "$WH_TMP/manifest.XXXXXX")
	cat >"$m"
	"$MKFIXTURE" "$m" "$1" >"$WH_TMP/mkfixture.log" 2>&1 ||
		bail "mkfixture ($1): $(cat "$WH_TMP/mkfixture.log")"
}

# The manifest of an OCI layout (the first, or the one named REF).
oci_manifest() {
	local d
	d=$(oci_manifest_digest "$@")
	cat "$1/blobs/sha256/${d#sha256:}"
}

# Its digest.
oci_manifest_digest() {
	local dir=$1 ref=${2:-}
	if [ -n "$ref" ]; then
		jq -r --arg r "$ref" \
			'[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)][0].digest' \
			"$dir/index.json"
	else
		jq -r '.manifests[0].digest' "$dir/index.json"
	fi
}

# layer_digest DIR N: the digest of layer N of DIR's (first) manifest.
layer_digest() {
	oci_manifest "$1" | jq -r ".layers[$2].digest"
}

# Lists the paths in every layer of an OCI image (gzip, zstd or plain).
oci_list() {
	local dir=$1 ref=${2:-} d
	for d in $(oci_manifest "$dir" "$ref" | jq -r '.layers[].digest'); do
		local b=$dir/blobs/sha256/${d#sha256:}
		case $(head -c 4 "$b" | od -An -tx1 | tr -d ' ') in
		1f8b*) gzip -dc "$b" ;;
		28b52ffd) zstd -qdc "$b" ;;
		*) cat "$b" ;;
		esac | tar -tf -
	done
}

# A fingerprint of a tree: every path, type, mode, size, link and content hash.
# Never follows symlinks.
snapshot() {
	[ -e "$1" ] || [ -L "$1" ] || { echo "(absent)"; return; }
	if [ ! -d "$1" ] || [ -L "$1" ]; then
		stat -c '%F %a %s' "$1" && { [ -L "$1" ] || sha256sum <"$1"; }
		return
	fi
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum)
}
