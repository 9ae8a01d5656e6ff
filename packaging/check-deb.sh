#!/bin/sh
# Check a built superbot-realtime .deb without installing it: the files it
# ships, its dependencies, its conffiles, its maintainer scripts, and
# `systemd-analyze verify` of both units against the binary it contains.
#
#     packaging/check-deb.sh build-pkg/superbot-realtime_0.1.0-1_amd64.deb
set -eu

deb=${1:?usage: check-deb.sh PACKAGE.deb}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT INT TERM

fail() {
    echo "check-deb: $*" >&2
    exit 1
}

dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$root/DEBIAN"

for f in usr/bin/superbot-realtime \
         usr/lib/systemd/system/superbot-realtime.service \
         usr/lib/systemd/system/superbot-realtime@.service \
         usr/include/superbot-realtime/plugin.h \
         usr/share/superbot-realtime/env.example \
         etc/superbot-realtime/conf.d/10-core.conf; do
    [ -e "$root/$f" ] || fail "missing /$f"
done
set -- "$root"/usr/lib/*/superbot-realtime/plugins/*.so
[ -e "$1" ] || fail "no plugin in /usr/lib/<multiarch>/superbot-realtime/plugins"
echo "check-deb: $# plugins: $(for p in "$@"; do basename "$p" .so; done | tr '\n' ' ')"
set -- "$root"/usr/lib/*/pkgconfig/superbot-realtime-sdk.pc
[ -e "$1" ] || fail "no superbot-realtime-sdk.pc"
grep -q '^prefix=/usr$' "$1" || fail "superbot-realtime-sdk.pc: prefix is not /usr"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libevent-2.1-7 libjansson4 libjwt0 libhiredis0.14; do
    case ", $depends," in
    *", $lib "* | *", $lib,"*) ;;
    *) fail "Depends lacks $lib: $depends" ;;
    esac
done
echo "check-deb: Depends: $depends"

for f in "$root"/etc/superbot-realtime/conf.d/*.conf; do
    grep -qx "/etc/superbot-realtime/conf.d/${f##*/}" "$root/DEBIAN/conffiles" ||
        fail "/etc/superbot-realtime/conf.d/${f##*/} is not a conffile"
done
for s in postinst prerm postrm; do
    [ -x "$root/DEBIAN/$s" ] || fail "no executable $s"
    sh -n "$root/DEBIAN/$s" || fail "$s: syntax error"
done

# Verify the units as installed: the packaged tree, plus the host's own
# units for the targets they name (multi-user.target, network-online.target).
if command -v systemd-analyze >/dev/null 2>&1; then
    cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/" 2>/dev/null || true
    mkdir -p "$root/etc/systemd/system"
    systemd-analyze verify --man=no --root="$root" \
        /usr/lib/systemd/system/superbot-realtime.service \
        /usr/lib/systemd/system/superbot-realtime@8081.service ||
        fail "systemd-analyze verify failed"
    echo "check-deb: systemd-analyze verify: both units ok"
else
    echo "check-deb: systemd-analyze missing (apt-get install systemd): units not verified" >&2
fi

echo "check-deb: ok"
