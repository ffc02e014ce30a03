# Shared by the README commands: the two test environments, kept in step with their requirements.
#   .venv          Python 3.13, Home Assistant 2025.4.4: the minimum Grid EMS supports.
#   .venv-current  Python 3.14, the newest Home Assistant the test plugin supports (2026.10.4).
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
VENV_CURRENT="$REPO_ROOT/.venv-current"
# Installs CPython 3.14 as /usr/local/bin/python3.14 (a checkout has shared/ beside it).
PYTHON314_INSTALLER="$REPO_ROOT/../shared/python/install-python3.14"

# Install requirement files into a virtual environment unless they are unchanged since the last
# install. Extra pip arguments (constraints) come after the stamp name.
_install_requirements() {
    local venv="$1" files="$3"
    local stamp="$venv/.$2.sha256"
    shift 3
    local wanted
    # shellcheck disable=SC2086  # the files are a list
    wanted="$(cat $files | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "Installing $files into $venv"
        local file args=()
        for file in $files; do args+=(-r "$file"); done
        "$venv/bin/python" -m pip install --quiet "${args[@]}" "$@"
        echo "$wanted" > "$stamp"
    fi
}

_create_venv() {
    local python="$1" venv="$2"
    if [ ! -x "$venv/bin/python" ]; then
        echo "Creating $venv with $python"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
    fi
}

# The minimum: Python 3.13 and Home Assistant 2025.4.4, with the linters.
ensure_venv() {
    cd "$REPO_ROOT"
    local python
    python="$(command -v python3.13 || true)"
    if [ ! -x "$VENV/bin/python" ] && { [ -z "$python" ] || ! "$python" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; }; then
        echo "error: Python 3.13 is required but 'python3.13' was not found on PATH." >&2
        echo "       Install it (e.g. 'pyenv install 3.13', the repository's .python-version selects it)" >&2
        echo "       or put a python3.13 executable on PATH, then run this command again." >&2
        exit 1
    fi
    _create_venv "$python" "$VENV"
    _install_requirements "$VENV" requirements requirements_test.txt
}

# Python 3.14, installed from shared/ (as root) when it is missing. Prints its path; fails without.
find_python314() {
    if ! command -v python3.14 >/dev/null && [ -f "$PYTHON314_INSTALLER" ] && [ "$(id -u)" -eq 0 ]; then
        echo "Installing Python 3.14 with $PYTHON314_INSTALLER" >&2
        bash "$PYTHON314_INSTALLER" >/dev/null
    fi
    command -v python3.14
}

# The newest Home Assistant, on Python 3.14. Its own package constraints pin what it shares with
# Grid EMS and the test tools (pymodbus, pycares...), as in a real installation. Sets
# CURRENT_CONSTRAINTS to that file.
ensure_current_venv() {
    cd "$REPO_ROOT"
    local python
    if ! python="$(find_python314)"; then
        echo "error: Python 3.14 is required for the newest Home Assistant but 'python3.14' was not" >&2
        echo "       found on PATH. Run ../shared/python/install-python3.14 as root (see the README)." >&2
        return 1
    fi
    _create_venv "$python" "$VENV_CURRENT"
    if [ ! -f "$VENV_CURRENT/.requirements.sha256" ]; then
        # Home Assistant first: its package_constraints.txt constrains the rest.
        "$VENV_CURRENT/bin/python" -m pip install --quiet \
            "$(grep -E '^pytest-homeassistant-custom-component==' requirements_test_current.txt)"
    fi
    CURRENT_CONSTRAINTS="$("$VENV_CURRENT/bin/python" -c 'import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).with_name("package_constraints.txt"))')"
    _install_requirements "$VENV_CURRENT" requirements \
        requirements_test_current.txt -c "$CURRENT_CONSTRAINTS"
}

# The demo's environment: the newest Home Assistant when Python 3.14 is available, else the
# minimum. Sets DEMO_VENV.
ensure_demo_venv() {
    if find_python314 >/dev/null; then
        ensure_current_venv
        DEMO_VENV="$VENV_CURRENT"
        _install_requirements "$DEMO_VENV" demo-requirements requirements_demo_current.txt \
            -c "$CURRENT_CONSTRAINTS"
    else
        echo "Python 3.14 not found: the demo runs on the minimum Home Assistant (2025.4.4)." >&2
        ensure_venv
        DEMO_VENV="$VENV"
        _install_requirements "$DEMO_VENV" demo-requirements requirements_demo.txt
    fi
}

# The card's npm packages (frontend/): installed from the lockfile when missing or out of date.
ensure_frontend_modules() {
    local stamp="$REPO_ROOT/frontend/node_modules/.package-lock.sha256"
    local wanted
    wanted="$(sha256sum "$REPO_ROOT/frontend/package-lock.json" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "Installing the card's npm packages (npm ci in frontend/)"
        (cd "$REPO_ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$wanted" > "$stamp"
    fi
}
