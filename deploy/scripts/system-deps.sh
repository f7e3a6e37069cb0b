#!/usr/bin/env bash
# Installs the system packages Tubelet needs, only when missing (Debian/Ubuntu, apt-get as root).
#   system-deps.sh run   -> what the platform needs (OpenCV's libGL, Node.js for the web app)
#   system-deps.sh test  -> also Chromium (browser tests), ffmpeg (rotation fixtures),
#                           PostgreSQL and Redis servers
set -euo pipefail
mode=${1:-run}

need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libGL.so.1 || need+=(libgl1)
have_lib libglib-2.0.so.0 || need+=(libglib2.0-0)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
  command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "==> installing system packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "error: missing system packages (${need[*]}) and not root to install them" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
