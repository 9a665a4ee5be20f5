# Shared by scripts/run and scripts/test: find Python >= 3.12 and build .venv.

find_python() {
    local candidate
    for candidate in "${M3O_PYTHON:-}" "$(pyenv which python 2>/dev/null)" python3.13 python3.12 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: M3O needs Python 3.12 or newer; install one or set M3O_PYTHON to its path." >&2
    return 1
}

# ensure_venv EXTRAS: create .venv if missing and install the project (with EXTRAS, e.g. "[test]").
ensure_venv() {
    local extras="${1:-}"
    if [ ! -x .venv/bin/python ]; then
        local python
        python="$(find_python)"
        echo "Creating .venv with $python"
        "$python" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    echo "Installing M3O${extras} into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
}

# install_python_client: install the m3o Python client and CLI (clients/python) into .venv.
install_python_client() {
    echo "Installing the m3o client from clients/python into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e clients/python
}
