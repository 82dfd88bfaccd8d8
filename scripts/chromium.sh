# Sourced by scripts/test.sh. The browser tests of the web UI (internal/web) drive Debian's chromium headless;
# it is installed from Debian's packages when missing.
chromium_ensure() {
  [ -n "${WAGATE_TEST_CHROMIUM:-}" ] && return 0
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null && return 0
  command -v apt-get >/dev/null || { echo "test: Chromium is needed (the web UI's browser tests); install it" >&2; return 1; }
  echo "== installing Debian's chromium" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}
