#!/bin/sh
# Chromium as a viewer's browser on a machine it shares with the stack under test. Run as root it
# raises seven of its display threads to nice -8, which starves the edge, the origin and ffmpeg on
# two cores (a viewer's browser never shares their CPU). Without CAP_SYS_NICE they stay at nice 0
# like everything else. $EDGELIVE_CHROMIUM is the browser (default /usr/bin/chromium).
browser="${EDGELIVE_CHROMIUM:-/usr/bin/chromium}"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  exec setpriv --bounding-set -sys_nice --inh-caps -sys_nice "$browser" "$@"
fi
exec "$browser" "$@"
