# Shared by scripts/serve and scripts/test: install Debian packages and the Python virtual environment.

ensure_debian_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_venv [EXTRA]: .venv with smb-suite installed (editable, so themes/ and conf/ stay beside it).
ensure_venv() {
    local spec="."
    [ -n "${1:-}" ] && spec=".[$1]"
    local stamp=".venv/.installed-${1:-base}"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        # pip's and the build backend's notices (setuptools' boxed warnings) go to a log, shown only on failure
        if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e "$spec"; } \
            >.venv/install.log 2>&1; then
            cat .venv/install.log >&2
            echo "installing smb-suite failed (log: .venv/install.log)" >&2
            return 1
        fi
        touch "$stamp"
    fi
}
