#!/usr/bin/env bash
# PyAirbyte end to end (`make e2e`, run by .ci/run): PyAirbyte reads this connector as a
# local executable against the Aircall sandbox into its default DuckDB cache, and checks
# the cache with SQL (scripts/e2e_pyairbyte.py).
#
# Two virtualenvs, both created on first use and reused after:
#   .venv-pyairbyte            PyAirbyte, pinned below. It pins packages that
#                              constraints.txt pins differently (cryptography, rich,
#                              protobuf, opentelemetry), so the connector cannot share it.
#   .venv-pyairbyte/connector  this project, installed like the image does: not editable,
#                              with the versions of constraints.txt, reinstalled on every
#                              run so that the current code is what PyAirbyte runs.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
PYAIRBYTE_VERSION="0.71.3"
# uv (a PyAirbyte dependency, same version) installs PyAirbyte's ~150 packages in about
# 20 s where pip takes 2-3 minutes; pip is the fallback if uv cannot be installed.
UV_VERSION="0.8.24"
PYAIRBYTE_VENV=".venv-pyairbyte"
CONNECTOR_VENV="$PYAIRBYTE_VENV/connector"
LOGS="$PYAIRBYTE_VENV/logs"
started=$(date +%s)

[ -x "$PYAIRBYTE_VENV/bin/python" ] || "$PYTHON" -m venv "$PYAIRBYTE_VENV"
[ -x "$CONNECTOR_VENV/bin/python" ] || "$PYTHON" -m venv "$CONNECTOR_VENV"
mkdir -p "$LOGS"

# install VENV ARGS...: into the virtualenv VENV, with uv when it can be had, else pip.
install() {
    local venv="$1"
    shift
    if "$venv/bin/python" -m uv --version > /dev/null 2>&1 \
        || "$venv/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"; then
        "$venv/bin/python" -m uv pip install -q --python "$venv/bin/python" "$@"
    else
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@"
    fi
}

install_pyairbyte() {
    local marker="$PYAIRBYTE_VENV/.airbyte-$PYAIRBYTE_VERSION"
    [ -f "$marker" ] && return 0
    install "$PYAIRBYTE_VENV" "airbyte==$PYAIRBYTE_VERSION" "uv==$UV_VERSION"
    touch "$marker"
}

install_connector() {
    # Built from a copy of what the Dockerfile copies, so the checkout gets no build/ or
    # egg-info from it.
    local src
    src=$(mktemp -d)
    trap 'rm -rf "$src"' RETURN
    cp constraints.txt pyproject.toml README.md "$src/"
    cp -r source_aircall_salescaling "$src/"
    find "$src" -name __pycache__ -prune -exec rm -rf {} +
    install "$CONNECTOR_VENV" -c constraints.txt "$src"
    install "$CONNECTOR_VENV" --no-deps --force-reinstall "$src"
}

# The two installs are independent: run them side by side.
install_pyairbyte > "$LOGS/pyairbyte-install.log" 2>&1 &
pyairbyte_pid=$!
install_connector > "$LOGS/connector-install.log" 2>&1 &
connector_pid=$!
status=0
wait "$pyairbyte_pid" || { echo "e2e: installing PyAirbyte failed:"; cat "$LOGS/pyairbyte-install.log"; status=1; }
wait "$connector_pid" || { echo "e2e: installing the connector failed:"; cat "$LOGS/connector-install.log"; status=1; }
if [ "$status" -ne 0 ]; then
    echo "e2e: 0 passed, 1 failed"
    exit 1
fi
echo "e2e: virtualenvs ready in $(( $(date +%s) - started )) s"

set +e
"$PYAIRBYTE_VENV/bin/python" -m scripts.e2e_pyairbyte \
    --connector "$CONNECTOR_VENV/bin/source-aircall-salescaling"
code=$?
set -e
echo "e2e: total $(( $(date +%s) - started )) s"
exit "$code"
