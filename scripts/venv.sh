# Sourced by scripts/quickstart and scripts/run-tests: make sure the virtual environment
# $VENV (default: .venv in the repository) exists, then put it first on PATH.
#
# PYTHON picks the interpreter for a new venv (default python3).  On Debian, whose
# python3 ships venv support separately, python3-venv is installed when running as root.

VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

_make_venv() {
    "$PYTHON" -m venv "$VENV" && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        printf 'python3 -m venv failed; installing python3-venv\n'
        rm -rf "$VENV"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && "$PYTHON" -m venv "$VENV"
        return
    fi
    return 1
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        printf '==> creating the virtual environment %s with %s\n' "$VENV" "$("$PYTHON" --version 2>&1)"
        rm -rf "$VENV"
        if ! _make_venv; then
            printf 'could not create %s with %s\n' "$VENV" "$PYTHON" >&2
            return 1
        fi
    fi
    export VIRTUAL_ENV="$VENV"
    export PATH="$VENV/bin:$PATH"
}
