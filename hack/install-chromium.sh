#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests (test/browser) when it is
# missing. It is idempotent: a machine that already has chromium only prints where it is, so
# `make test` can depend on it without touching the package index every run.
set -euo pipefail

find_chromium() {
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if path="$(find_chromium)"; then
  echo "install-chromium: chromium already installed at ${path}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: chromium is missing and installing it needs root (apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: chromium is missing; running apt-get update"
apt-get update
echo "install-chromium: installing chromium (this takes a few minutes)"
apt-get install -y chromium
path="$(find_chromium)"
echo "install-chromium: installed chromium at ${path}: $("${path}" --version 2>/dev/null || echo 'version unknown')"
