#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, so `npm test` works on a fresh machine:
#   - redis-server and chromium from Debian's packages (apt-get; needs root or sudo);
#   - FerretDB 1.24.2 (MongoDB wire protocol over SQLite), built from the Go module proxy into
#     .tools/bin, unless a mongod is installed or MONGODB_URI points at a server.
# Idempotent: a second run installs nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools/bin"
mkdir -p "$tools"

missing=()
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing ${missing[*]} from Debian packages"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test-deps: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -z "${MONGODB_URI:-}" ] && ! command -v mongod >/dev/null 2>&1; then
  src="$root/scripts/ferretdb"
  if [ ! -x "$tools/ferretdb" ] || [ "$src/main.go" -nt "$tools/ferretdb" ] || [ "$src/go.sum" -nt "$tools/ferretdb" ]; then
    command -v go >/dev/null 2>&1 || { echo "test-deps: Go is needed to build FerretDB (or set MONGODB_URI)" >&2; exit 1; }
    echo "test-deps: building FerretDB into .tools/bin (first run only; takes a few minutes)"
    (cd "$src" && go build -trimpath -o "$tools/ferretdb" .)
  fi
fi
