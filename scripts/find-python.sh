#!/usr/bin/env bash
# Print the path of a Python >= 3.12 for the virtualenv, or explain and fail.
# Order: $PYTHON, the version in .python-version through pyenv, then the
# python3.13 / python3.12 / python3 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
if [ -f .python-version ]; then
  want=$(tr -d '[:space:]' < .python-version)
  root=${PYENV_ROOT:-$HOME/.pyenv}
  candidates+=("$root/versions/$want/bin/python")
fi
for name in python3.13 python3.12 python3; do
  path=$(command -v "$name" 2>/dev/null) && candidates+=("$path")
done
if [ -d "${PYENV_ROOT:-$HOME/.pyenv}/versions" ]; then
  for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*; do
    [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
  done
fi

for python in "${candidates[@]}"; do
  if [ -x "$python" ] && ok "$python"; then
    echo "$python"
    exit 0
  fi
done
echo "error: contestplatform needs Python 3.12 or newer (Django 6), and none" >&2
echo "was found. Install one (pyenv install 3.12) or set PYTHON=/path/to/python." >&2
exit 1
