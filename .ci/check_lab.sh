#!/usr/bin/env bash
# `make lab` as CI's user (root): JupyterLab must start (the Makefile passes --allow-root only
# to root), answer its REST API, and stop. The server runs headless on a free local port.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=ci-$RANDOM$RANDOM
log=$(mktemp)
make lab JUPYTER_ARGS="--no-browser --ip 127.0.0.1 --port $port --IdentityProvider.token=$token" >"$log" 2>&1 &
pid=$!
stop() { pkill -TERM -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 240); do  # the first `make lab` installs JupyterLab: allow a few minutes
  if curl -fsS "http://127.0.0.1:$port/api/status?token=$token" >/dev/null 2>&1; then
    curl -fsS "http://127.0.0.1:$port/api/contents/01_snn?token=$token" | grep -q '"snn_kd.ipynb"' \
      || { echo "make lab: the server answers but lab/01_snn/snn_kd.ipynb is not there"; exit 1; }
    echo "make lab: JupyterLab answered on 127.0.0.1:$port and lists the chapter notebooks"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "make lab exited before its server answered:"; tail -30 "$log"; exit 1; }
  sleep 1
done
echo "make lab: no answer from JupyterLab within 240 s:"; tail -30 "$log"; exit 1
