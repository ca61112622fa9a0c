#!/bin/bash
# whittle profile check|show|list: output, exit codes, search path.
. "$(dirname "$0")/lib.sh"

P=$WH_TOP/profiles
cd "$WH_TMP" || bail "cd"
# The python3 profile's keep list is long and changes as it is re-recorded.
py_keep=$(jq '.keep | length' "$P/python3.json")

run_wh profile check "$P/static.json" "$P/shell.json" "$P/python3.json" "$P/native.json"
is "$WH_RC" 0 "check: shipped profiles are valid"
like "$WH_OUT" "python3.json: ok \\($py_keep keep, 5 needs\\)" "check: ok line with counts"

# By name, found next to the binary (build/../profiles) with no search path set.
run_wh profile check -q python3 shell static
is "$WH_RC" 0 "check by name through the source tree's profiles/"
is "$WH_OUT" "" "check -q prints nothing for valid profiles"

mkdir -p lib
printf '{"name":"base","keep":["/base"],"needs":["nss"]}\n' >lib/base.json
printf '{"name":"app","extends":["base","python3"],"keep":["/app/**"]}\n' >app.json
printf '{\n "name": "bad",\n "kep": ["/a"]\n}\n' >bad.json
printf '{\n "name": "syn",\n "keep": ["/a",]\n}\n' >syn.json
export WHITTLE_PROFILE_PATH=$WH_TMP/lib
run_wh profile check app.json
is "$WH_RC" 0 "check: extends through WHITTLE_PROFILE_PATH and the shipped dir"
is "$WH_OUT" "app.json: ok ($((py_keep + 2)) keep, 5 needs, extends base, python3)" \
	"check: merged counts (nss once) and extends"

run_wh profile check app.json bad.json syn.json
is "$WH_RC" 1 "check: exit 1 when one is invalid"
like "$WH_OUT" "^app.json: ok" "check: valid files still reported"
like "$WH_ERR" "whittle: bad.json: unknown field 'kep' \(did you mean 'keep'\?\)" \
	"check: unknown field with a suggestion"
like "$WH_ERR" "whittle: syn.json: invalid JSON at line 3, column [0-9]+" "check: line and column"

printf '{"name":"a","extends":"b"}' >a.json
printf '{"name":"b","extends":"a.json"}' >b.json
run_wh profile check a.json
is "$WH_RC" 1 "check: extends cycle fails"
like "$WH_ERR" "extends cycle: a.json -> b.json -> a.json" "check: cycle listed"

run_wh profile check
is "$WH_RC" 2 "check without a profile: usage error"
run_wh profile frobnicate
is "$WH_RC" 2 "unknown subcommand: usage error"

run_wh profile show app.json
is "$WH_RC" 0 "show"
is "$(printf '%s' "$WH_OUT" | jq -r '.keep[0] + " " + .name + " " + .smoke.expect')" \
	"/base app ok" "show: merged JSON (base first, python3's smoke)"
printf '%s\n' "$WH_OUT" >shown.json
run_wh profile check shown.json
is "$WH_RC" 0 "show's output is itself a valid profile"

run_wh profile list
is "$WH_RC" 0 "list"
like "$WH_OUT" "^base +" "list: profiles from WHITTLE_PROFILE_PATH"
like "$WH_OUT" "python3 +CPython" "list: shipped profiles with descriptions"

done_testing
