import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface VmDisk {
  file: string;
  /** The NVMe serial: the EBS volume id without its dash, as on a Nitro instance (at most 20 characters). */
  serial: string;
  throttleWriteBytesPerSecond?: number;
}

export interface BootOptions {
  vmlinuz: string;
  initrd: string;
  disks: VmDisk[];
  /** Extra kernel parameters (vigil.scenario=…). */
  append: string;
  logFile: string;
  timeoutMs: number;
  memoryMiB?: number;
  cpus?: number;
}

export interface BootResult {
  lines: string[];
  exitCode: number | null;
  timedOut: boolean;
  ms: number;
}

/**
 * Boots the test VM with software emulation (TCG: /dev/kvm on these machines is a PVM host that cannot run a stock
 * kernel, see ../shared/docs/lvm-vm.md) and returns its serial console. The guest powers off at the end, and a
 * guest reset (the crash scenario's sysrq b) also ends QEMU because of -no-reboot.
 */
export async function bootVm(o: BootOptions): Promise<BootResult> {
  const args = [
    // TCG by default: this project's machines expose a /dev/kvm (kvm_pvm) that hangs a stock kernel. A runner with
    // a real KVM may set VIGIL_LVM_VM_ACCEL=kvm.
    '-accel', process.env.VIGIL_LVM_VM_ACCEL ?? 'tcg',
    '-smp', String(o.cpus ?? 2),
    '-m', String(o.memoryMiB ?? 640),
    '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', o.vmlinuz,
    '-initrd', o.initrd,
    '-append', `console=ttyS0 quiet panic=-1 ${o.append}`,
  ];
  o.disks.forEach((d, i) => {
    if (d.serial.length > 20) throw new Error(`NVMe serial ${d.serial} is longer than 20 characters`);
    // cache=unsafe: only the guest crashes in these tests, never the host, and what the guest wrote to its disk is
    // in the image the moment QEMU returns from the write.
    const throttle = d.throttleWriteBytesPerSecond ? `,throttling.bps-write=${d.throttleWriteBytesPerSecond}` : '';
    args.push('-drive', `if=none,id=d${i},file=${d.file},format=raw,cache=unsafe${throttle}`);
    args.push('-device', `nvme,serial=${d.serial},drive=d${i}`);
  });

  const started = Date.now();
  const log = createWriteStream(o.logFile);
  log.write(`# qemu-system-x86_64 ${args.join(' ')}\n`);
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const text = partial + chunk.toString('utf8').replaceAll('\r', '');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs);
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (partial) lines.push(partial);
  log.end(`\n# exit ${exitCode}${timedOut ? ' (killed: timeout)' : ''} after ${Date.now() - started} ms\n`);
  await once(log, 'close');
  return { lines, exitCode, timedOut, ms: Date.now() - started };
}
