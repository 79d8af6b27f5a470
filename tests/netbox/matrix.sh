#!/usr/bin/env bash
# The integration suite against every NetBox version of the test matrix, each a real server of
# its own (provision.sh's default port per version), then a table: version, passed, failed,
# ignored, seconds.
#
#   bash tests/netbox/matrix.sh [VERSION...]     default: 4.7.3 4.6.8 4.5.10 4.3.7
#   deno task test:matrix [VERSION...]
#
# Each server is reset to an empty NetBox before its run and left running afterwards, like
# `provision.sh up` (the next run takes seconds); `NETBOX_TEST_VERSION=4.3.7 bash
# tests/netbox/provision.sh down` stops one. Exit status 0 only when every version passed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CI="${CI:-true}" # an ignored integration test is a failure here too
unset NETBOX_TEST_URL NETBOX_TEST_TOKEN NETBOX_TEST_TOKEN_V1 NETBOX_TEST_TOKEN_RO NETBOX_TEST_PORT \
  NETBOX_TEST_DB NETBOX_TEST_REDIS_DB NETBOX_TEST_REDIS_CACHE_DB
if (($#)); then VERSIONS=("$@"); else VERSIONS=(4.7.3 4.6.8 4.5.10 4.3.7); fi

work="$(mktemp -d -t netbox-toolkit-matrix.XXXXXX)"
rows=()
failed_any=false
trap 'rm -rf "$work"' EXIT

printf '=== provisioning NetBox %s\n' "${VERSIONS[*]}" >&2
pids=()
for version in "${VERSIONS[@]}"; do
  NETBOX_TEST_VERSION="$version" bash tests/netbox/provision.sh up >"$work/$version.env" \
    2>"$work/provision-$version.log" &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    grep -v '^WARNING: Location' "$work/provision-${VERSIONS[$i]}.log" >&2 || true
    printf 'provisioning NetBox %s failed\n' "${VERSIONS[$i]}" >&2
    exit 1
  fi
done

files="$(find tests/integration -name '*_test.ts' | sort | tr '\n' ' ')"
for version in "${VERSIONS[@]}"; do
  printf '\n=== integration suite against NetBox %s\n' "$version" >&2
  NETBOX_TEST_VERSION="$version" bash tests/netbox/provision.sh reset 2>/dev/null
  report="$work/report-$version.xml"
  console="$work/console-$version.log"
  start=$SECONDS code=0
  (
    set -a
    # shellcheck source=/dev/null
    source "$work/$version.env"
    set +a
    set -o pipefail
    deno task test:integration --junit-path="$report" 2>&1 | tee "$console"
  ) || code=$?
  # shellcheck disable=SC2086
  counts="$(python3 .ci/junit_check.py "$report" "$code" "NetBox-$version" "$console" $files)" ||
    counts="0 1 0"
  read -r p f i <<<"$counts"
  ((f == 0 && i == 0)) || failed_any=true
  rows+=("$(printf '| %-7s | %6d | %6d | %7d | %7d |' "$version" "$p" "$f" "$i" "$((SECONDS - start))")")
done

printf '\n| NetBox  | passed | failed | ignored | seconds |\n|---------|--------|--------|---------|---------|\n'
printf '%s\n' "${rows[@]}"
! $failed_any
