#!/bin/bash
# Replays the fuzz corpus (tests/fuzz/corpus/<target>/) through each fuzz
# target under ASan+UBSan, without libFuzzer: every input that once
# crashed stays a regression test. TAP.
set -u
top=${WH_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1

cc=${CC:-cc}
if ! command -v "$cc" >/dev/null; then
	echo "1..0 # SKIP no C compiler ($cc) to build the replay runners"
	exit 0
fi
# Sanitizer runtimes are a separate package on some systems.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int main(void){return 0;}' >"$probe/p.c"
if ! "$cc" -fsanitize=address,undefined -o "$probe/p" "$probe/p.c" 2>/dev/null; then
	echo "1..0 # SKIP $cc cannot link with -fsanitize=address,undefined"
	exit 0
fi

if ! log=$(tests/fuzz/build --replay 2>&1); then
	echo "1..1"
	echo "not ok 1 - build the replay runners"
	printf '%s\n' "$log" | sed 's/^/# /' | tail -n 30
	exit 1
fi

targets=$(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_\(.*\)\.c|\1|')
n=0
for t in $targets; do n=$((n + 1)); done
echo "1..$n"
i=0
fail=0
for t in $targets; do
	i=$((i + 1))
	dir=tests/fuzz/corpus/$t
	if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir")" ]; then
		echo "not ok $i - fuzz_$t: no corpus in $dir"
		fail=1
		continue
	fi
	if out=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"build-fuzz/replay_$t" "$dir" 2>&1); then
		echo "ok $i - fuzz_$t: $(printf '%s' "$out" | tail -n 1)"
	else
		echo "not ok $i - fuzz_$t corpus replay"
		printf '%s\n' "$out" | sed 's/^/# /' | tail -n 40
		fail=1
	fi
done
exit $fail
