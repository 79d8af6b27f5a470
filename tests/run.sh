#!/usr/bin/env bash
# The README's test command (`deno task test`): the unit and the integration tests, against a real
# NetBox. With NETBOX_TEST_URL set (CI, or a disposable NetBox of yours) it uses that one; without,
# it starts — or reuses, when it is up — the local NetBox `deno task demo` uses
# (tests/netbox/provision.sh up: NetBox 4.7 from PyPI on 127.0.0.1:18080, needs Python >= 3.12,
# PostgreSQL and Redis on 127.0.0.1; the first start takes several minutes, later ones seconds).
#
#   bash tests/run.sh [deno test arguments…]   e.g. tests/integration/ or --filter export
#
# Without test paths it runs the unit tests first (two files at a time; the local NetBox starts
# meanwhile) and then the integration tests, one file after the other.
#
# NETBOX_TEST_OFFLINE=1 runs without a NetBox: the integration tests are skipped with a notice
# (what `deno task test:unit` is for). Everything else is passed to `deno test`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# NETBOX_TEST_* from an env file (lines NAME=value), exported.
load_env() { # file
  local line
  while IFS= read -r line; do
    if [[ "$line" =~ ^(NETBOX_TEST_[A-Z0-9_]+)=(.*)$ ]]; then export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"; fi
  done <"$1"
}

# The NetBox to test against, once it is needed (the unit tests run before, and meanwhile it
# starts): NETBOX_TEST_URL when set; else NETBOX_TEST_ENV_FILE, an env file another process is
# still writing (CI provisions while the unit tests run; it appears complete, or FILE.failed
# does); else the local NetBox, started in the background as soon as this script starts.
provision_pid="" local_env=""
start_local() {
  printf 'test: NETBOX_TEST_URL is not set: starting (or reusing) the local NetBox with tests/netbox/provision.sh up while the unit tests run (the first time takes a minute or two; NETBOX_TEST_OFFLINE=1 or deno task test:unit skips NetBox)\n' >&2
  local_env="$(mktemp -t netbox-toolkit-env.XXXXXX)"
  bash tests/netbox/provision.sh up >"$local_env" &
  provision_pid=$!
}
netbox_ready() {
  if [[ -n "${NETBOX_TEST_URL:-}" ]]; then return 0; fi
  if [[ -n "$provision_pid" ]]; then
    local pid="$provision_pid"
    provision_pid=""
    if ! wait "$pid"; then
      rm -f "$local_env"
      printf 'test: the local NetBox did not start (see above); run the unit tests alone with deno task test:unit\n' >&2
      return 1
    fi
    load_env "$local_env"
    rm -f "$local_env"
  elif [[ -n "${NETBOX_TEST_ENV_FILE:-}" ]]; then
    local waited=0
    until [[ -s "$NETBOX_TEST_ENV_FILE" ]]; do
      if [[ -e "$NETBOX_TEST_ENV_FILE.failed" ]] || ((waited >= 3600)); then
        printf 'test: no NetBox: %s did not appear (its provisioning failed or took over an hour)\n' "$NETBOX_TEST_ENV_FILE" >&2
        return 1
      fi
      sleep 2
      waited=$((waited + 2))
    done
    load_env "$NETBOX_TEST_ENV_FILE"
  else
    return 0
  fi
  printf 'test: against %s\n' "$NETBOX_TEST_URL" >&2
}
trap '[[ -n "$provision_pid" ]] && kill "$provision_pid" 2>/dev/null; [[ -n "$local_env" ]] && rm -f "$local_env"' EXIT

run_tests() {
  deno test --no-prompt --sanitize-ops --sanitize-resources --allow-net=127.0.0.1,localhost \
    --allow-env --allow-read --allow-write --allow-run --allow-import=127.0.0.1 "$@"
}

# Named test files or folders, an --ignore or --parallel of the caller: one `deno test` as asked.
split=1
for arg in "$@"; do
  case "$arg" in
  --ignore=* | --parallel) split=0 ;;
  -*) ;;
  *) [[ -e "$arg" ]] && split=0 ;;
  esac
done
needs_netbox=0
[[ -z "${NETBOX_TEST_URL:-}" && "${NETBOX_TEST_OFFLINE:-}" != 1 ]] && needs_netbox=1
if ((!split)); then
  if ((needs_netbox)); then
    [[ -z "${NETBOX_TEST_ENV_FILE:-}" ]] && start_local
    netbox_ready || exit 1
  fi
  run_tests "$@" || exit $?
  exit 0
fi
((needs_netbox)) && [[ -z "${NETBOX_TEST_ENV_FILE:-}" ]] && start_local

# Everything: the unit tests first, two files at a time (--parallel: they wait on timers and fake
# servers more than they compute), then the integration tests one file after the other (they
# share one NetBox). A --junit-path=FILE gets both runs' reports merged into FILE.
args=() junit=""
for arg in "$@"; do
  case "$arg" in
  --junit-path=*) junit="${arg#--junit-path=}" ;;
  *) args+=("$arg") ;;
  esac
done
unit_report=() integration_report=()
if [[ -n "$junit" ]]; then
  unit_report=("--junit-path=$junit.unit.xml")
  integration_report=("--junit-path=$junit.integration.xml")
fi
code=0
DENO_JOBS="${DENO_JOBS:-2}" run_tests --parallel --ignore=tests/integration/ \
  ${unit_report[@]+"${unit_report[@]}"} ${args[@]+"${args[@]}"} || code=$?
if netbox_ready; then
  run_tests ${integration_report[@]+"${integration_report[@]}"} ${args[@]+"${args[@]}"} \
    tests/integration/ || code=$?
else
  code=1
fi
if [[ -n "$junit" ]]; then
  python3 - "$junit" "$junit.unit.xml" "$junit.integration.xml" <<'PY'
import os, sys
import xml.etree.ElementTree as ET
merged = ET.Element("testsuites")
for part in sys.argv[2:]:
    if os.path.exists(part):
        merged.extend(list(ET.parse(part).getroot()))
ET.ElementTree(merged).write(sys.argv[1], encoding="unicode", xml_declaration=True)
PY
fi
exit "$code"
