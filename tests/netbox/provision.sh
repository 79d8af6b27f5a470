#!/usr/bin/env bash
# Provision a disposable NetBox on loopback for the integration tests: 4.7.x from PyPI, 4.3.7,
# 4.5.10 and 4.6.8 from the source archives (checksums verified), each version with its own venv,
# template database and tokens.
#
#   bash tests/netbox/provision.sh up [--fresh]  start (or re-check) NetBox, print the env file
#   bash tests/netbox/provision.sh reset         fresh empty NetBox: re-clone the template database
#   bash tests/netbox/provision.sh down          stop exactly the gunicorn this script started
#   bash tests/netbox/provision.sh env           print the env file (NETBOX_TEST_*)
#   bash tests/netbox/provision.sh snapshot      run every migration into a scratch database and
#                                                write tests/netbox/snapshots/ (the template database
#                                                is restored from it: seconds instead of minutes)
#
# Environment (all optional):
#   NETBOX_TEST_VERSION   4.7.3 (default, PyPI), 4.3.7, 4.5.10 or 4.6.8 (source archives)
#   NETBOX_SRC_DIR        folder with netbox-<version>.tar.xz and SHA256SUMS (default: the first of
#                         ../shared/netbox-src beside the checkout and /work/shared/netbox-src)
#   NETBOX_TOOLKIT_CACHE  cache dir (venv, instance root, template stamp, pid/log/env files)
#                         default ${XDG_CACHE_HOME:-$HOME/.cache}/netbox-toolkit
#   NETBOX_TEST_PORT      gunicorn port on 127.0.0.1 (default 18080 for 4.7.3; 18083, 18085, 18086
#                         for 4.3.7, 4.5.10, 4.6.8)
#   NETBOX_TEST_DB        database of this instance (default netbox_toolkit_test, with the version
#                         appended for the older ones; must start with netbox_toolkit_)
#   NETBOX_TEST_REDIS_DB  Redis database for tasks (default 13; 1, 3, 5 for the older versions)
#   NETBOX_TEST_REDIS_CACHE_DB  Redis database for caching (default: the tasks database + 1)
#   NETBOX_TEST_WORKERS   gunicorn workers (default 4)
#   NETBOX_TEST_SNAPSHOT  0: build the template database by running the migrations, not from the
#                         snapshot
#
# Only 127.0.0.1 is ever contacted: PostgreSQL and Redis on their default ports, NetBox on its own.
# Logs go to stderr; `up` and `env` print only the env file on stdout.
set -euo pipefail

readonly NETBOX_VERSION="${NETBOX_TEST_VERSION:-4.7.3}"
readonly PYNETBOX_VERSION="7.9.0"
readonly GUNICORN_VERSION="26.2.0"
# The NetBox Branching plugin, on 4.7 only (its 1.2 line requires NetBox 4.7): installed, enabled
# and served by an RQ worker (branches are provisioned and merged by background jobs).
readonly BRANCHING_VERSION="1.2.2"
# Per version: where it comes from, default port and Redis database (tasks; caching = +1).
case "$NETBOX_VERSION" in
4.7.3) SOURCE=pypi DEFAULT_PORT=18080 DEFAULT_REDIS=13 DEFAULT_DB=netbox_toolkit_test ;;
4.3.7) SOURCE=archive DEFAULT_PORT=18083 DEFAULT_REDIS=1 DEFAULT_DB=netbox_toolkit_test_4_3_7 ;;
4.5.10) SOURCE=archive DEFAULT_PORT=18085 DEFAULT_REDIS=3 DEFAULT_DB=netbox_toolkit_test_4_5_10 ;;
4.6.8) SOURCE=archive DEFAULT_PORT=18086 DEFAULT_REDIS=5 DEFAULT_DB=netbox_toolkit_test_4_6_8 ;;
*)
  printf 'provision: error: NETBOX_TEST_VERSION=%s is not in the test matrix (4.7.3, 4.6.8, 4.5.10, 4.3.7)\n' \
    "$NETBOX_VERSION" >&2
  exit 1
  ;;
esac
readonly VERSION_TAG="${NETBOX_VERSION//./_}"
DEFAULT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/netbox-toolkit"
CACHE="${NETBOX_TOOLKIT_CACHE:-$DEFAULT_CACHE}"
# The template database belongs to the cache that built it (its venv, its secrets): a cache
# elsewhere (a CI run with an empty cache) builds and uses its own.
if [[ "$CACHE" == "$DEFAULT_CACHE" ]]; then
  readonly TEMPLATE_DB="netbox_toolkit_template_$VERSION_TAG"
else
  readonly TEMPLATE_DB="netbox_toolkit_template_${VERSION_TAG}_$(printf '%s' "$CACHE" | sha256sum | cut -c1-8)"
