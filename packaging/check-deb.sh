#!/bin/sh
# Check a built superbot-realtime .deb without installing it: the files it
# ships, its copyright and changelog, the SDK's .pc file, its dependencies,
# its conffiles, its maintainer scripts, the paths its units name, and
# `systemd-analyze verify` of both units against the binary it contains.
#
#     packaging/check-deb.sh build-pkg/superbot-realtime_0.1.0-1_amd64.deb
#
# Needs dpkg-deb, pkg-config and systemd-analyze (Debian: dpkg, pkgconf,
# systemd); a missing tool is a failure, never a skipped check.
set -eu

deb=${1:?usage: check-deb.sh PACKAGE.deb}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT INT TERM

fail() {
    echo "check-deb: $*" >&2
    exit 1
}

for tool in dpkg-deb pkg-config systemd-analyze gzip; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install dpkg pkgconf systemd gzip)"
done

dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$root/DEBIAN"

doc=usr/share/doc/superbot-realtime
for f in usr/bin/superbot-realtime \
         usr/lib/systemd/system/superbot-realtime.service \
         usr/lib/systemd/system/superbot-realtime@.service \
         usr/include/superbot-realtime/plugin.h \
         usr/share/superbot-realtime/env.example \
         usr/share/superbot-realtime/prometheus/alerts.yml \
         usr/share/superbot-realtime/grafana/superbot-realtime.json \
         etc/superbot-realtime/conf.d/10-core.conf \
         $doc/copyright $doc/changelog.Debian.gz $doc/OPERATIONS.md; do
    [ -e "$root/$f" ] || fail "missing /$f"
done
set -- "$root"/usr/lib/*/superbot-realtime/plugins/*.so
[ -e "$1" ] || fail "no plugin in /usr/lib/<multiarch>/superbot-realtime/plugins"
echo "check-deb: $# plugins: $(for p in "$@"; do basename "$p" .so; done | tr '\n' ' ')"
[ ! -e "$root/usr/etc" ] || fail "/usr/etc is shipped: conf.d belongs in /etc"

# copyright: machine-readable (DEP-5), every License named by a Files
# paragraph has its text.  changelog.Debian.gz: gzip, this version first.
grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/$' "$root/$doc/copyright" ||
    fail "$doc/copyright is not in the machine-readable format"
grep -q '^Files: \*$' "$root/$doc/copyright" || fail "$doc/copyright has no 'Files: *' paragraph"
for lic in $(sed -n 's/^License: \(.*\)$/\1/p' "$root/$doc/copyright" | sort -u); do
    awk -v l="License: $lic" '$0 == l { getline; if ($0 ~ /^ /) found = 1 } END { exit !found }' \
        "$root/$doc/copyright" || fail "$doc/copyright: no text for License: $lic"
done
version=$(dpkg-deb -f "$deb" Version)
gzip -dc "$root/$doc/changelog.Debian.gz" | head -n 1 | grep -q "^superbot-realtime ($version) " ||
    fail "$doc/changelog.Debian.gz does not start with version $version"
echo "check-deb: copyright (DEP-5) and changelog.Debian.gz ($version) ok"

# The SDK's .pc file: clean absolute /usr paths, and they exist in the package.
set -- "$root"/usr/lib/*/pkgconfig/superbot-realtime-sdk.pc
[ -e "$1" ] || fail "no superbot-realtime-sdk.pc"
pcdir=$(dirname "$1")
pc() { PKG_CONFIG_LIBDIR="$pcdir" PKG_CONFIG_PATH="" pkg-config "$@" superbot-realtime-sdk; }
grep -q '^prefix=/usr$' "$1" || fail "superbot-realtime-sdk.pc: prefix is not /usr"
cflags=$(pc --cflags --keep-system-cflags | sed 's/ *$//')
[ "$cflags" = "-I/usr/include -fPIC -fvisibility=hidden" ] || fail "superbot-realtime-sdk.pc: Cflags are '$cflags'"
plugindir=$(pc --variable=plugindir)
case "$plugindir" in
/usr/lib/*/superbot-realtime/plugins) [ -d "$root$plugindir" ] || fail "plugindir $plugindir is not in the package" ;;
*) fail "superbot-realtime-sdk.pc: plugindir is '$plugindir'" ;;
esac
echo "check-deb: superbot-realtime-sdk.pc: $cflags, plugindir $plugindir"

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

# Every file the units name is in the package (or is the operator's env file).
for unit in superbot-realtime.service superbot-realtime@.service; do
    grep -q '^ExecStart=/usr/bin/superbot-realtime -c /etc/superbot-realtime/conf.d$' \
        "$root/usr/lib/systemd/system/$unit" || fail "$unit: ExecStart does not run /usr/bin/superbot-realtime"
    for p in $(grep -o '/\(usr\|etc\)/[^ )]*' "$root/usr/lib/systemd/system/$unit" | sed 's/[.,]*$//' | sort -u); do
        case "$p" in
        /etc/superbot-realtime/env | /etc/superbot-realtime/env.*) continue ;;
        */conf.d/\*.conf) p=${p%/\*.conf} ;;
        esac
        [ -e "$root$p" ] || fail "$unit names $p, which the package does not ship"
    done
done
grep -q '/usr/share/superbot-realtime/env.example' "$root/usr/lib/systemd/system/superbot-realtime.service" ||
    fail "superbot-realtime.service does not name /usr/share/superbot-realtime/env.example"

# Verify the units as installed: the packaged tree, plus the host's own
# units for the targets they name (multi-user.target, network-online.target).
cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/" 2>/dev/null || true
mkdir -p "$root/etc/systemd/system"
# verify exits 0 on what it "ignores" (an unknown key, a bad value): any
# line it prints about our units is a failure too.
out=$(systemd-analyze verify --man=no --root="$root" \
    /usr/lib/systemd/system/superbot-realtime.service \
    /usr/lib/systemd/system/superbot-realtime@8081.service 2>&1) ||
    fail "systemd-analyze verify failed: $out"
warnings=$(printf '%s\n' "$out" | grep 'superbot-realtime' || true)
[ -z "$warnings" ] || fail "systemd-analyze verify: $warnings"
echo "check-deb: systemd-analyze verify: both units ok"

echo "check-deb: ok"
