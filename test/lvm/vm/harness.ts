import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ssmCommands, ssmScript } from '../../../shared/lvm/command';
import { parseLvmStepOutput } from '../../../shared/lvm/step-result';
import { SCENARIOS, SSM_INVOCATIONS, VOLUMES, type ScenarioSpec } from './catalog';
import { ensureDebianPackages, VM_HOST_PACKAGES } from './host-packages';
import { ensureBaseInitramfs, packCpio } from './initramfs';
import { ensureKernel, type VmKernel } from './kernel';
import { bootVm, type BootResult } from './qemu';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const cacheDir = path.join(repoRoot, '.cache', 'lvm-vm');

export interface VmEnv {
  kernel: VmKernel;
  initrd: string;
  runDir: string;
  setupMs: { packages: number; kernel: number; initramfs: number };
}

/**
 * Everything before the first boot: host packages, the kernel, the cached tools initramfs, and this run's overlay
 * with the guest driver and one SSM command file per entry of SSM_INVOCATIONS, built by ssmCommands() from the
 * real shared/lvm/scripts/*.sh.
 */
export async function prepareVm(): Promise<VmEnv> {
  let t = Date.now();
  await ensureDebianPackages(VM_HOST_PACKAGES);
  const packages = Date.now() - t;
  t = Date.now();
  const kernel = await ensureKernel(cacheDir);
  const kernelMs = Date.now() - t;
  t = Date.now();
  const base = await ensureBaseInitramfs(cacheDir, kernel);

  await pruneCache(kernel, base);
  const runDir = path.join(cacheDir, 'runs', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  const overlay = path.join(runDir, 'overlay');
  await mkdir(path.join(overlay, 'vigil', 'ssm'), { recursive: true });
  await mkdir(path.join(overlay, 'vigil', 'guest'), { recursive: true });
  await copyFile(path.join(here, 'guest', 'init'), path.join(overlay, 'init'));
  await chmod(path.join(overlay, 'init'), 0o755);
  for (const f of ['driver.sh', 'scenarios.sh']) await copyFile(path.join(here, 'guest', f), path.join(overlay, 'vigil', 'guest', f));
  for (const [name, [step, env]] of Object.entries(SSM_INVOCATIONS)) {
    const file = path.join(overlay, 'vigil', 'ssm', `${name}.sh`);
    // What the SSM agent writes to its _script.sh and makes executable before running it with `sh -c`.
    await writeFile(file, ssmScript(ssmCommands(step, env)), { mode: 0o700 });
  }
  await writeFile(
    path.join(overlay, 'vigil', 'volumes.env'),
    Object.entries(VOLUMES)
      .map(([k, v]) => `VOL_${k}=${v}\n`)
      .join(''),
  );
  const overlayCpio = path.join(runDir, 'overlay.cpio');
  await packCpio(overlay, overlayCpio);
  // The kernel unpacks concatenated archives in order: the overlay's /init and /vigil land on the tools image.
  const initrd = path.join(runDir, 'initrd.cpio');
  await writeFile(initrd, Buffer.concat([await readFile(base), await readFile(overlayCpio)]));
  return { kernel, initrd, runDir, setupMs: { packages, kernel: kernelMs, initramfs: Date.now() - t } };
}

/** Keeps the cache small: the current kernel and tools image only, and the console logs of the last 5 runs. */
async function pruneCache(kernel: VmKernel, base: string): Promise<void> {
  const list = async (dir: string) => (existsSync(dir) ? (await readdir(dir)).sort() : []);
  const kernelDir = path.join(cacheDir, 'kernel');
  // Finished entries only: a .tmp-<pid> or root-<key>-<pid> may belong to another run building right now.
  for (const e of await list(kernelDir)) {
    if (e !== kernel.id && !e.includes('.tmp-')) await rm(path.join(kernelDir, e), { recursive: true, force: true });
  }
  const imageDir = path.join(cacheDir, 'initramfs');
  for (const e of await list(imageDir)) {
    if (/^base-[0-9a-f]+\.cpio$/.test(e) && e !== path.basename(base)) await rm(path.join(imageDir, e), { force: true });
  }
  const runs = await list(path.join(cacheDir, 'runs'));
  for (const e of runs.slice(0, Math.max(0, runs.length - 5))) await rm(path.join(cacheDir, 'runs', e), { recursive: true, force: true });
}

export interface StepOutput {
  name: string;
  rc: number;
  ms: number;
  stdout: string;
}

export interface BootReport {
  phase: number;
  ms: number;
  logFile: string;
  result: BootResult;
}

export interface ScenarioReport {
  name: string;
  ms: number;
  boots: BootReport[];
  verdicts: Record<string, string>;
  failedChecks: string[];
  steps: StepOutput[];
  /** Steps whose stdout is not exactly one JSON object of the contract, consistent with the exit code. */
  contractErrors: string[];
  problems: string[];
}

function parseConsole(lines: string[], report: ScenarioReport): void {
  const pending = new Map<string, string[]>();
  for (const raw of lines) {
    // Kernel messages can interleave with our lines on the console: anchor on the marker, not the line start.
    const line = raw.slice(Math.max(0, raw.indexOf('VIGIL-')));
    let m: RegExpExecArray | null;
    if ((m = /^VIGIL-SSM-OUT (\S+) (.*)$/.exec(line))) {
      pending.set(m[1]!, [...(pending.get(m[1]!) ?? []), m[2]!]);
    } else if ((m = /^VIGIL-SSM-END (\S+) rc=(\d+) ms=(\d+)/.exec(line))) {
      const step: StepOutput = { name: m[1]!, rc: Number(m[2]), ms: Number(m[3]), stdout: (pending.get(m[1]!) ?? []).join('\n') };
      pending.delete(m[1]!);
      report.steps.push(step);
      try {
        parseLvmStepOutput(step.stdout, step.rc);
      } catch (err) {
        report.contractErrors.push(`${step.name} (exit ${step.rc}): ${(err as Error).message}\n  stdout: ${step.stdout}`);
      }
    } else if ((m = /^VIGIL-CHECK FAIL (.*)$/.exec(line))) {
      report.failedChecks.push(m[1]!);
    } else if ((m = /^VIGIL-RESULT (\S+) (PASS|FAIL)(.*)$/.exec(line))) {
      report.verdicts[m[1]!] = m[2]! + m[3]!;
    }
  }
}

async function makeDisk(file: string, mib: number): Promise<void> {
  // Sparse; a later boot may only grow it (the Elastic Volumes case), never shrink it.
  if (!existsSync(file)) await (await open(file, 'w')).close();
  await truncate(file, mib * 1024 * 1024);
}

/** Runs the boots of one scenario on its own disk images and collects verdicts, checks and step outputs. */
export async function runScenario(env: VmEnv, spec: ScenarioSpec): Promise<ScenarioReport> {
  const dir = path.join(env.runDir, spec.name);
  await mkdir(dir, { recursive: true });
  const report: ScenarioReport = {
    name: spec.name,
    ms: 0,
    boots: [],
    verdicts: {},
    failedChecks: [],
    steps: [],
    contractErrors: [],
    problems: [],
  };
  const started = Date.now();
  try {
    for (const boot of spec.boots) {
      for (const d of boot.disks) await makeDisk(path.join(dir, `${d.volume.toLowerCase()}.raw`), d.mib);
      const logFile = path.join(dir, `console-${boot.phase}.log`);
      const result = await bootVm({
        vmlinuz: env.kernel.vmlinuz,
        initrd: env.initrd,
        append: `vigil.scenario=${spec.name} vigil.phase=${boot.phase}`,
        disks: boot.disks.map((d) => ({
          file: path.join(dir, `${d.volume.toLowerCase()}.raw`),
          serial: VOLUMES[d.volume].replace('-', ''),
          throttleWriteBytesPerSecond: d.throttleWriteMiBps ? d.throttleWriteMiBps * 1024 * 1024 : undefined,
        })),
        logFile,
        timeoutMs: 300_000,
      });
      report.boots.push({ phase: boot.phase, ms: result.ms, logFile, result });
      parseConsole(result.lines, report);
      const text = result.lines.join('\n');
      if (result.timedOut) report.problems.push(`boot ${boot.phase} timed out (${logFile})`);
      if (boot.crashes) {
        if (!/VIGIL-CRASH/.test(text)) report.problems.push(`boot ${boot.phase} did not reach its crash point (${logFile})`);
      } else if (!/VIGIL-BOOT-END/.test(text)) {
        report.problems.push(`boot ${boot.phase} did not end normally (${logFile})`);
      }
      if (report.problems.length > 0) break;
    }
  } finally {
    report.ms = Date.now() - started;
    // The images are sparse but large; the console logs stay for reading.
    await run('sh', ['-c', 'rm -f "$1"/*.raw', 'sh', dir]);
  }
  for (const v of spec.verdicts) if (report.verdicts[v] === undefined) report.problems.push(`no verdict for ${v}`);
  return report;
}

export const scenarioPassed = (spec: ScenarioSpec, r: ScenarioReport): boolean =>
  r.problems.length === 0 &&
  r.failedChecks.length === 0 &&
  r.contractErrors.length === 0 &&
  spec.verdicts.every((v) => r.verdicts[v] === 'PASS');

/** A failure message a person can act on: what failed, and the end of the console. */
export function describeFailure(spec: ScenarioSpec, r: ScenarioReport): string {
  const last = r.boots.at(-1);
  const tail = last ? last.result.lines.slice(-60).join('\n') : '(no boot)';
  return [
    `scenario ${spec.name} failed`,
    ...r.problems.map((p) => `  problem: ${p}`),
    ...Object.entries(r.verdicts).map(([k, v]) => `  verdict ${k}: ${v}`),
    ...r.failedChecks.map((c) => `  FAILED CHECK: ${c}`),
    ...r.contractErrors.map((c) => `  CONTRACT: ${c}`),
    `  console logs: ${r.boots.map((b) => b.logFile).join(', ')}`,
    '--- last console lines ---',
    tail,
  ].join('\n');
}

export const cleanupRun = (env: VmEnv): Promise<void> => rm(path.join(env.runDir, 'initrd.cpio'), { force: true });

export { SCENARIOS };