fi
readonly MINOR="${NETBOX_VERSION%.*}"
if [[ "$MINOR" == "4.7" ]]; then BRANCHING=true; else BRANCHING=false; fi
# NetBox 4.3 has v1 tokens only: the v1 token is then also the main one.
if [[ "$MINOR" == "4.3" ]]; then V2_TOKENS=false; else V2_TOKENS=true; fi
readonly ADMIN_USER="admin"
readonly ADMIN_PASSWORD="netbox-toolkit-admin"
readonly ADMIN_EMAIL="admin@example.invalid"

PORT="${NETBOX_TEST_PORT:-$DEFAULT_PORT}"
DB="${NETBOX_TEST_DB:-$DEFAULT_DB}"
REDIS_TASKS_DB="${NETBOX_TEST_REDIS_DB:-$DEFAULT_REDIS}"
REDIS_CACHE_DB="${NETBOX_TEST_REDIS_CACHE_DB:-$((REDIS_TASKS_DB + 1))}"
WORKERS="${NETBOX_TEST_WORKERS:-4}"
VERSION_DIR="$CACHE/netbox-$NETBOX_VERSION"
ROOT="$VERSION_DIR/root"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="$CACHE/run-$PORT"
PID_FILE="$RUN_DIR/gunicorn.pid"
LOG_FILE="$RUN_DIR/gunicorn.log"
SECRETS_FILE="$CACHE/secrets.env"
if [[ "$PORT" == "18080" ]]; then ENV_FILE="$CACHE/netbox.env"; else ENV_FILE="$RUN_DIR/netbox.env"; fi
URL="http://127.0.0.1:$PORT"

export PGHOST=127.0.0.1 PGUSER=postgres PGPORT="${PGPORT:-5432}" PGOPTIONS="-c client_min_messages=warning"
unset PGDATABASE PGPASSWORD

log() { printf 'provision: %s\n' "$*" >&2; }
die() {
  printf 'provision: error: %s\n' "$*" >&2
  exit 1
}

check_names() {
  [[ "$DB" =~ ^netbox_toolkit_[a-z0-9_]+$ && "$DB" != netbox_toolkit_template* ]] ||
    die "NETBOX_TEST_DB must match netbox_toolkit_[a-z0-9_]+ and not be the template (got '$DB')"
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "NETBOX_TEST_PORT must be a number (got '$PORT')"
  [[ "$REDIS_TASKS_DB" =~ ^[0-9]+$ ]] || die "NETBOX_TEST_REDIS_DB must be a number"
}

# --- Python --------------------------------------------------------------------------------------

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }

find_python() {
  local root="" candidate
  if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || true)"; fi
  [[ -n "$root" ]] || root="${PYENV_ROOT:-$HOME/.pyenv}"
  for candidate in "$root"/versions/3.12*/bin/python3 "$root"/versions/3.13*/bin/python3; do
    if [[ -x "$candidate" ]] && python_ok "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  candidate="$(command -v python3 || true)"
  if [[ -n "$candidate" ]] && python_ok "$candidate"; then
    echo "$candidate"
    return 0
  fi
  return 1
}

# --- system packages -----------------------------------------------------------------------------

ensure_apt_packages() {
  local missing=() pkg
  for pkg in libpq-dev gcc; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || true
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || die "missing Debian packages ${missing[*]} and no apt-get"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; then
      apt-get update -q >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
    fi
  fi
}

# --- venv ----------------------------------------------------------------------------------------

# The source archive of an older release, verified and unpacked once into the cache.
# Sets NETBOX_DIR (the folder with manage.py).
ensure_source() {
  local src="$VERSION_DIR/src" dir="" candidate archive sums want got
  NETBOX_DIR="$src/netbox-$NETBOX_VERSION/netbox"
  [[ -f "$src/.verified" && -f "$NETBOX_DIR/manage.py" ]] && return 0
  for candidate in "${NETBOX_SRC_DIR:-}" "$SCRIPT_DIR/../../../shared/netbox-src" /work/shared/netbox-src; do
    if [[ -n "$candidate" && -f "$candidate/netbox-$NETBOX_VERSION.tar.xz" ]]; then
      dir="$candidate"
      break
    fi
  done
  [[ -n "$dir" ]] || die "Cannot provision NetBox $NETBOX_VERSION: netbox-$NETBOX_VERSION.tar.xz not found (set NETBOX_SRC_DIR to the folder holding it and SHA256SUMS)"
  archive="$dir/netbox-$NETBOX_VERSION.tar.xz"
  sums="$dir/SHA256SUMS"
  [[ -f "$sums" ]] || die "Cannot provision NetBox $NETBOX_VERSION: no SHA256SUMS beside $archive"
  want="$(awk -v f="netbox-$NETBOX_VERSION.tar.xz" '$2 == f || $2 == "*" f {print $1}' "$sums")"
  [[ -n "$want" ]] || die "Cannot provision NetBox $NETBOX_VERSION: $sums has no line for netbox-$NETBOX_VERSION.tar.xz"
  got="$(sha256sum "$archive" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] || die "Cannot provision NetBox $NETBOX_VERSION: checksum mismatch for $archive (sha256 $got, SHA256SUMS says $want)"
  log "unpacking $archive (sha256 verified)"
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xJf "$archive" -C "$src.tmp"
  [[ -f "$src.tmp/netbox-$NETBOX_VERSION/netbox/manage.py" ]] || die "$archive does not hold netbox-$NETBOX_VERSION/netbox/manage.py"
  echo "$want" >"$src.tmp/.verified"
  mv "$src.tmp" "$src"
}

