#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run calls exactly this): installs what the
# tests need when it is missing, then runs cargo fmt --check, clippy and every test.
#
# Needed beside the Rust toolchain (everything else comes from crates.io through Cargo.lock):
#   xmllint   (Debian libxml2-utils)  validates the JUnit output against an XML Schema
#   chromium  (Debian chromium)       loads the fleet's HTML report headless and screenshots it
#   bash      (Debian bash)           runs every plan against stub host commands
#   shellcheck, curl, jq (Debian)     lint every runbook, and rehearse it against simulators
#   python3 with venv (Debian python3, python3-venv), and in a virtual environment this script
#   owns (.venv-tests/, pinned): prometheus-client, which parses the fleet's Prometheus
#   textfile, and moto[server], which emulates the EC2 API the GHES VM-snapshot check reads.
# The tests start their own loopback servers: no Elasticsearch, Kibana, GHES or network.
set -euo pipefail
cd "$(dirname "$0")"

PYPI=("prometheus-client==0.26.0" "moto[server]==5.2.1")
VENV=.venv-tests

say() { printf 'test.sh: %s\n' "$*" >&2; }

# Stops with one line naming what is missing and how to install it.
missing() {
  say "cannot run the tests: missing $1; install it with: $2, then run ./test.sh again"
  exit 1
}

command -v cargo >/dev/null || missing "cargo" "https://rustup.rs (the Rust toolchain)"

# Debian packages, with sudo when not root (asking for a password only on a terminal).
packages=()
command -v xmllint >/dev/null || packages+=(libxml2-utils)
# Runbooks are linted and rehearsed: shellcheck, and the curl and jq they call.
command -v shellcheck >/dev/null || packages+=(shellcheck)
command -v jq >/dev/null || packages+=(jq)
command -v curl >/dev/null || packages+=(curl)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || packages+=(chromium)
command -v python3 >/dev/null || packages+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
if [ ${#packages[@]} -gt 0 ]; then
  apt=(apt-get)
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      missing "${packages[*]}" "apt-get install ${packages[*]} (as root)"
    fi
    if [ -t 0 ]; then apt=(sudo apt-get); else apt=(sudo -n apt-get); fi
  fi
  command -v apt-get >/dev/null || missing "${packages[*]}" "your package manager (Debian names: ${packages[*]})"
  say "installing ${packages[*]}"
  if ! { "${apt[@]}" install -y -q "${packages[@]}" >/dev/null 2>&1 \
        || { "${apt[@]}" update -q >/dev/null 2>&1 && "${apt[@]}" install -y -q "${packages[@]}" >/dev/null 2>&1; }; }; then
    missing "${packages[*]}" "sudo apt-get install ${packages[*]}"
  fi
fi

# The Python tools, pinned, in a virtual environment of our own (never the system Python).
if ! "$VENV/bin/python3" -c 'import prometheus_client, moto.server, boto3' 2>/dev/null; then
  say "installing ${PYPI[*]} into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >/dev/null 2>&1 || missing "python3-venv" "sudo apt-get install python3-venv"
  "$VENV/bin/python3" -m pip install -q --disable-pip-version-check "${PYPI[@]}" >/dev/null 2>&1 \
    || missing "${PYPI[*]} (PyPI unreachable?)" "$VENV/bin/python3 -m pip install ${PYPI[*]}"
fi
# The tests run `python3`: this environment's.
PATH="$PWD/$VENV/bin:$PATH"
export PATH

cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt >/dev/null 2>&1 \
  || missing "rustfmt" "rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy >/dev/null 2>&1 \
  || missing "clippy" "rustup component add clippy"

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked "$@"
