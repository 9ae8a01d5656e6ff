# Sourced by the other scripts: install the Debian packages a step needs,
# when they are missing.  Usage: deps_install build|test
deps_build="build-essential cmake pkg-config libevent-dev libjansson-dev libjwt-dev libhiredis-dev"
# redis-sentinel and redis-tools (redis-cli --cluster): the tests on a sentinel
# set and on a cluster; python3-*: the Python Socket.IO client tests, the Python client and the Flask
# example of the integration kit (Debian's /usr/bin/python3); systemd
# (systemd-analyze), dpkg-dev and prometheus (promtool): the package and
# monitoring checks.
deps_test="$deps_build check redis-server redis-sentinel redis-tools nodejs npm clang libclang-rt-14-dev chromium valgrind python3 python3-socketio python3-websocket python3-requests python3-flask systemd dpkg-dev prometheus"

deps_install() {
    local want missing="" pkg
    case "$1" in
        build) want=$deps_build ;;
        test) want=$deps_test ;;
        *) echo "deps_install: unknown set '$1'" >&2; return 2 ;;
    esac
    for pkg in $want; do
        # node and npm may come from elsewhere than Debian's packages: accept them on PATH.
        case "$pkg" in
            nodejs) command -v node >/dev/null && continue ;;
            npm) command -v npm >/dev/null && continue ;;
        esac
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian packages:$missing" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
}