# Sets VENV (reused while the stamp - pins plus interpreter version - matches).
ensure_venv() {
  local python minor want
  python="$(find_python)" || die "Cannot provision NetBox: no Python >= 3.12 found (looked in \$(pyenv root)/versions/3.12*, 3.13* and python3); install one (pyenv install 3.12, or run on Debian 13 / a debootstrap trixie chroot)"
  minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  VENV="$VERSION_DIR/venv-py$minor"
  if [[ "$SOURCE" == pypi ]]; then
    want="netbox==$NETBOX_VERSION pynetbox==$PYNETBOX_VERSION gunicorn==$GUNICORN_VERSION python=$("$python" -V 2>&1)"
    ! $BRANCHING || want="$want netboxlabs-netbox-branching==$BRANCHING_VERSION"
  else
    ensure_source
    want="netbox-$NETBOX_VERSION.tar.xz sha256=$(cat "$VERSION_DIR/src/.verified") requirements.txt python=$("$python" -V 2>&1)"
  fi
  if [[ -x "$VENV/bin/python3" && -f "$VENV/.toolkit-stamp" && "$(cat "$VENV/.toolkit-stamp")" == "$want" ]]; then
    return 0
  fi
  ensure_apt_packages
  if [[ ! -x "$VENV/bin/python3" ]]; then
    log "creating venv $VENV ($python)"
    "$python" -m venv "$VENV" >&2
  fi
  local started=$SECONDS
  if [[ "$SOURCE" == pypi ]]; then
    local plugins=()
    ! $BRANCHING || plugins+=("netboxlabs-netbox-branching==$BRANCHING_VERSION")
    log "installing netbox==$NETBOX_VERSION pynetbox==$PYNETBOX_VERSION gunicorn==$GUNICORN_VERSION ${plugins[*]}"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      "netbox==$NETBOX_VERSION" "pynetbox==$PYNETBOX_VERSION" "gunicorn==$GUNICORN_VERSION" "${plugins[@]}" >&2
  else
    log "installing NetBox $NETBOX_VERSION's requirements.txt (pins from the release)"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      -r "$VERSION_DIR/src/netbox-$NETBOX_VERSION/requirements.txt" >&2
  fi
  log "venv ready in $((SECONDS - started)) s"
  printf '%s' "$want" >"$VENV/.toolkit-stamp"
}

# --- secrets and configuration -------------------------------------------------------------------

random_string() { # length
  "$VENV/bin/python3" -c 'import secrets, string, sys
alphabet = string.ascii_letters + string.digits
print("".join(secrets.choice(alphabet) for _ in range(int(sys.argv[1]))))' "$1"
}

random_hex() { # length (v1 token keys are 40 hexadecimal characters)
  "$VENV/bin/python3" -c 'import secrets, sys; print(secrets.token_hex(int(sys.argv[1]) // 2))' "$1"
}

ensure_secrets() {
  # One writer at a time: several versions are often provisioned side by side.
  exec 7>"$CACHE/secrets.lock"
  flock -w 600 7 || die "another provision.sh has held $CACHE/secrets.lock for 10 minutes"
  if [[ ! -f "$SECRETS_FILE" ]]; then
    log "generating secrets in $SECRETS_FILE"
    umask 077
    {
      echo "SECRET_KEY=$(random_string 60)"
      echo "PEPPER=$(random_string 60)"
      echo "TOKEN_V2_KEY=$(random_string 12)"
      echo "TOKEN_V2=$(random_string 40)"
      echo "TOKEN_RO_KEY=$(random_string 12)"
      echo "TOKEN_RO=$(random_string 40)"
      echo "TOKEN_V1=$(random_hex 40)"
      echo "TOKEN_RO_V1=$(random_hex 40)"
    } >"$SECRETS_FILE.tmp"
    mv "$SECRETS_FILE.tmp" "$SECRETS_FILE"
    umask 022
  fi
  # shellcheck source=/dev/null
  source "$SECRETS_FILE"
  if [[ -z "${TOKEN_RO_V1:-}" ]]; then
    TOKEN_RO_V1="$(random_hex 40)"
    echo "TOKEN_RO_V1=$TOKEN_RO_V1" >>"$SECRETS_FILE"
  fi
  exec 7>&-
}

