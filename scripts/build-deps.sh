#!/usr/bin/env bash
# Install the Debian packages that building the Python dependencies needs: PyICU (the locale's
# collation of the country list) compiles against ICU, found with pkg-config, with a C++
# compiler. Installs only what is missing; without root it says what to install instead.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v g++ >/dev/null || missing+=(g++)
pkg-config --exists icu-i18n 2>/dev/null || missing+=(libicu-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "build-deps: please install: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "build-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
