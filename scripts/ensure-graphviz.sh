#!/usr/bin/env bash
# Make sure Graphviz's `dot` is on PATH: install it with apt-get when we are
# root on a Debian-like system, otherwise say exactly what to install.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "gradflow: installing Graphviz (dot) with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq graphviz >/dev/null
  command -v dot >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
gradflow needs Graphviz's `dot` to draw graphs, and it is not installed.
Install it, then run make again:
  Debian/Ubuntu:  sudo apt-get install graphviz
  Fedora:         sudo dnf install graphviz
  macOS:          brew install graphviz
MSG
exit 1
