#!/bin/bash
# whittle-bench end to end on the smallest sample image: a short --quick run
# (reduced run counts) must write a report.json with the documented schema,
# report.md and the SVG plots, and leave nothing behind (registry, containers,
# mounts, scratch). Bad input gets a clear error and a time-out: a missing
# image, a registry that never answers, a workload that never prints its ready
# line or hangs, and an interrupt. The CI gate passes and fails on purpose.
. "$(dirname "$0")/lib.sh"

need_root
need jq skopeo docker-registry gnuplot runc crun tar zstd gzip
BENCH=${WHITTLE_BENCH:-$WH_BUILD/whittle-bench}
[ -x "$BENCH" ] || bail "$BENCH is missing: run make first"
SAMPLE=$WH_TOP/benchmarks/cache/al2023-python
# Instant when the cached sample is current; repacked when its recipe changed.
"$WH_TOP/benchmarks/make-samples" -q al2023-python >"$WH_TMP/samples.log" 2>&1 ||
	skip_all "the al2023-python sample cannot be built here (no Debian mirror?)"
IMG=oci:$SAMPLE:latest
SVC=oci:$SAMPLE:service
WORK=$WH_TMP/work
mkdir -p "$WORK"

# Nothing of a run may outlive it: no scratch directory, no mount, no registry.
nothing_left() {
	local what=$1
	is "$(ls -A "$WORK")" "" "$what: scratch directory removed"
	is "$(grep -c " $WORK" /proc/self/mountinfo)" 0 "$what: no mounts left"
	is "$(pgrep -f "$WORK/whittle-bench-.*/registry" | wc -l)" 0 "$what: registry stopped"
}

bench() {
	"$BENCH" --work-dir "$WORK" "$@" >"$WH_TMP/b.out" 2>"$WH_TMP/b.err"
	RC=$?
	OUT=$(cat "$WH_TMP/b.out")
	ERR=$(cat "$WH_TMP/b.err")
}

# --- a short quick run -------------------------------------------------------------------
start=$(date +%s)
bench --quick --al2 "$IMG" --whittle-from "$IMG" --al2-service "$SVC" --service-from "$SVC" \
	--cold-runs 2 --warm-runs 3 --warmups 0 --out "$WH_TMP/out"
took=$(($(date +%s) - start))
is "$RC" 0 "quick run exits 0"
[ "$RC" = 0 ] || diag "$ERR"
ok "quick run with reduced counts under 120 s ($took s)" test "$took" -lt 120
R=$WH_TMP/out/report.json
ok "report.json is JSON" jq -e . "$R"
is "$(jq -r .schema "$R")" "whittle-bench/1" "schema name"
is "$(jq -r .mode "$R")" quick "mode"
is "$(jq -c '[.variants[].name]' "$R")" \
	'["al2-gzip-runc","whittled-zstd-wrun-winit","whittled-zstd-crun-winit","whittled-zstd-runc-winit","al2-gzip-runc-service","whittled-service-zstd-wrun-winit"]' \
	"the quick variants"
ok "every variant has per-phase medians, cold and warm" jq -e '
	[.variants[] | .cold, .warm | .phases_ms | keys == ["create","exec","fetch","ready","rootfs","unpack"]]
	| all' "$R"
ok "time_to_ready median <= p95, both positive" jq -e '
	[.variants[] | .cold, .warm | .time_to_ready_ms | .median > 0 and .p95 >= .median] | all' "$R"
ok "raw samples kept (2 cold, 3 warm)" jq -e '
	[.variants[] | (.cold.samples.time_to_ready | length) == 2 and
	 (.warm.samples.time_to_ready | length) == 3] | all' "$R"
ok "phases add up to time to ready" jq -e '
	[.variants[].cold.samples as $s | range(0; 2) as $i |
	 ($s.fetch[$i] + $s.unpack[$i] + $s.rootfs[$i] + $s.create[$i] + $s.exec[$i] +
	  $s.ready[$i] - $s.time_to_ready[$i]) | fabs < 0.01] | all' "$R"
ok "warm runs fetch and unpack nothing" jq -e '
	[.variants[].warm.samples | (.fetch + .unpack)[] == 0] | all' "$R"
ok "cold runs fetch and unpack" jq -e '
	[.variants[].cold.phases_ms | .fetch > 0 and .unpack > 0] | all' "$R"
ok "bytes fetched and files counted" jq -e '
	[.variants[] | .bytes_fetched > 1000000 and .files > 100] | all' "$R"
ok "the whittled image is one zstd layer" jq -e '
	.variants[1] | .layers == 1 and .compression == "zstd"' "$R"
ok "the whittled service image is one zstd layer, with fewer files than the Python one" jq -e '
	.variants[5].layers == 1 and .variants[5].compression == "zstd" and
	.variants[5].files < .variants[1].files' "$R"