ensure_config() {
  local conf
  if [[ "$SOURCE" == pypi ]]; then
    conf="$ROOT/conf/configuration.py"
    mkdir -p "$ROOT/conf"
    if [[ ! -f "$ROOT/.setup-done" ]]; then
      NETBOX_ROOT="$ROOT" "$VENV/bin/netbox" setup --target "$ROOT" >/dev/null 2>&1 || true
      touch "$ROOT/.setup-done"
    fi
  else
    conf="$NETBOX_DIR/netbox/configuration.py"
    mkdir -p "$ROOT"
  fi
  # Instance-specific values come from the environment so several instances share one config.
  cat >"$conf.tmp" <<EOF
# Written by tests/netbox/provision.sh - a disposable NetBox for tests, loopback only.
import os

ALLOWED_HOSTS = ['*']
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ.get('NETBOX_TOOLKIT_DB', 'netbox_toolkit_test'),
        'USER': 'postgres',
        'PASSWORD': '',
        'HOST': '127.0.0.1',
        'PORT': '${PGPORT}',
        'CONN_MAX_AGE': 0,
    }
}
REDIS = {
    'tasks': {
        'HOST': '127.0.0.1',
        'PORT': 6379,
        'DATABASE': int(os.environ.get('NETBOX_TOOLKIT_REDIS_TASKS', '13')),
        'SSL': False,
    },
    'caching': {
        'HOST': '127.0.0.1',
        'PORT': 6379,
        'DATABASE': int(os.environ.get('NETBOX_TOOLKIT_REDIS_CACHE', '14')),
        'SSL': False,
    },
}
SECRET_KEY = '${SECRET_KEY}'
API_TOKEN_PEPPERS = {1: '${PEPPER}'}
DEBUG = False
AUTH_PASSWORD_VALIDATORS = []
CENSUS_REPORTING_ENABLED = False
RELEASE_CHECK_URL = None
EOF
  if $BRANCHING; then
    cat >>"$conf.tmp" <<'EOF'

# NetBox Branching: each branch is a PostgreSQL schema of this database.
from netbox_branching.utilities import DynamicSchemaDict

DATABASES = DynamicSchemaDict(DATABASES)
DATABASE_ROUTERS = ['netbox_branching.database.BranchAwareRouter']
PLUGINS = ['netbox_branching']
EOF
  fi
  if ! cmp -s "$conf.tmp" "$conf"; then mv "$conf.tmp" "$conf"; else rm -f "$conf.tmp"; fi
}

netbox_cmd() { # db, args...
  local db="$1" cmd
  shift
  if [[ "$SOURCE" == pypi ]]; then cmd=("$VENV/bin/netbox"); else cmd=("$VENV/bin/python3" "$NETBOX_DIR/manage.py"); fi
  NETBOX_ROOT="$ROOT" NETBOX_TOOLKIT_DB="$db" NETBOX_TOOLKIT_REDIS_TASKS="$REDIS_TASKS_DB" \
    NETBOX_TOOLKIT_REDIS_CACHE="$REDIS_CACHE_DB" "${cmd[@]}" "$@"
}

# --- PostgreSQL ----------------------------------------------------------------------------------

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d postgres -At -c "$1"; }

db_exists() { [[ "$(psql_q "SELECT 1 FROM pg_database WHERE datname = '$1'")" == "1" ]]; }

db_comment() { psql_q "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$1'"; }

template_stamp() {
  if $BRANCHING; then
    echo "netbox-toolkit template netbox=$NETBOX_VERSION branching=$BRANCHING_VERSION"
  else
    echo "netbox-toolkit template netbox=$NETBOX_VERSION"
  fi
}

template_ready() { db_exists "$TEMPLATE_DB" && [[ "$(db_comment "$TEMPLATE_DB")" == "$(template_stamp)" ]]; }

# The database NetBox's migrations produce, per version (and Branching version): replayed with psql
# in seconds instead of minutes of migrations; `migrate` then runs on top (applies nothing when the
# snapshot is current, the missing migrations when not). `provision.sh snapshot` writes it.
snapshot_file() {
  if $BRANCHING; then
    echo "$SCRIPT_DIR/snapshots/netbox-$NETBOX_VERSION-branching-$BRANCHING_VERSION.sql.xz"
  else
    echo "$SCRIPT_DIR/snapshots/netbox-$NETBOX_VERSION.sql.xz"
  fi
}

