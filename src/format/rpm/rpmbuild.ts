import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';

/** The architecture name RPM uses for a recipe's (Debian-named) architecture. */
export function rpmArch(arch: string): string {
  return ({ amd64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[arch] ?? arch;
}

/**
 * Macros that make rpmbuild's output a function of the spec and SOURCE_DATE_EPOCH only:
 * build time and file mtimes from the epoch, a fixed build host, Fedora's zstd payload,
 * and nothing of the host's rpm database or build-id links.
 */
export function reproducibleMacros(topdir: string, rpmdir: string): Record<string, string> {
  return {
    _topdir: topdir,
    _sourcedir: `${topdir}/SOURCES`,
    _specdir: `${topdir}/SPECS`,
    _builddir: `${topdir}/BUILD`,
    _buildrootdir: `${topdir}/BUILDROOT`,
    _rpmdir: rpmdir,
    _build_name_fmt: '%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
    _buildhost: 'xcpbuild',
    use_source_date_epoch_as_buildtime: '1',
    clamp_mtime_to_source_date_epoch: '1',
    source_date_epoch_from_changelog: '0',
    _binary_payload: 'w19.zstdio',
    _build_id_links: 'none',
    debug_package: '%{nil}',
    _dbpath: '/var/lib/rpm',
  };
}

export function defineArgs(macros: Record<string, string>): string[] {
  return Object.entries(macros).flatMap(([k, v]) => ['--define', `${k} ${v}`]);
}

/** rpmbuild -bb of one spec; SOURCE_DATE_EPOCH and a fixed locale and time zone so the result is the same anywhere. */
export function rpmbuildEnv(epoch: number): Record<string, string> {
  return { SOURCE_DATE_EPOCH: String(epoch), TZ: 'UTC', LC_ALL: 'C.UTF-8' };
}

export async function rpmbuildBinary(log: BuildLog, spec: string, macros: Record<string, string>, epoch: number, purpose: string): Promise<void> {
  await run(log, 'rpmbuild', [...defineArgs(macros), '-bb', spec], { env: rpmbuildEnv(epoch), purpose });
}