for k in al2_over_whittled_ready_cold al2_over_whittled_ready_warm crun_over_whittle_run \
	runc_over_whittle_run al2_over_whittled_ready_cold_service \
	al2_over_whittled_ready_warm_service; do
	ok "ratio $k with value and 95% interval" jq -e --arg k "$k" '
		.ratios[$k] | .value > 0 and (.ci95 | length) == 2 and .ci95[0] <= .ci95[1]' "$R"
done
ok "machine, kernel, tools and cache states recorded" jq -e '
	.environment.machine.kernel and .environment.machine.cpu and .environment.tools.runc and
	.environment.tools.crun and .environment.cache_states.cold and .settings.cold_runs == 2' "$R"
like "$(cat "$WH_TMP/out/report.md")" '\| `al2_over_whittled_ready_cold` \| \*\*[0-9.]+\*\*' \
	"report.md has the ratio table"
for p in phases-cold phases-warm ready-cold ready-warm; do
	ok "plot $p.svg written by gnuplot" grep -q '<svg' "$WH_TMP/out/$p.svg"
done
nothing_left "quick run"

# --- the CI gate ---------------------------------------------------------------------------
bench --compare "$R" --baseline "$R"
is "$RC" 0 "a report passes against itself"
jq '.ratios.al2_over_whittled_ready_cold.value *= 10' "$R" >"$WH_TMP/high.json"
bench --compare "$R" --baseline "$WH_TMP/high.json" --tolerance 20
is "$RC" 1 "a ratio far below the baseline fails the gate"
like "$OUT" 'FAIL al2_over_whittled_ready_cold' "the failing ratio is named"
bench --ci --quick
is "$RC" 2 "--ci without --baseline is a usage error"

# --- bad input -------------------------------------------------------------------------------
bench --variants al2-gzip-runc --al2 "oci:$WH_TMP/none:latest" --cold-runs 1 --no-warm \
	--out "$WH_TMP/o2"
is "$RC" 1 "a missing image fails"
like "$ERR" "none.*make-samples" "the error names the image and how to build the samples"
nothing_left "missing image"

mkdir -p "$WH_TMP/fakebin"
cat >"$WH_TMP/fakebin/docker-registry" <<SH
#!/bin/sh
echo \$\$ > "$WH_TMP/fake.pid"
exec sleep 600
SH
chmod +x "$WH_TMP/fakebin/docker-registry"
start=$(date +%s)
PATH=$WH_TMP/fakebin:$PATH bench --variants whittled-zstd-wrun-winit --whittle-from "$IMG" \
	--registry-timeout 2 --cold-runs 1 --no-warm --out "$WH_TMP/o3"
is "$RC" 1 "a registry that never answers fails"
like "$ERR" "did not answer on 127.0.0.1:[0-9]+ within 2000 ms" "the error says so"
ok "and the fake registry was killed" sh -c "! kill -0 \$(cat '$WH_TMP/fake.pid') 2>/dev/null"
nothing_left "registry time-out"

bench --variants whittled-zstd-wrun-winit --whittle-from "$IMG" --ready-line NEVER-READY \
	--cold-runs 1 --no-warm --out "$WH_TMP/o4"
is "$RC" 1 "a workload without the ready line fails"
like "$ERR" "exited before printing 'NEVER-READY'" "the error names the ready line"
nothing_left "no ready line"

run_wh build -q --profile python3 --entrypoint '["/usr/bin/python3","-c","import time; time.sleep(313)"]' \
	"$IMG" "oci:$WH_TMP/sleepy:latest"
is "$WH_RC" 0 "a hanging workload image builds"
start=$(date +%s)
bench --variants al2-gzip-runc --al2 "oci:$WH_TMP/sleepy:latest" --timeout 3 --cold-runs 1 \
	--no-warm --out "$WH_TMP/o5"
took=$(($(date +%s) - start))
is "$RC" 1 "a workload that hangs fails"
like "$ERR" "not ready after 3000 ms" "with a time-out error"
ok "within a bounded time ($took s)" test "$took" -lt 60
is "$(pgrep -f 'time.sleep\(313\)' | wc -l)" 0 "the hanging workload was killed"
nothing_left "hang"

# --- an interrupt ------------------------------------------------------------------------------
"$BENCH" --work-dir "$WORK" --variants whittled-zstd-wrun-winit --whittle-from "$IMG" \
	--cold-runs 100 --no-warm --out "$WH_TMP/o6" >"$WH_TMP/i.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	ls "$WORK"/whittle-bench-*/v/whittled-zstd-wrun-winit/image >/dev/null 2>&1 && break
	sleep 0.2
done
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
is "$rc" 1 "an interrupted run exits 1"
like "$(cat "$WH_TMP/i.out")" "interrupted" "and says it was interrupted"
nothing_left "interrupt"

done_testing