# A database as NetBox's migrations leave it (no users yet): from the snapshot when there is one
# (and NETBOX_TEST_SNAPSHOT is not 0), else by running every migration.
migrated_database() { # db, "snapshot"|"migrations"
  local db="$1" how="$2" snapshot
  snapshot="$(snapshot_file)"
  psql_q "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  psql_q "CREATE DATABASE $db"
  if [[ "$how" == snapshot && -f "$snapshot" && "${NETBOX_TEST_SNAPSHOT:-1}" != 0 ]]; then
    log "restoring ${snapshot#"$SCRIPT_DIR/"} into $db, then checking for missing migrations"
    xz -dc "$snapshot" | psql -X -q -v ON_ERROR_STOP=1 -d "$db" >"$VERSION_DIR/migrate.log" 2>&1 ||
      die "restoring $snapshot failed, see $VERSION_DIR/migrate.log"
  else
    log "running NetBox's migrations into $db (a few minutes)"
  fi
  netbox_cmd "$db" migrate --no-input >>"$VERSION_DIR/migrate.log" 2>&1 ||
    die "netbox migrate failed, see $VERSION_DIR/migrate.log"
}

ensure_template() {
  template_ready && return 0
  # One builder at a time across all instances sharing this cache.
  exec 8>"$VERSION_DIR/template.lock"
  flock -w 1800 8 || die "another provision.sh has held $VERSION_DIR/template.lock for 30 minutes"
  if template_ready; then
    exec 8>&-
    return 0
  fi
  local build="${TEMPLATE_DB}_build" started=$SECONDS
  log "building template database $TEMPLATE_DB"
  migrated_database "$build" snapshot
  DJANGO_SUPERUSER_PASSWORD="$ADMIN_PASSWORD" netbox_cmd "$build" createsuperuser --no-input \
    --username "$ADMIN_USER" --email "$ADMIN_EMAIL" >>"$VERSION_DIR/migrate.log" 2>&1 ||
    die "netbox createsuperuser failed, see $VERSION_DIR/migrate.log"
  psql_q "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)"
  psql_q "ALTER DATABASE $build RENAME TO $TEMPLATE_DB"
  psql_q "COMMENT ON DATABASE $TEMPLATE_DB IS '$(template_stamp)'"
  log "template ready in $((SECONDS - started)) s"
  exec 8>&-
}

# Writes the snapshot: every migration run into a scratch database, dumped as plain SQL (xz).
cmd_snapshot() {
  local scratch="${TEMPLATE_DB}_snapshot" snapshot started=$SECONDS
  prepare
  snapshot="$(snapshot_file)"
  mkdir -p "$(dirname "$snapshot")"
  migrated_database "$scratch" migrations
  pg_dump --no-owner --no-privileges --no-comments "$scratch" | xz -9 >"$snapshot.tmp"
  mv "$snapshot.tmp" "$snapshot"
  psql_q "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"
  log "wrote ${snapshot#"$SCRIPT_DIR/"} ($(wc -c <"$snapshot") bytes) in $((SECONDS - started)) s"
}

hmac_hex() { # pepper, token
  "$VENV/bin/python3" -c 'import hashlib, hmac, sys
print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$1" "$2"
}

# Insert the admin tokens straight into the clone (same rows NetBox itself writes): v2, v2
# read-only, v1 and v1 read-only from 4.5 on; on 4.3 (v1 only) a v1 and a read-only v1 token.
insert_tokens() {
  if ! $V2_TOKENS; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<EOF
DELETE FROM users_token WHERE key IN ('$TOKEN_V1', '$TOKEN_RO_V1');
INSERT INTO users_token (user_id, description, created, write_enabled, key, allowed_ips)
SELECT id, 'netbox-toolkit tests v1', now(), true, '$TOKEN_V1', '{}' FROM users_user WHERE username = '$ADMIN_USER';
INSERT INTO users_token (user_id, description, created, write_enabled, key, allowed_ips)
SELECT id, 'netbox-toolkit tests read-only', now(), false, '$TOKEN_RO_V1', '{}' FROM users_user WHERE username = '$ADMIN_USER';
EOF
    return 0
  fi
  local digest_v2 digest_ro
  digest_v2="$(hmac_hex "$PEPPER" "$TOKEN_V2")"
  digest_ro="$(hmac_hex "$PEPPER" "$TOKEN_RO")"
  psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<EOF
DELETE FROM users_token WHERE key IN ('$TOKEN_V2_KEY', '$TOKEN_RO_KEY') OR plaintext IN ('$TOKEN_V1', '$TOKEN_RO_V1');
INSERT INTO users_token (version, user_id, description, created, enabled, write_enabled, plaintext, key, pepper_id, hmac_digest, allowed_ips)
SELECT 2, id, 'netbox-toolkit tests v2', now(), true, true, NULL, '$TOKEN_V2_KEY', 1, '$digest_v2', '{}' FROM users_user WHERE username = '$ADMIN_USER';
INSERT INTO users_token (version, user_id, description, created, enabled, write_enabled, plaintext, key, pepper_id, hmac_digest, allowed_ips)
SELECT 2, id, 'netbox-toolkit tests read-only', now(), true, false, NULL, '$TOKEN_RO_KEY', 1, '$digest_ro', '{}' FROM users_user WHERE username = '$ADMIN_USER';
INSERT INTO users_token (version, user_id, description, created, enabled, write_enabled, plaintext, key, pepper_id, hmac_digest, allowed_ips)
SELECT 1, id, 'netbox-toolkit tests v1', now(), true, true, '$TOKEN_V1', NULL, NULL, NULL, '{}' FROM users_user WHERE username = '$ADMIN_USER';
INSERT INTO users_token (version, user_id, description, created, enabled, write_enabled, plaintext, key, pepper_id, hmac_digest, allowed_ips)
SELECT 1, id, 'netbox-toolkit tests v1 read-only', now(), true, false, '$TOKEN_RO_V1', NULL, NULL, NULL, '{}' FROM users_user WHERE username = '$ADMIN_USER';
EOF
}

