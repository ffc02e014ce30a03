# Shared by the README commands: finds Python 3.13 and keeps .venv in step with the requirements.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"

ensure_venv() {
    cd "$REPO_ROOT"
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(command -v python3.13 || true)"
        if [ -z "$python" ] || ! "$python" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "error: Python 3.13 is required but 'python3.13' was not found on PATH." >&2
            echo "       Install it (e.g. 'pyenv install 3.13', the repository's .python-version selects it)" >&2
            echo "       or put a python3.13 executable on PATH, then run this command again." >&2
            exit 1
        fi
        echo "Creating $VENV with $python"
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall only when the requirements changed since the last install.
    local stamp="$VENV/.requirements.sha256"
    local wanted
    wanted="$(cat requirements_test.txt custom_components/grid_ems/manifest.json | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "Installing test requirements into $VENV"
        "$VENV/bin/python" -m pip install --quiet -r requirements_test.txt
        echo "$wanted" > "$stamp"
    fi
}

ensure_demo_requirements() {
    local stamp="$VENV/.demo-requirements.sha256"
    local wanted
    wanted="$(sha256sum requirements_demo.txt | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "Installing demo requirements into $VENV"
        "$VENV/bin/python" -m pip install --quiet -r requirements_demo.txt
        echo "$wanted" > "$stamp"
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
