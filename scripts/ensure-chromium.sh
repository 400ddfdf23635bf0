#!/usr/bin/env bash
# Headless Chromium for the HTML report's browser tests: installed with apt-get
# when we are root on Debian, otherwise we say what to install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "gradflow: installing Chromium (for the HTML report's browser tests) with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "gradflow's browser tests need Chromium: sudo apt-get install chromium" >&2
exit 1