flush_redis() {
  local n
  for n in "$REDIS_TASKS_DB" "$REDIS_CACHE_DB"; do
    if command -v redis-cli >/dev/null 2>&1; then
      redis-cli -h 127.0.0.1 -n "$n" flushdb >/dev/null
    else
      "$VENV/bin/python3" -c 'import redis, sys; redis.Redis(host="127.0.0.1", db=int(sys.argv[1])).flushdb()' "$n"
    fi
  done
}

clone_database() {
  local attempt
  log "cloning $TEMPLATE_DB into $DB"
  psql_q "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  # CREATE DATABASE ... TEMPLATE fails while another session (a parallel clone) uses the template.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if psql_q "CREATE DATABASE $DB TEMPLATE $TEMPLATE_DB" 2>"$RUN_DIR/createdb.err"; then
      break
    fi
    ((attempt < 10)) || die "cannot clone $TEMPLATE_DB: $(cat "$RUN_DIR/createdb.err")"
    sleep 1
  done
  psql_q "COMMENT ON DATABASE $DB IS '$(template_stamp)'"
  insert_tokens
  flush_redis
}

# --- gunicorn ------------------------------------------------------------------------------------

running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: it must be our gunicorn.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "gunicorn.*127.0.0.1:$PORT" || return 1
  echo "$pid"
}

main_token() {
  if $V2_TOKENS; then echo "nbt_${TOKEN_V2_KEY}.${TOKEN_V2}"; else echo "$TOKEN_V1"; fi
}

auth_header() {
  if $V2_TOKENS; then echo "Authorization: Bearer $(main_token)"; else echo "Authorization: Token $(main_token)"; fi
}

status_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "$(auth_header)" "$URL/api/status/" 2>/dev/null || true
}

healthy() {
  local body
  body="$(curl -sf --max-time 5 -H "$(auth_header)" "$URL/api/status/" 2>/dev/null)" || return 1
  [[ "$body" == *"\"netbox-version\":\"$NETBOX_VERSION\""* ]] || return 1
  # The web UI's static files are served too (the login page loads them).
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/static/netbox.js")" == 200 ]]
}

# NetBox's web UI needs its static files (CSS, JavaScript): collected once per venv and version,
# then served by a small WSGI front in the same gunicorn (below), as a web server would.
ensure_static() {
  local stamp="$VENV/.toolkit-static"
  [[ -f "$stamp" && "$(cat "$stamp")" == "$(cat "$VENV/.toolkit-stamp")" ]] && return 0
  exec 6>"$VERSION_DIR/static.lock"
  flock -w 600 6 || die "another provision.sh has held $VERSION_DIR/static.lock for 10 minutes"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$(cat "$VENV/.toolkit-stamp")" ]]; then
    exec 6>&-
    return 0
  fi
  local started=$SECONDS
  log "collecting NetBox's static files (once per venv)"
  netbox_cmd "$TEMPLATE_DB" collectstatic --no-input >"$VERSION_DIR/collectstatic.log" 2>&1 ||
    die "netbox collectstatic failed, see $VERSION_DIR/collectstatic.log"
  cp "$VENV/.toolkit-stamp" "$stamp"
  log "static files collected in $((SECONDS - started)) s"
  exec 6>&-
}

