import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readlink, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { kernelModuleList, type VmKernel } from './kernel';

const run = promisify(execFile);
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The programs of the guest. The scripts under test get the GNU/util-linux tools an instance has (coreutils, GNU sed
 * and grep, mawk, bash, util-linux) rather than busybox applets, so a busybox quirk can neither hide nor fake a
 * bug; `sh` is dash, the strictest POSIX shell SSM may run the command file with (Ubuntu's /bin/sh). busybox only
 * boots the VM (mount, modprobe) and fills in what nothing else provides.
 */
const PROGRAMS = [
  'bash',
  'dash',
  'sed',
  'grep',
  'mawk',
  // util-linux
  'blkid',
  'wipefs',
  'flock',
  'lsblk',
  'findmnt',
  'mkswap',
  'swapon',
  'swapoff',
  // lvm2 (the commands are symlinks to lvm)
  'lvm',
  'dmsetup',
  // e2fsprogs, xfsprogs
  'mke2fs',
  'resize2fs',
  'e2fsck',
  'dumpe2fs',
  'mkfs.xfs',
  'xfs_growfs',
  'xfs_repair',
];

const LVM_CONF = `# No udev, no lvmpolld, no dmeventd in the test VM: LVM creates its own /dev nodes and pvmove -b forks its own
# poller, as on an instance without lvmpolld. Everything else is LVM's default.
devices {
  obtain_device_list_from_udev = 0
  external_device_info_source = "none"
  use_devicesfile = 0
}
activation {
  udev_sync = 0
  udev_rules = 0
  monitoring = 0
}
global {
  use_lvmpolld = 0
}
`;

async function which(program: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `command -v "$1"`, 'sh', program], { env: { PATH: HOST_PATH } });
  const found = stdout.trim();
  if (!found.startsWith('/')) throw new Error(`${program} not found on the host`);
  return found;
}

/** /bin/x and /sbin/x (merged /usr on Debian) go to /usr/bin and /usr/sbin in the guest, ahead of busybox. */
const guestBinPath = (hostPath: string, name = path.basename(hostPath)): string =>
  /\/sbin\//.test(hostPath) ? `/usr/sbin/${name}` : `/usr/bin/${name}`;

async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]).catch(() => ({ stdout: '' })); // static binaries
  return stdout
    .split('\n')
    .map((l) => /=>\s+(\/\S+)/.exec(l)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

interface Layout {
  /** guest path -> host file (copied with symlinks resolved) */
  files: Map<string, string>;
  /** guest path -> symlink target */
  links: Map<string, string>;
  texts: Map<string, string>;
}

async function layout(kernel: VmKernel): Promise<Layout> {
  const files = new Map<string, string>();
  const links = new Map<string, string>();
  const texts = new Map<string, string>();
  const binaries: string[] = [];

  const coreutils = (await run('dpkg', ['-L', 'coreutils'])).stdout
    .split('\n')
    .filter((p) => /^\/(usr\/)?s?bin\/[^/]+$/.test(p));
  for (const p of [...coreutils, ...(await Promise.all(PROGRAMS.map(which)))]) {
    const guest = guestBinPath(p);
    if (!files.has(guest)) {
      files.set(guest, p);
      binaries.push(p);
    }
  }
  links.set('/usr/bin/awk', 'mawk');
  links.set('/usr/bin/sh', 'dash');
  links.set('/usr/sbin/mkfs.ext4', 'mke2fs');
  // Every LVM command is a symlink to lvm, as on the host.
  for (const dir of ['/usr/sbin', '/sbin']) {
    const { stdout } = await run('find', [dir, '-maxdepth', '1', '-lname', 'lvm']);
    for (const p of stdout.split('\n').filter(Boolean)) links.set(`/usr/sbin/${path.basename(p)}`, 'lvm');
  }
  for (const bin of binaries) for (const lib of await sharedLibraries(bin)) files.set(lib, lib);

  files.set('/bin/busybox', '/bin/busybox');
  links.set('/bin/sh', '/usr/bin/dash');
  const applets = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) {
    if (!files.has(`/usr/bin/${applet}`) && !files.has(`/usr/sbin/${applet}`) && !links.has(`/usr/bin/${applet}`)) {
      links.set(`/bin/${applet}`, 'busybox');
    }
  }
  for (const rel of await kernelModuleList(kernel)) files.set(`/${rel}`, path.join(kernel.modulesRoot, rel));
  for (const meta of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    const host = path.join(kernel.modulesRoot, 'lib', 'modules', kernel.version, meta);
    if (existsSync(host)) files.set(`/lib/modules/${kernel.version}/${meta}`, host);
  }
  files.set('/etc/mke2fs.conf', '/etc/mke2fs.conf');
  texts.set('/etc/lvm/lvm.conf', LVM_CONF);
  texts.set('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n');
  texts.set('/etc/group', 'root:x:0:\n');
  return { files, links, texts };
}

/** A key over everything that goes into the base image: file contents, links, texts, the kernel. */
async function layoutKey(kernel: VmKernel, l: Layout): Promise<string> {
  const hash = createHash('sha256').update(`v1 ${kernel.id}\n`);
  for (const [guest, host] of [...l.files].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`F ${guest}\n`).update(await readFile(host));
  }
  for (const [guest, target] of [...l.links].sort(([a], [b]) => a.localeCompare(b))) hash.update(`L ${guest} ${target}\n`);
  for (const [guest, text] of [...l.texts].sort(([a], [b]) => a.localeCompare(b))) hash.update(`T ${guest}\n${text}`);
  return hash.digest('hex').slice(0, 16);
}

/** Packs a directory into a newc cpio archive (what the kernel unpacks as initramfs), in a stable order. */
export async function packCpio(dir: string, out: string): Promise<void> {
  await run('sh', ['-c', 'cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 > "$2"', 'sh', dir, out]);
}

/**
 * The tools part of the initramfs (uncompressed: TCG unpacks a plain cpio faster than it inflates gzip), cached
 * under <cacheDir>/initramfs/base-<key>.cpio, the key hashing the content of every file that goes in.
 */
export async function ensureBaseInitramfs(cacheDir: string, kernel: VmKernel): Promise<string> {
  const l = await layout(kernel);
  const key = await layoutKey(kernel, l);
  const out = path.join(cacheDir, 'initramfs', `base-${key}.cpio`);
  if (existsSync(out)) return out;

  const root = path.join(cacheDir, 'initramfs', `root-${key}-${process.pid}`);
  await rm(root, { recursive: true, force: true });
  try {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'lib64', 'etc/lvm/backup', 'etc/lvm/archive', 'proc', 'sys', 'dev', 'run', 'tmp', 'mnt', 'var/lib', 'root', 'vigil']) {
      await mkdir(path.join(root, d), { recursive: true });
    }
    for (const [guest, host] of l.files) {
      const dest = path.join(root, guest);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(await realpath(host), dest);
      await chmod(dest, 0o755);
    }
    for (const [guest, target] of l.links) {
      const dest = path.join(root, guest);
      await mkdir(path.dirname(dest), { recursive: true });
      if (!existsSync(dest) && !(await readlink(dest).catch(() => undefined))) await symlink(target, dest);
    }
    for (const [guest, text] of l.texts) {
      await mkdir(path.dirname(path.join(root, guest)), { recursive: true });
      await writeFile(path.join(root, guest), text);
    }
    await run('depmod', ['-b', root, kernel.version]);
    const tmp = `${out}.tmp-${process.pid}`;
    await packCpio(root, tmp);
    await rename(tmp, out);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return out;
}
