import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian packages whose programs the VM test runs on the host or copies into the guest. */
export const VM_HOST_PACKAGES = [
  'qemu-system-x86',
  'busybox-static',
  'lvm2',
  'xfsprogs',
  'e2fsprogs',
  'cpio',
  'kmod',
  'util-linux',
  'coreutils',
  'bash',
  'dash',
  'sed',
  'grep',
  'mawk',
  'gzip',
] as const;

async function installed(pkg: string): Promise<boolean> {
  try {
    const { stdout } = await run('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]);
    return stdout.trim() === 'installed';
  } catch {
    return false;
  }
}

const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Serialized: several test workers may ask at once, and dpkg takes one lock.
const apt = (args: string[]) =>
  run('flock', ['/tmp/vigil-apt.lock', 'apt-get', '-o', 'DPkg::Lock::Timeout=300', ...args], {
    env: aptEnv,
    maxBuffer: 64 * 1024 * 1024,
  });

let listsUpdated = false;
/** `apt-get update` once per process; a fresh machine has no package lists. */
export async function aptUpdateOnce(): Promise<void> {
  if (listsUpdated) return;
  await apt(['update', '-qq']);
  listsUpdated = true;
}

/**
 * Installs the Debian packages that are missing (the project installs what its tests need, on any fresh machine).
 * Needs root, as on the developers' machines and CI.
 */
export async function ensureDebianPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of packages) if (!(await installed(pkg))) missing.push(pkg);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(' ')}; install them: sudo apt-get install ${missing.join(' ')}`);
  }
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...missing];
  try {
    await apt(install);
  } catch {
    await aptUpdateOnce();
    await apt(install);
  }
  return missing;
}
