#!/usr/bin/python3
"""Reads yum repositories with dnf itself, as a client would (repo_gpgcheck on).

Reads a JSON request on stdin and prints one JSON answer on stdout; xcpbuild's
format/rpm/dnf.ts drives it, and the fedora family's resolver (family/fedora/
dnf_resolve.py) builds on load_repos(). Nothing of the host's dnf configuration,
repositories, cache or rpm database is read or written: everything lives under the
request's root. Every repository is loaded with repo_gpgcheck: repomd.xml must carry
a valid signature by one of the repository's keys, and every metadata file must match
repomd.xml.

  {"root": dir, "cache": dir, "releasever": "43", "basearch": "x86_64",
   "repos": [{"id": "fedora", "url": "http://…/", "keys": ["/abs/key.asc"]}]}

Answers: {"error": "…"} when a repository cannot be loaded, else
{"repos": [{"id", "repomd_sha256", "revision"}], "packages": [...], "unresolved": [...]}
with every package of the repositories and every requirement nothing in them provides.
A package is {name, epoch, version, release, arch, location, sha256, size, repo, sourcerpm}.
"""
import hashlib
import json
import os
import sys

import dnf
import dnf.exceptions
import hawkey


def evr_of(pkg):
    return ('%d:' % pkg.epoch if pkg.epoch else '') + '%s-%s' % (pkg.version, pkg.release)


def make_base(req):
    """A dnf Base confined to the request's root, with its repositories added (not loaded)."""
    for d in ('var/log', 'var/lib/dnf'):
        os.makedirs(os.path.join(req['root'], d), exist_ok=True)
    base = dnf.Base()
    conf = base.conf
    conf.installroot = req['root']
    conf.cachedir = req['cache']
    conf.persistdir = os.path.join(req['root'], 'var/lib/dnf')
    conf.logdir = os.path.join(req['root'], 'var/log')
    conf.reposdir = []
    conf.skip_if_unavailable = False
    conf.install_weak_deps = False
    conf.gpgcheck = True
    conf.repo_gpgcheck = True
    conf.assumeyes = True
    conf.retries = req.get('retries', 3)
    conf.timeout = req.get('timeout', 30)
    conf.substitutions['releasever'] = req['releasever']
    conf.substitutions['basearch'] = req['basearch']
    conf.arch = req['basearch']
    for r in req['repos']:
        base.repos.add_new_repo(r['id'], conf, baseurl=[r['url']], gpgkey=['file://' + k for k in r['keys']],
                                gpgcheck=True, repo_gpgcheck=True, skip_if_unavailable=False)
    return base


def load_repos(req):
    """The loaded Base, or None after printing the {"error"} answer."""
    base = make_base(req)
    try:
        base.fill_sack(load_system_repo=False, load_available_repos=True)
    except dnf.exceptions.RepoError as e:
        print(json.dumps({'error': str(e)}))
        return None
    return base


def describe(pkgs):
    packages = []
    for pkg in pkgs:
        kind, digest = pkg.chksum
        packages.append({'name': pkg.name, 'epoch': pkg.epoch, 'version': pkg.version, 'release': pkg.release,
                         'arch': pkg.arch, 'location': pkg.location, 'checksum_type': hawkey.chksum_name(kind),
                         'sha256': digest.hex() if kind == hawkey.CHKSUM_SHA256 else '',
                         'size': pkg.downloadsize, 'repo': pkg.reponame, 'sourcerpm': pkg.sourcerpm or ''})
    return sorted(packages, key=lambda p: (p['name'], p['arch'], p['epoch'], p['version'], p['release']))


def unresolved(available):
    """Every requirement of a package that nothing in the repositories provides (repoclosure)."""
    missing = []
    for pkg in available:
        for dep in pkg.requires:
            text = str(dep)
            if text.startswith('rpmlib(') or available.filter(provides=dep):
                continue
            missing.append('%s-%s.%s requires %s' % (pkg.name, evr_of(pkg), pkg.arch, text))
    return sorted(set(missing))


def repo_states(base, req):
    repos = []
    for r in req['repos']:
        repo = base.repos[r['id']]
        repomd = os.path.join(repo._repo.getCachedir(), 'repodata', 'repomd.xml')
        with open(repomd, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        repos.append({'id': r['id'], 'repomd_sha256': digest, 'revision': repo._repo.getRevision()})
    return repos


def main():
    req = json.load(sys.stdin)
    base = load_repos(req)
    if base is None:
        return
    available = base.sack.query().available()
    print(json.dumps({'repos': repo_states(base, req), 'packages': describe(available), 'unresolved': unresolved(available)}))


if __name__ == '__main__':
    main()
