#!/usr/bin/python3
"""Resolves pinned RPMs with dnf's own solver (libsolv): the fedora family's resolver.

Usage: dnf_resolve.py <dir of format/rpm/dnf_repos.py>, with the request of
dnf_repos.py on stdin plus "pins": [{"name": "xen", "version": "4.20.0-1.fc43"}]
(version: [epoch:]version-release). Answers as dnf_repos.py for a repository that
cannot be loaded; {"missing": [{"name", "version", "available": ["evr (repo)", …]}]}
when a pin does not exist; {"problem": "dnf's words"} when the pins cannot be installed
together; else {"repos": [...], "packages": [...]}: the closure of the pins.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import dnf.exceptions  # noqa: E402
import dnf_repos  # noqa: E402


def pinned(available, req):
    """The package of each pin, and the pins that do not exist with what does."""
    missing, chosen = [], []
    for pin in req.get('pins', []):
        have = available.filter(name=pin['name'], arch=[req['basearch'], 'noarch'])
        match = [p for p in have if dnf_repos.evr_of(p) == pin['version']]
        if not match:
            missing.append({'name': pin['name'], 'version': pin['version'],
                            'available': sorted({'%s (%s)' % (dnf_repos.evr_of(p), p.reponame) for p in have})})
        else:
            chosen.append(match[0])
    return chosen, missing


def main():
    req = json.load(sys.stdin)
    base = dnf_repos.load_repos(req)
    if base is None:
        return
    chosen, missing = pinned(base.sack.query().available(), req)
    if missing:
        print(json.dumps({'missing': missing}))
        return
    for pkg in chosen:
        base.package_install(pkg, strict=True)
    try:
        base.resolve(allow_erasing=False)
    except dnf.exceptions.DepsolveError as e:
        print(json.dumps({'problem': str(e)}))
        return
    print(json.dumps({'repos': dnf_repos.repo_states(base, req), 'packages': dnf_repos.describe(base.transaction.install_set)}))


if __name__ == '__main__':
    main()