# The WSGI application gunicorn runs: /static/ from NetBox's STATIC_ROOT, everything else NetBox.
write_front() { # dir
  cat >"$1/toolkit_wsgi.py" <<'EOF'
"""Written by tests/netbox/provision.sh: NetBox plus its collected static files, in one WSGI app.

NetBox (DEBUG off) does not serve /static/; in production a web server does. This small front
does the same for a disposable local NetBox: GET/HEAD of files under STATIC_ROOT, the rest goes
to NetBox.
"""
import mimetypes
import os

from netbox.wsgi import application as netbox_application
from django.conf import settings

STATIC_ROOT = os.path.realpath(settings.STATIC_ROOT)
STATIC_URL = settings.STATIC_URL


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if not path.startswith(STATIC_URL):
        return netbox_application(environ, start_response)
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")])
        return [b"method not allowed\n"]
    file = os.path.realpath(os.path.join(STATIC_ROOT, path[len(STATIC_URL):]))
    if not file.startswith(STATIC_ROOT + os.sep) or not os.path.isfile(file):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    kind, encoding = mimetypes.guess_type(file)
    headers = [
        ("Content-Type", kind or "application/octet-stream"),
        ("Content-Length", str(os.path.getsize(file))),
        ("Cache-Control", "public, max-age=3600"),
    ]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    start_response("200 OK", headers)
    if environ["REQUEST_METHOD"] == "HEAD":
        return [b""]
    with open(file, "rb") as f:
        return [f.read()]
EOF
}

start_gunicorn() {
  local started=$SECONDS
  if [[ "$(status_code)" != "000" ]]; then
    die "port $PORT on 127.0.0.1 is already in use by something this script did not start"
  fi
  # --preload imports NetBox once in the master (4 parallel imports on 2 cores took ~50 s);
  # forked workers must not share the master's database connection.
  cat >"$ROOT/gunicorn_conf.py" <<'EOF'
def post_fork(server, worker):
    from django.db import connections
    connections.close_all()
EOF
  local extra=() workdir="$ROOT"
  [[ "$SOURCE" == pypi ]] || workdir="$NETBOX_DIR"
  # gunicorn >= 25 opens a control socket unless told not to; older ones lack the flag.
  if "$VENV/bin/gunicorn" --help 2>/dev/null | grep -q -- '--no-control-socket'; then extra+=(--no-control-socket); fi
  ensure_static
  write_front "$workdir"
  log "starting NetBox $NETBOX_VERSION (gunicorn) on $URL ($WORKERS workers, log $LOG_FILE)"
  (
    cd "$workdir"
    NETBOX_ROOT="$ROOT" NETBOX_TOOLKIT_DB="$DB" NETBOX_TOOLKIT_REDIS_TASKS="$REDIS_TASKS_DB" \
      NETBOX_TOOLKIT_REDIS_CACHE="$REDIS_CACHE_DB" \
      "$VENV/bin/gunicorn" --daemon --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
      --pid "$PID_FILE" --error-logfile "$LOG_FILE" --capture-output --timeout 300 \
      --graceful-timeout 5 "${extra[@]}" --preload --config "$ROOT/gunicorn_conf.py" --name "netbox-toolkit-$PORT" toolkit_wsgi 6>&- 7>&- 8>&- 9>&-
  )
  while ((SECONDS - started < 120)); do
    if healthy; then
      log "NetBox $NETBOX_VERSION answers on $URL after $((SECONDS - started)) s"
      return 0
    fi
    if [[ -f "$PID_FILE" ]] && ! running_pid >/dev/null && ((SECONDS - started > 5)); then
      tail -n 30 "$LOG_FILE" >&2 || true
      die "gunicorn exited, see $LOG_FILE"
    fi
    sleep 0.5
  done
  tail -n 30 "$LOG_FILE" >&2 || true
  die "NetBox did not answer on $URL/api/status/ within 120 s, see $LOG_FILE"
}

# The RQ worker runs NetBox's background jobs (here: the branching plugin's provision and merge).
WORKER_PID_FILE="$RUN_DIR/rqworker.pid"
WORKER_LOG_FILE="$RUN_DIR/rqworker.log"

worker_pid() {
  local pid
  [[ -f "$WORKER_PID_FILE" ]] || return 1
  pid="$(cat "$WORKER_PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "rqworker" || return 1
  echo "$pid"
}

start_worker() {
  $BRANCHING || return 0
  worker_pid >/dev/null && return 0
  log "starting NetBox's RQ worker (log $WORKER_LOG_FILE)"
  local workdir="$ROOT" cmd
  [[ "$SOURCE" == pypi ]] || workdir="$NETBOX_DIR"
  if [[ "$SOURCE" == pypi ]]; then cmd=("$VENV/bin/netbox"); else cmd=("$VENV/bin/python3" "$NETBOX_DIR/manage.py"); fi
  (
    cd "$workdir"
    NETBOX_ROOT="$ROOT" NETBOX_TOOLKIT_DB="$DB" NETBOX_TOOLKIT_REDIS_TASKS="$REDIS_TASKS_DB" \
      NETBOX_TOOLKIT_REDIS_CACHE="$REDIS_CACHE_DB" \
      setsid "${cmd[@]}" rqworker high default low >"$WORKER_LOG_FILE" 2>&1 </dev/null 6>&- 7>&- 8>&- 9>&- &
    echo $! >"$WORKER_PID_FILE"
  )
}

