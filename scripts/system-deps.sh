#!/usr/bin/env bash
# Debian packages the tests need beyond Python: Chromium for the dashboard's browser test (driven by
# Playwright at /usr/bin/chromium, never a downloaded browser) and poppler-utils (pdftoppm, pdftotext) to
# render and read the PDF reports. Installs only what is missing, so a machine that has them costs nothing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing ${missing[*]} and no apt-get to install them; install them with your package manager" >&2
    exit 1
fi
echo "installing ${missing[*]} with apt-get" >&2
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -q
$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
