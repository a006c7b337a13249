# shellcheck shell=bash
# Shared by scripts/test and scripts/start (sourced, never run): Debian packages and the virtualenv.
# A machine that already has everything pays only a few checks; apt and pip run only when something is missing.

CC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CC_VENV="$CC_ROOT/.venv"

# Debian packages the test peers need, one per line: "<apt package> <probe>". The probe is a command on
# PATH, or a path glob when it contains a slash. Issues 3 and 4 add lines such as
# "dovecot-imapd dovecot" and "sip-tester sipp" here.
# shellcheck disable=SC2034 # used by scripts/test
CC_TEST_PACKAGES=(
  "postgresql /usr/lib/postgresql/*/bin/postgres"
  "redis-server redis-server"
  "dovecot-imapd dovecot"
  "dovecot-lmtpd /usr/lib/dovecot/lmtp"
  "kamailio kamailio"
  "sip-tester sipp"
  "sox sox"
  "espeak-ng espeak-ng"
  "nodejs node"
  "npm npm"
  "chromium chromium"
)

# Bold and red only on a terminal; CI logs stay plain.
# shellcheck disable=SC2034 # CC_GREEN is used by scripts/test
if [[ -t 1 ]]; then
  CC_B=$'\033[1m' CC_RED=$'\033[1;31m' CC_GREEN=$'\033[1;32m' CC_OFF=$'\033[0m'
else
  CC_B='' CC_RED='' CC_GREEN='' CC_OFF=''
fi
cc_step() { printf '\n%s==> %s%s\n' "$CC_B" "$*" "$CC_OFF"; }
cc_note() { printf '    %s\n' "$*"; }
cc_die() {
  printf '%serror:%s %s\n' "$CC_RED" "$CC_OFF" "$*" >&2
  exit 1
}

cc_probe() {
  if [[ $1 == */* ]]; then
    compgen -G "$1" >/dev/null
  else
    command -v "$1" >/dev/null
  fi
}

# cc_apt_ensure "<package> <probe>"... : installs the packages whose probe fails, with one apt-get call.
cc_apt_ensure() {
  local entry package probe missing=()
  for entry in "$@"; do
    read -r package probe <<<"$entry"
    cc_probe "${probe:-$package}" || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0

  cc_apt_install "${missing[@]}"
  for entry in "$@"; do
    read -r package probe <<<"$entry"
    cc_probe "${probe:-$package}" || cc_die "installed $package, but '${probe:-$package}' is still missing"
  done
}

cc_apt_install() {
  cc_step "Installing Debian packages: $*"
  command -v apt-get >/dev/null || cc_die "apt-get not found: install $* with your package manager"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || cc_die "not root and no sudo: install $* as root"
    sudo=(sudo)
  fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}

cc_python311() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# cc_venv_ensure: .venv with Python 3.11 and requirements-dev.txt, then .venv/bin first on PATH.
# pip runs only when the requirements files changed since the last install (hash in a stamp file).
cc_venv_ensure() {
  if [[ ! -x $CC_VENV/bin/python ]]; then
    local python
    python="$(cc_python311)" || cc_die "Python 3.11 is needed: no python3.11, and python3 is not 3.11"
    cc_step "Creating .venv with $python"
    if ! "$python" -m venv "$CC_VENV"; then
      # Debian's and Ubuntu's system Python ship venv's pip bootstrap as a separate package.
      rm -rf "$CC_VENV"
      cc_apt_install python3.11-venv
      "$python" -m venv "$CC_VENV"
    fi
  fi
  "$CC_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    cc_die ".venv is not Python 3.11: remove it and run this again"

  local stamp="$CC_VENV/.requirements.sha256" want
  want="$(cd "$CC_ROOT" && cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [[ ! -f $stamp || "$(<"$stamp")" != "$want" ]]; then
    cc_step "Installing Python requirements (requirements-dev.txt)"
    "$CC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$CC_ROOT/requirements-dev.txt"
    printf '%s\n' "$want" >"$stamp"
  fi
  export VIRTUAL_ENV="$CC_VENV"
  export PATH="$CC_VENV/bin:$PATH"
}

# cc_calendar_build: compiles sla/_calendar_fast.c, the calendar's hot path (see there), into sla/ when the
# built module is missing or older than its source. Installs gcc and the Python headers where missing.
# Returns non-zero when it cannot build: the product then runs the (slower) Python hot path.
cc_calendar_build() {
  local python="$CC_VENV/bin/python" source="$CC_ROOT/sla/_calendar_fast.c" built headers
  built="$CC_ROOT/sla/_calendar_fast$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
  if [[ -f $built && $built -nt $source && $built -nt $CC_ROOT/setup.py ]]; then
    return 0
  fi
  headers="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h"
  if ! command -v gcc >/dev/null || [[ ! -f $headers ]]; then
    # python3.11-dev is where Debian's and Ubuntu's Python 3.11 keep Python.h. In a subshell, so that a
    # failed install (no apt-get, no such package) leaves the build to fail and the caller to decide.
    if ((EUID == 0)) || sudo -n true 2>/dev/null; then
      (cc_apt_install gcc python3.11-dev) || true
    fi
  fi
  cc_step "Compiling the calendar's hot path (sla/_calendar_fast.c)"
  if ! (cd "$CC_ROOT" && "$python" setup.py -q build_ext --inplace); then
    rm -f "$built" # an older build may not fit today's sla/calendar.py: the Python path it is
    return 1
  fi
  touch "$built" # setuptools copies it with whole-second times, which can look older than its source
}

# cc_dotenv_has NAME: true when the project's .env file sets NAME (Django reads that file too).
cc_dotenv_has() {
  [[ -f $CC_ROOT/.env ]] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?$1=" "$CC_ROOT/.env"
}

# cc_frontend_ensure: the workplace's scripts (htmx, wavesurfer.js) installed from the npm registry with
# the lock file and bundled by esbuild into workplace/static/workplace/build/. npm ci runs only when the
# lock file changed; the bundle is rebuilt only when a source is newer than it.
cc_frontend_ensure() {
  cc_apt_ensure "nodejs node" "npm npm"
  local frontend="$CC_ROOT/workplace/frontend" bundle="$CC_ROOT/workplace/static/workplace/build/workplace.js"
  local stamp="$frontend/node_modules/.lock.sha256" want
  want="$(sha256sum "$frontend/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f $stamp || "$(<"$stamp")" != "$want" ]]; then
    cc_step "Installing the workplace's scripts (npm ci)"
    (cd "$frontend" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$want" >"$stamp"
  fi
  if [[ ! -f $bundle ]] || [[ -n "$(find "$frontend/src" "$frontend/build.mjs" "$stamp" -newer "$bundle" -print -quit)" ]]; then
    cc_step "Building the workplace's scripts (esbuild)"
    (cd "$frontend" && npm run --silent build)
  fi
}