stop_worker() {
  local pid waited=0
  pid="$(worker_pid)" || {
    rm -f "$WORKER_PID_FILE"
    return 0
  }
  log "stopping the RQ worker ($pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$WORKER_PID_FILE"
}

stop_gunicorn() {
  local pid children waited=0
  pid="$(running_pid)" || {
    rm -f "$PID_FILE"
    return 0
  }
  children="$(pgrep -P "$pid" || true)"
  log "stopping gunicorn (master $pid, workers $(echo $children))"
  # QUIT = quick shutdown. Python's exit after importing NetBox takes ~10 s (finalisation), which
  # a disposable test server need not wait for: after 2 s everything left gets SIGKILL.
  kill -QUIT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < 20)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  children="$children $(pgrep -P "$pid" || true)"
  kill -KILL "$pid" $children 2>/dev/null || true
  for pid in $pid $children; do
    while kill -0 "$pid" 2>/dev/null && [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]]; do sleep 0.1; done
  done
  rm -f "$PID_FILE"
}

write_env() {
  local ro="nbt_${TOKEN_RO_KEY}.${TOKEN_RO}"
  $V2_TOKENS || ro="$TOKEN_RO_V1"
  umask 077
  cat >"$ENV_FILE.tmp" <<EOF
NETBOX_TEST_VERSION=$NETBOX_VERSION
NETBOX_TEST_URL=$URL
NETBOX_TEST_TOKEN=$(main_token)
NETBOX_TEST_TOKEN_V1=${TOKEN_V1}
NETBOX_TEST_TOKEN_RO=${ro}
NETBOX_TEST_TOKEN_RO_V1=${TOKEN_RO_V1}
NETBOX_TEST_USER=${ADMIN_USER}
NETBOX_TEST_PASSWORD=${ADMIN_PASSWORD}
NETBOX_TEST_DB=${DB}
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  umask 022
}

# --- verbs ---------------------------------------------------------------------------------------

prepare() {
  check_names
  mkdir -p "$CACHE" "$RUN_DIR"
  ensure_venv
  ensure_secrets
  ensure_config
}

cmd_up() {
  local fresh="${1:-}"
  prepare
  if [[ "$fresh" != "--fresh" ]] && running_pid >/dev/null && healthy; then
    start_worker
    write_env
    log "already running on $URL"
    cat "$ENV_FILE"
    return 0
  fi
  stop_gunicorn
  ensure_template
  if [[ "$fresh" == "--fresh" ]] || ! db_exists "$DB" || [[ "$(db_comment "$DB")" != "$(template_stamp)" ]]; then
    clone_database
  else
    insert_tokens
  fi
  stop_worker
  start_gunicorn
  start_worker
  write_env
  cat "$ENV_FILE"
}

cmd_reset() {
  local started=$SECONDS
  prepare
  ensure_template
  # DROP ... WITH (FORCE) ends the workers' connections; with CONN_MAX_AGE 0 each request opens
  # a new one, so a running gunicorn simply continues on the fresh clone (no restart needed).
  # The worker's database connection died with the old clone: a new worker for the new one.
  stop_worker
  clone_database
  start_worker
  if running_pid >/dev/null && healthy; then
    log "gunicorn kept running on $URL"
  else
    stop_gunicorn
    start_gunicorn
  fi
  write_env
  log "reset done in $((SECONDS - started)) s"
}

cmd_down() {
  check_names
  stop_worker
  stop_gunicorn
  log "stopped"
}

cmd_env() {
  check_names
  [[ -f "$ENV_FILE" ]] || die "no env file at $ENV_FILE: run 'bash tests/netbox/provision.sh up' first"
  cat "$ENV_FILE"
}

with_lock() { # one provision.sh at a time per instance (port)
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/provision.lock"
  flock -w 1800 9 || die "another provision.sh has held $RUN_DIR/provision.lock for 30 minutes"
  "$@"
}

case "${1:-}" in
up) with_lock cmd_up "${2:-}" ;;
reset) with_lock cmd_reset ;;
down) with_lock cmd_down ;;
env) cmd_env ;;
snapshot) cmd_snapshot ;;
*)
  echo "usage: bash tests/netbox/provision.sh up [--fresh] | reset | down | env | snapshot" >&2
  exit 2
  ;;
esac
