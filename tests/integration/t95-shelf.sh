#!/bin/bash
# The shelf: every shipped workload profile (nginx, perl, node, curl-https, openjdk, busybox)
# whittles a real image built from Debian's packages (benchmarks/shelf-images), and the whittled
# image, unpacked with umoci and run with runc, still does its job: servers answer on their
# loopback port, programs print what they should, and the profile's own smoke command passes.
# The containers share the host's network namespace so the test can reach their ports.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
need jq runc umoci curl python3 openssl

SHELF_NAMES=${WH_SHELF_NAMES:-"busybox perl curl-https nginx node openjdk"}
start_all=$(date +%s)

# shellcheck disable=SC2086
if ! "$WH_TOP/benchmarks/shelf-images" -q $SHELF_NAMES >"$WH_TMP/shelf.log" 2>&1; then
	debian_reachable || skip_all "needs network to a Debian mirror (benchmarks/shelf-images failed)"
	bail "benchmarks/shelf-images failed: $(tail -n 5 "$WH_TMP/shelf.log")"
fi
diag "images ready after $(($(date +%s) - start_all)) s"
CACHE=${WHITTLE_SAMPLES_CACHE:-$WH_TOP/benchmarks/cache}

# bundle_for NAME: unpacks the whittled image of NAME into $WH_TMP/b-NAME and prepares its
# config.json for a non-interactive run in the host's network namespace.
bundle_for() {
	local b=$WH_TMP/b-$1
	umoci unpack --image "$WH_TMP/o-$1:x" "$b" >"$WH_TMP/umoci.log" 2>&1 || return 1
	jq '.process.terminal = false | .linux.namespaces |= map(select(.type != "network"))' \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# set_args BUNDLE ARGS_JSON: the process the next run starts.
set_args() {
	jq --argjson a "$2" '.process.args = $a' "$1/config.json" >"$1/config.json.new" &&
		mv "$1/config.json.new" "$1/config.json"
}

# run_fg BUNDLE: runs the bundle's process to its end (2 minutes at most); stdout and stderr
# together on stdout.
run_fg() {
	local id=whittle-t95-$$-$RANDOM
	at_exit "runc delete -f $id"
	timeout 120 runc run --bundle "$1" "$id" </dev/null 2>&1
}

# run_bg BUNDLE ID: starts the bundle's process detached; its output goes to $WH_TMP/ID.out.
run_bg() {
	at_exit "runc delete -f $2"
	runc run -d --bundle "$1" "$2" </dev/null >"$WH_TMP/$2.out" 2>&1
}

stop_bg() {
	runc kill "$1" KILL >/dev/null 2>&1
	runc delete -f "$1" >/dev/null 2>&1
}

# poll_http URL: the response body, after up to 30 s of retries.
poll_http() {
	local i
	for i in $(seq 1 60); do
		curl -fsS --max-time 2 "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}

# whittle_one NAME: builds the whittled image and checks it shrank; sets R (the report).
whittle_one() {
	local n=$1 t0
	R=$WH_TMP/r-$n.json
	t0=$(date +%s)
	run_wh build -q --profile "$n" --compression gzip --report "$R" \
		"oci:$CACHE/shelf-$n:latest" "oci:$WH_TMP/o-$n:x"
	is "$WH_RC" 0 "$n: whittle build --profile $n"
	diag_file "$WH_TMP/wh.err"
	ok "$n: fewer bytes than the original" jq -e '.result.bytes < .source.bytes' "$R"
	diag "$n: $(jq -r '"files \(.source.files) -> \(.result.files), bytes \(.source.bytes) -> \(.result.bytes)"' "$R" 2>/dev/null) ($(($(date +%s) - t0)) s)"
	ok "$n: umoci unpack of the whittled image" bundle_for "$n"
}

# smoke NAME: runs the profile's smoke command in the whittled image: it must exit 0 and print
# the profile's expect text.
smoke() {
	local n=$1 b=$WH_TMP/b-$1 shown cmd expect out rc
	if ! shown=$("$WHITTLE" profile show "$n" 2>&1) ||
		! cmd=$(jq -ce '.smoke.cmd | select(length > 0)' <<<"$shown"); then
		fail "$n: the profile has a smoke command" "$shown"
		return
	fi
	pass "$n: the profile has a smoke command"
	expect=$(jq -r '.smoke.expect // ""' <<<"$shown")
	set_args "$b" "$cmd"
	out=$(run_fg "$b")
	rc=$?
	if [ "$rc" = 0 ] && [ -n "$expect" ] && [[ $out == *"$expect"* ]]; then
		pass "$n: the profile's smoke command passes in the whittled image"
	else
		fail "$n: the profile's smoke command passes in the whittled image" \
			"smoke: $cmd" "exit status $rc; expected output: '$expect'" \
			"got: '$(printf '%s' "$out" | head -c 800)'"
	fi
}

# verify NAME: whittle verify ORIGINAL WHITTLED --profile NAME.
verify() {
	run_wh verify --profile "$1" "oci:$CACHE/shelf-$1:latest" "oci:$WH_TMP/o-$1:x"
	is "$WH_RC" 0 "$1: whittle verify of the whittled image against the original"
	[ "$WH_RC" = 0 ] || diag_file "$WH_TMP/wh.err"
}

t_busybox() {
	local b=$WH_TMP/b-busybox out
	whittle_one busybox
	ok "busybox: coreutils are gone" test ! -e "$b/rootfs/usr/bin/ls"
	ok "busybox: the applet links are kept" test -L "$b/rootfs/usr/local/bin/ls"
	smoke busybox
	set_args "$b" '["/bin/sh","-c","cat /etc/os-release | head -n1; id -un; touch /tmp/x && echo tmp ok"]'
	out=$(run_fg "$b")
	like "$out" 'tmp ok' "busybox: a shell session works (os-release, users, /tmp)"
	like "$out" 'root' "busybox: id -un names root from /etc/passwd"
	verify busybox
}

t_perl() {
	local b=$WH_TMP/b-perl out
	whittle_one perl
	ok "perl: CORE headers are dropped" \
		jq -e '[.kept[].path | select(test("/CORE/"))] | length == 0' "$R"
	smoke perl
	set_args "$b" '["/usr/bin/perl","/app/app.pl"]'
	out=$(run_fg "$b")
	like "$out" '"date":"2024-02-29 12:00"' "perl: the app's POSIX/Time::Local/JSON::PP output"
	like "$out" 'perl ok' "perl: the image's workload runs to its end"
	verify perl
}

# https_server DIR PORT CERT KEY TEXT: a TLS server on the host's loopback answering TEXT.
https_server() {
	python3 - "$1" "$2" "$3" "$4" "$5" <<'PY' &
import http.server, ssl, sys, os
d, port, cert, key, text = sys.argv[1:6]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (text + "\n").encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", int(port)), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
	at_exit "kill $!"
	local i
	for i in $(seq 1 50); do
		timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

t_curl_https() {
	local b=$WH_TMP/b-curl-https tls=$CACHE/shelf-curl-https.tls out rc
	whittle_one curl-https
	ok "curl-https: a TLS server with the image's private CA on 127.0.0.1:18443" \
		https_server "$WH_TMP" 18443 "$tls/server.crt" "$tls/server.key" "whittle shelf tls ok"
	smoke curl-https
	# The same fetch from a server whose CA the image does not trust must fail: the trust
	# store, not luck, makes the first one pass.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost \
		-keyout "$WH_TMP/rogue.key" -out "$WH_TMP/rogue.crt" 2>/dev/null
	ok "curl-https: an untrusted TLS server on 127.0.0.1:18444" \
		https_server "$WH_TMP" 18444 "$WH_TMP/rogue.crt" "$WH_TMP/rogue.key" "must not be read"
	set_args "$b" '["/usr/bin/curl","-sS","--max-time","10","https://localhost:18444/"]'
	out=$(run_fg "$b")
	rc=$?
	isnt "$rc" 0 "curl-https: a certificate from an unknown CA is refused"
	like "$out" 'certificate' "curl-https: ... with a certificate error"
	verify curl-https
}

t_nginx() {
	local b=$WH_TMP/b-nginx id=whittle-t95-nginx-$$ out
	whittle_one nginx
	is "$(jq -r .process.user.uid "$b/config.json")" 33 "nginx: the container runs as www-data (uid 33)"
	smoke nginx
	set_args "$b" '["/usr/sbin/nginx","-g","daemon off;"]'
	ok "nginx: starts detached" run_bg "$b" "$id"
	out=$(poll_http http://127.0.0.1:18080/)
	like "$out" 'whittle shelf: nginx ok' "nginx: serves the page on 127.0.0.1:18080"
	ok "nginx: wrote its access log as www-data" \
		test "$(stat -c %u "$b/rootfs/var/log/nginx/access.log" 2>/dev/null)" = 33
	ok "nginx: created its client body temp dir" test -d "$b/rootfs/var/lib/nginx/body"
	ok "nginx: wrote its pid file" test -s "$b/rootfs/run/nginx/nginx.pid"
	stop_bg "$id"
	diag_file "$WH_TMP/$id.out"
	verify nginx
}

t_node() {
	local b=$WH_TMP/b-node id=whittle-t95-node-$$ out
	whittle_one node
	smoke node
	set_args "$b" '["/usr/bin/node","/app/server.js"]'
	ok "node: starts detached" run_bg "$b" "$id"
	out=$(poll_http http://127.0.0.1:18081/)
	like "$out" 'node ok 1\.234\.567,891 [0-9a-f]{8}' \
		"node: the HTTP server answers, with ICU number formatting and OpenSSL hashing"
	stop_bg "$id"
	diag_file "$WH_TMP/$id.out"
	# node's RUNPATH has $ORIGIN/, so ld.so stats /usr/bin/x86_64 (a legacy hwcap directory);
	# in Debian that name is util-linux's setarch link, a file ld.so skips: verify must not
	# count it as missing.
	verify node
}

t_openjdk() {
	local b=$WH_TMP/b-openjdk out
	whittle_one openjdk
	ok "openjdk: the JDK's compiler and desktop libraries are not kept" \
		jq -e '[.kept[].path | select(test("/(libawt_xawt|libsplashscreen|libfontmanager)\\.so$|/bin/javac$"))] | length == 0' "$R"
	smoke openjdk
	set_args "$b" '["/usr/bin/java","-jar","/app/hello.jar"]'
	out=$(run_fg "$b")
	like "$out" 'java ok' "openjdk: the image's jar runs in the whittled JVM"
	like "$out" 'cas=[1-9][0-9]* tls=Default paris=\+02:00' \
		"openjdk: cacerts, the TLS context and the time zone database load"
	verify openjdk
}

for n in $SHELF_NAMES; do
	t0=$(date +%s)
	"t_${n//-/_}"
	diag "$n: $(($(date +%s) - t0)) s"
done
diag "t95 took $(($(date +%s) - start_all)) s"

done_testing
