#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and demo scepd.
# Only packages that are missing are installed, so a warm machine does not
# touch the network; `apt-get update` runs once, and only if something is
# missing. Run as root (or with sudo available). Set SCEPD_SKIP_DEPS=1 to
# skip this step entirely (e.g. on a non-Debian machine you set up by hand).
#
# Usage: scripts/lib/install-deps.sh [extra-package...]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libssl-dev libcurl4-openssl-dev libinih-dev libspdlog-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev
  scep busybox shellcheck openssl ca-certificates tinyproxy microsocks
  systemd groff-base man-db dpkg-dev lintian
  python3 python3-asn1crypto python3-cryptography python3-prometheus-client chromium
  strongswan-pki libstrongswan-extra-plugins
  "$@"
)

if [[ -n "${SCEPD_SKIP_DEPS:-}" ]]; then
  echo "install-deps: SCEPD_SKIP_DEPS set, not checking packages"
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: dpkg-query not found; this step expects Debian 12." >&2
  echo "install-deps: install these by hand, then set SCEPD_SKIP_DEPS=1: ${packages[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != ii* ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: missing packages and not root: ${missing[*]}" >&2
    exit 1
  fi
fi

# A fresh machine may be running apt's daily jobs (they hold dpkg's lock)
# and a mirror may fail a fetch now and then: wait for the lock up to 10
# minutes, let apt retry each download, and try the whole step three times.
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
for attempt in 1 2 3; do
  if "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
    exit 0
  fi
  if [[ $attempt -lt 3 ]]; then
    echo "install-deps: apt-get failed (attempt $attempt of 3); trying again in $((attempt * 20)) s" >&2
    sleep $((attempt * 20))
  fi
done
echo "install-deps: apt-get failed three times; could not install: ${missing[*]}" >&2
exit 1
