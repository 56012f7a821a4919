#!/bin/sh
# Debian packages the tests need beyond Python: Chromium for the dashboard's browser test (driven by
# Playwright at /usr/bin/chromium, never a downloaded browser), poppler-utils (pdftoppm, pdftotext) to
# render and read the PDF reports, wrk for the API benchmark's smoke run, prometheus (the server and
# promtool) for the metrics scrape test and the alerting rules' unit tests, and the fleet's engines:
# mosquitto (the MQTT broker) and postgresql (central's store; the tests run a private server of their
# own, never the packaged cluster). Installs only what is missing, so a machine that has them costs nothing.
exec "$(dirname "$0")/ensure-debian-packages.sh" chromium poppler-utils wrk prometheus mosquitto postgresql
