import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { aptUpdateOnce } from './host-packages';

const run = promisify(execFile);

/** Kernel modules LVM needs that Debian's cloud kernel builds as modules (NVMe, ext4, devtmpfs are built in). */
export const GUEST_MODULES = ['dm_mod', 'dm_mirror', 'xfs'] as const;

export interface VmKernel {
  /** linux-image-<version>_<debian version>: the cache key. */
  id: string;
  version: string;
  vmlinuz: string;
  /** A root with lib/modules/<version>/… holding GUEST_MODULES and their dependencies. */
  modulesRoot: string;
}

async function cloudKernelPackage(): Promise<{ name: string; version: string }> {
  const lookup = async () => {
    const { stdout } = await run('apt-cache', ['depends', 'linux-image-cloud-amd64']);
    const name = /Depends: (linux-image-\d\S*)/.exec(stdout)?.[1];
    if (!name) throw new Error('apt-cache knows no linux-image-cloud-amd64 dependency');
    const show = await run('apt-cache', ['show', '--no-all-versions', name]);
    const version = /^Version: (\S+)/m.exec(show.stdout)?.[1];
    if (!version) throw new Error(`apt-cache show ${name} has no Version`);
    return { name, version };
  };
  try {
    return await lookup();
  } catch {
    await aptUpdateOnce(); // a fresh machine has no package lists
    return lookup();
  }
}

/**
 * Debian's cloud kernel, downloaded and extracted (never installed: no grub or initramfs hooks run on the host),
 * reduced to vmlinuz and the modules the guest loads. Cached under <cacheDir>/kernel/<package>_<version>.
 */
export async function ensureKernel(cacheDir: string): Promise<VmKernel> {
  const pkg = await cloudKernelPackage();
  const id = `${pkg.name}_${pkg.version}`;
  const version = pkg.name.replace(/^linux-image-/, '');
  const dir = path.join(cacheDir, 'kernel', id);
  const kernel: VmKernel = { id, version, vmlinuz: path.join(dir, 'vmlinuz'), modulesRoot: path.join(dir, 'root') };
  if (existsSync(path.join(dir, 'ready'))) return kernel;

  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    // As root, apt's sandbox user could not write here; the download is a plain file fetch either way.
    await run('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', `${pkg.name}=${pkg.version}`], { cwd: work });
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg.name} produced no .deb`);
    const extracted = path.join(work, 'x');
    await run('dpkg-deb', ['-x', path.join(work, deb), extracted]);
    await run('depmod', ['-b', extracted, version]);
    const { stdout } = await run('modprobe', ['-d', extracted, '-S', version, '-a', '--show-depends', ...GUEST_MODULES]);
    const files = [...new Set(stdout.split('\n').flatMap((l) => /^insmod (\S+)/.exec(l)?.[1] ?? []))];
    if (files.length < GUEST_MODULES.length) throw new Error(`modprobe --show-depends found only: ${stdout}`);

    const out = path.join(work, 'out');
    const moduleDir = path.join('lib', 'modules', version);
    for (const file of files) {
      const rel = path.relative(extracted, file);
      await mkdir(path.join(out, 'root', path.dirname(rel)), { recursive: true });
      await copyFile(file, path.join(out, 'root', rel));
    }
    for (const meta of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
      const src = path.join(extracted, moduleDir, meta);
      if (existsSync(src)) await copyFile(src, path.join(out, 'root', moduleDir, meta));
    }
    await copyFile(path.join(extracted, 'boot', `vmlinuz-${version}`), path.join(out, 'vmlinuz'));
    await writeFile(path.join(out, 'ready'), `${id}\n${files.map((f) => path.relative(extracted, f)).join('\n')}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(out, dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return kernel;
}

export const kernelModuleList = async (kernel: VmKernel): Promise<string[]> =>
  (await readFile(path.join(path.dirname(kernel.vmlinuz), 'ready'), 'utf8')).trim().split('\n').slice(1);
