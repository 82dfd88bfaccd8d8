# Sourced by scripts/test.sh. The Node client test (e2e/compat_test.go) drives wagate with a published WhatsApp
# Cloud API client from npm; it needs node and npm, which come from Debian's packages when missing.
node_ensure() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  command -v apt-get >/dev/null || { echo "test: node and npm are needed (the Node client test); install them" >&2; return 1; }
  echo "== installing Debian's nodejs and npm" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
}
