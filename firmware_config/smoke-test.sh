#!/bin/sh
# Installer's smoke test of a camera node, run on the Pi once it is set up (INSTALL.md 1):
#   sudo /opt/shelfsense/firmware_config/smoke-test.sh [/etc/shelfsense/node.yaml]
# Prints the camera (sensor, frame size), the model, the median inference time and whether
# the store broker accepts this camera's credentials, then PASS or FAIL (exit 0 or 1).
# A camera can be opened by one process only, so a running shelf-node service is stopped
# for the test and started again afterwards.
set -u
CONFIG=${1:-/etc/shelfsense/node.yaml}
SHELF_NODE=${SHELF_NODE:-/opt/shelfsense/venv/bin/shelf-node}
RUNS=${RUNS:-10}

restart=""
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet shelf-node 2>/dev/null; then
    echo "stopping shelf-node for the test (it holds the camera); it restarts afterwards"
    systemctl stop shelf-node && restart=yes
fi

"$SHELF_NODE" --log-level WARNING smoke-test --config "$CONFIG" --runs "$RUNS"
status=$?

if [ -n "$restart" ]; then
    systemctl start shelf-node
fi
exit $status
