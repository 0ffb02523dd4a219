#!/usr/bin/env bash
# RPM side figures (issue 11): the metapackages and xcp-host as RPMs, the yum repository
# (rpmsign, createrepo_c, repomd.xml signature, the dnf/rpmkeys self-check), and the
# admin's dnf install into an empty installroot from the served repository.
#   cold  = no outputs (packages in the cache; the clean build root made by mmdebstrap)
#   warm  = outputs removed, cache kept (the build root unpacked from the tree cache)
#   no-op = nothing changed
# The upstream archive is the tests' one: tests/fixtures/rpm built by rpmbuild, signed,
# indexed, served by nginx on 127.0.0.1. Usage: bench/rpm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/xcpbuild-bench-rpm-XXXXXX)
chmod 755 "$work"
trap 'nginx -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true; gpgconf --homedir "$work/gnupg" --kill all || true; rm -rf "$work"' EXIT
export XCPBUILD_CACHE="$work/cache"
ms() { local s e; s=$(date +%s%N); "$@" >&2; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
sec() { awk -v m="$1" 'BEGIN { printf "%.1f s", m / 1000 }'; }

# The upstream archive (as tests/helpers/yum-archive.ts makes it).
mkdir -m 700 "$work/gnupg"
gpg --homedir "$work/gnupg" --batch --passphrase '' --quick-generate-key 'bench upstream <up@xcpbuild.invalid>' ed25519 sign never 2>/dev/null
fpr=$(gpg --homedir "$work/gnupg" --with-colons --list-keys | awk -F: '/^fpr/ { print $10; exit }')
gpg --homedir "$work/gnupg" --armor --export "$fpr" > "$work/upstream.asc"
for spec in xcptest-xen:4.17.6 xcptest-xen:4.17.7 xcptest-toolstack xcptest-shell; do
  rpmbuild --define "_topdir $work/rpmbuild" --define 'dist .fc99' --define "xcpver ${spec#*:}" -bb "tests/fixtures/rpm/${spec%%:*}.spec" >/dev/null 2>&1
done
mkdir -p "$work/archive/Packages"
cp "$work"/rpmbuild/RPMS/*/*.rpm "$work/archive/Packages/"
rpmsign --define '__gpg /usr/bin/gpg' --define "_gpg_path $work/gnupg" --define "_gpg_name $fpr" --addsign "$work"/archive/Packages/*.rpm >/dev/null
createrepo_c --no-database --quiet "$work/archive"
gpg --homedir "$work/gnupg" --batch --armor --detach-sign "$work/archive/repodata/repomd.xml"
chmod -R a+rX "$work/archive"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/logs" "$work/out/xcp-bench/repo"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 64; }
http { access_log off; default_type application/octet-stream;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$port; location /upstream/ { alias $work/archive/; } location /xcp/ { alias $work/out/xcp-bench/repo/; } } }
CONF
nginx -p "$work/nginx" -c nginx.conf

mkdir -p "$work/recipe" && cp -a sources/xcp-host "$work/recipe/"
cat > "$work/recipe/xcp-bench.yaml" <<YAML
apiVersion: xcpbuild/v2
name: xcp-bench
version: 1.0.0
target: { family: fedora, release: "99", architecture: amd64 }
archives:
  - { name: upstream, uri: "http://127.0.0.1:$port/upstream/", keyring: $work/upstream.asc }
base: { priorities: [] }
sources:
  xcp-host: { version: 1.1.0-1, path: xcp-host }
buildRoot:
  archives:
    - { name: debian-build-root, uri: "http://deb.debian.org/debian", suites: [bookworm], components: [main], keyring: /usr/share/keyrings/debian-archive-keyring.gpg }
  packages: [rpm]
packages:
  xen:
    - { name: xcptest-xen-runtime, version: 4.17.7-1.fc99 }
    - { name: xcptest-xen, version: 4.17.7-1.fc99 }
  toolstack:
    - { name: xcptest-toolstack, version: "1:2.1.0-1.fc99" }
metapackages:
  xenserver-core: { version: 1.0.0, maintainer: bench <bench@xcpbuild.invalid>, summary: bench, description: bench, groups: [xen, toolstack] }
  xcp-full: { version: 1.0.0, maintainer: bench <bench@xcpbuild.invalid>, summary: bench full, description: bench, groups: [], depends: [xenserver-core, xcp-host] }
repository: { origin: bench, label: bench, codename: xcp-bench, components: [main], description: bench, url: "http://127.0.0.1:$port/xcp" }
YAML
x() { node dist/cli.js --json --out "$work/out" "$@" > "$work/last.json" || { cat "$work/last.json"; exit 1; }; }
lock=$(ms x lock "$work/recipe/xcp-bench.yaml")
x fetch "$work/recipe/xcp-bench.yaml"
rm -rf "$work/out/xcp-bench/repo"
cold=$(ms x repo "$work/recipe/xcp-bench.yaml")
stages=$(node -e "const r=JSON.parse(require('fs').readFileSync('$work/last.json','utf8'));console.log(r.stages.filter(s=>s.status==='built').map(s=>s.id+' '+s.seconds.toFixed(1)+' s').join(', '))")
rm -rf "$work/out/xcp-bench/build" "$work/out/xcp-bench/meta" "$work/out/xcp-bench/repo"
warm=$(ms x repo "$work/recipe/xcp-bench.yaml")
noop=$(ms x repo "$work/recipe/xcp-bench.yaml")
chmod -R a+rX "$work/out"
mkdir -p "$work/reposdir"
cp "$work/out/xcp-bench/repo/xcp-bench.repo" "$work/reposdir/"
install=$(ms dnf -y -q --installroot "$work/root" --releasever 99 --disableplugin='*' --setopt=reposdir="$work/reposdir" --setopt=cachedir="$work/dnfcache" --setopt=skip_if_unavailable=0 install xenserver-core xcp-full)
echo "xcpbuild RPM bench: $(nproc) cores, $(ls "$work/out/xcp-bench/repo/Packages/x" | wc -l) packages in the yum repository"
echo "lock (dnf resolve + apt resolve of the build root): $(sec "$lock")"
echo "meta + build + repo: cold $(sec "$cold") ($stages), warm $(sec "$warm"), no-op $(sec "$noop")"
echo "dnf install xenserver-core xcp-full (gpgcheck, repo_gpgcheck, empty installroot): $(sec "$install")"
