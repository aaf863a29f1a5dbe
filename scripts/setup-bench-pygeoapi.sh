#!/usr/bin/env bash
# The environment bench/bench_server.py runs pygeoapi in (only for that benchmark, never for the tests):
# pygeoapi reads a GeoPackage through GDAL's Python bindings (its OGR provider), which come from Debian's
# python3-gdal, so the environment is made from Debian's python3 with its site packages. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
dpkg -s python3-gdal >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-gdal >/dev/null; }
[ -x .bench-pygeoapi/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .bench-pygeoapi
.bench-pygeoapi/bin/pip install -q "pygeoapi==0.21.0" "uvicorn>=0.29" starlette  # pygeoapi.starlette_app, served by uvicorn like SafeGround
echo "pygeoapi ready: .bench-pygeoapi/bin/python -m pygeoapi"
