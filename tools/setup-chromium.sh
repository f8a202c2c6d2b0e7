#!/bin/sh
# Chromium for the browser specs (spec/browser): Debian's package, installed once (idempotent). puppeteer-core
# drives it; puppeteer's own browser download is not used.
set -eu
CHROMIUM=${WAVPROBE_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
"$CHROMIUM" --version
