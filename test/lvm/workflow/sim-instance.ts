import { LvmStepResult } from '../../../shared/lvm/step-result';

/**
 * A Linux instance with LVM as the on-instance steps see it, for the local state machine runs: disks found by EBS
 * volume id, one volume group with PVs and extents, LVs with filesystems, and a pvmove with progress, checkpoints,
 * a poller that dies with the instance, and an abort. Each step follows its contract (shared/lvm/README.md and the
 * comment block of shared/lvm/scripts/<step>.sh): the same guards, refusals and result fields. Every result is parsed
 * with the strict schema of shared/lvm/step-result.ts, so the simulation cannot drift from the contract unnoticed.
 */

export const EXTENT_MIB = 4;

interface Pv {
  volumeId: string;
  peCount: number;
  allocated: number;
  allocatable: boolean;
}

interface Lv {
  name: string;
  fsType: 'ext4' | 'xfs' | 'swap' | null;
  mountpoint: string | null;
  extents: number;
  fsExtents: number;
}

interface Move {
  from: string;
  to: string;
  /** Extents to move when the move started. */
  total: number;
  copied: number;
  /** A poller (pvmove -b, or vgchange at boot) is alive; without one the move does not advance. */
  polling: boolean;
  direction: 'forward' | 'rollback';
}

export interface InstanceFaults {
  /** The forward move dies when it reaches this percentage, and every restart fails with an I/O error. */
  pvmoveIoErrorAtPercent?: number;
  /** The grow step fails. */
  growFails?: boolean;
  /** The rollback step fails at its end: the new disk is still held (a process has it open). */
  newDiskHeld?: boolean;
}

export interface StepRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class SimInstance {
  /** Attached disks by volume id: size in MiB and the kernel name. */
  readonly disks = new Map<string, { sizeMiB: number; kname: string }>();
  readonly pvs = new Map<string, Pv>();
  /** PV labels not in any VG (pvcreate without vgextend). */
  readonly orphanPvs = new Set<string>();
  readonly lvs: Lv[];
  move: Move | undefined;
  /** Extents the move copies per `pvmove-status` poll (the simulated passage of time). */
  extentsPerPoll: number;
  faults: InstanceFaults = {};
  /** What the old volume holds of the system (inspect's oldSystemUses). */
  systemUses: string[] = [];
  readonly log: string[] = [];
  private nextNvme = 1;

  constructor(
    readonly vg: string,
    opts: { lvs: { name: string; fsType: Lv['fsType']; mountpoint: string | null; sizeMiB: number }[]; extentsPerPoll?: number },
  ) {
    this.lvs = opts.lvs.map((l) => ({ ...l, extents: l.sizeMiB / EXTENT_MIB, fsExtents: l.sizeMiB / EXTENT_MIB }));
    this.extentsPerPoll = opts.extentsPerPoll ?? 0;
  }

  attachDisk(volumeId: string, sizeGiB: number): void {
    if (this.disks.has(volumeId)) return;
    this.disks.set(volumeId, { sizeMiB: sizeGiB * 1024, kname: `nvme${this.nextNvme++}n1` });
  }

  detachDisk(volumeId: string): void {
    this.disks.delete(volumeId);
  }

  resizeDisk(volumeId: string, sizeGiB: number): void {
    const disk = this.disks.get(volumeId);
    if (disk) disk.sizeMiB = sizeGiB * 1024;
  }

  /** Builds the VG on one disk, its LVs allocated on it. */
  createVolumeGroupOn(volumeId: string): void {
    const pv = this.newPv(volumeId);
    pv.allocated = this.lvs.reduce((n, l) => n + l.extents, 0);
    this.pvs.set(volumeId, pv);
  }

  /** A hard reboot: every poller dies, the in-flight segment is lost (copied back to the last checkpoint). */
  reboot(): void {
    if (this.move) {
      this.move.polling = false;
      const segment = Math.max(1, Math.floor(this.move.total / 10));
      this.move.copied = Math.floor(this.move.copied / segment) * segment;
    }
  }

  allocatedOn(volumeId: string): number {
    return this.pvs.get(volumeId)?.allocated ?? 0;
  }

  /** Total extents of all LVs: must never change (no data lost or invented). */
  lvExtents(): number {
    return this.lvs.reduce((n, l) => n + l.extents, 0);
  }

  private newPv(volumeId: string): Pv {
    const disk = this.disks.get(volumeId);
    if (!disk) throw new Error(`no disk ${volumeId}`);
    return { volumeId, peCount: Math.floor((disk.sizeMiB - 1) / EXTENT_MIB), allocated: 0, allocatable: true };
  }

  private device(volumeId: string): string {
    const disk = this.disks.get(volumeId);
    if (!disk) throw new Error(`no disk ${volumeId}`);
    return `/dev/${disk.kname}`;
  }

  private percent(): number | null {
    if (!this.move) return null;
    return Math.round((this.move.copied / this.move.total) * 10000) / 100;
  }

  /** Advances a polled move by one poll's worth of extents. */
  private tick(): void {
    const m = this.move;
    if (!m || !m.polling) return;
    const limit = this.faults.pvmoveIoErrorAtPercent;
    let next = Math.min(m.total, m.copied + this.extentsPerPoll);
    if (m.direction === 'forward' && limit !== undefined && (next / m.total) * 100 >= limit) {
      next = Math.floor((m.total * limit) / 100);
      this.transfer(m.from, m.to, next - m.copied);
      m.copied = next;
      this.log.push(`pvmove died at ${limit}%: I/O error on the new disk`);
      this.move = undefined;
      return;
    }
    this.transfer(m.from, m.to, next - m.copied);
    m.copied = next;
    if (m.copied >= m.total) this.move = undefined;
  }

  private transfer(from: string, to: string, extents: number): void {
    const a = this.pvs.get(from);
    const b = this.pvs.get(to);
    if (!a || !b) throw new Error('transfer between unknown PVs');
    a.allocated -= extents;
    b.allocated += extents;
  }

  /** Runs one step as bash would: env in, one JSON object on stdout, exit code. */
  run(step: string, env: Record<string, string>): StepRun {
    let changed = false;
    const fields: Record<string, unknown> = {};
    const out = (status: 'ok' | 'noop' | 'in-progress' | 'refused' | 'failed', message: string, exitCode: number): StepRun => {
      const result = LvmStepResult.parse({ step, status, message, changed, ...fields });
      this.log.push(`${step}: ${status}: ${message}`);
      return { exitCode, stdout: `${JSON.stringify(result)}\n`, stderr: `vigil-lvm ${step}: ${status}: ${message}\n` };
    };
    const ok = (message: string, status?: 'ok' | 'noop' | 'in-progress') => out(status ?? (changed ? 'ok' : 'noop'), message, 0);
    const refuse = (message: string) => out('refused', message, 3);
    const fail = (message: string, code = 5) => out('failed', message, code);
    const { VG, OLD_VOLUME_ID: old = '', NEW_VOLUME_ID: neu = '' } = env;
    if (VG !== this.vg) return refuse(`volume group ${VG} not found`);
    const inVg = (id: string) => this.pvs.has(id);

    switch (step) {
      case 'inspect': {
        if (old && !this.disks.has(old)) return refuse(`old volume ${old} is not attached (no disk has its serial)`);
        fields.vg = this.vg;
        fields.extentSizeMiB = EXTENT_MIB;
        fields.pvs = [...this.pvs.values()].map((pv) => ({
          device: this.device(pv.volumeId),
          volumeId: pv.volumeId,
          sizeMiB: pv.peCount * EXTENT_MIB,
          allocatedMiB: pv.allocated * EXTENT_MIB,
          freeMiB: (pv.peCount - pv.allocated) * EXTENT_MIB,
          allocatable: pv.allocatable,
          isOld: pv.volumeId === old,
        }));
        fields.lvs = this.lvs.map((lv) => ({
          name: lv.name,
          path: `/dev/${this.vg}/${lv.name}`,
          sizeMiB: lv.extents * EXTENT_MIB,
          active: true,
          fsType: lv.fsType,
          mountpoint: lv.mountpoint,
          onOld: old ? this.allocatedOn(old) > 0 : false,
        }));
        const allocated = old && inVg(old) ? this.allocatedOn(old) : [...this.pvs.values()].reduce((n, p) => n + p.allocated, 0);
        fields.allocatedMiB = allocated * EXTENT_MIB;
        fields.freeMiB = [...this.pvs.values()].reduce((n, p) => n + (p.allocatable ? p.peCount - p.allocated : 0), 0) * EXTENT_MIB;
        fields.missingPvs = 0;
        fields.pvmoveInProgress = this.move !== undefined;
        fields.pvmovePercent = this.percent();
        if (old) {
          fields.oldDevice = this.device(old);
          fields.oldPv = inVg(old) ? this.device(old) : null;
          fields.oldHoldsSystem = this.systemUses.length > 0;
          fields.oldSystemUses = this.systemUses;
        }
        return ok(`volume group ${this.vg}: ${this.pvs.size} PV(s), ${this.lvs.length} LV(s)`, 'ok');
      }
      case 'prepare': {
        if (!this.disks.has(old)) return refuse(`old volume ${old} is not attached (no disk has its serial)`);
        if (!this.disks.has(neu)) return refuse(`new volume ${neu} is not attached (no disk has its serial after 30 s)`);
        if (this.systemUses.length > 0) return refuse(`old volume ${old} holds ${this.systemUses.join(', ')}`);
        const needed = inVg(old) ? this.allocatedOn(old) : 0;
        const capacity = Math.floor(((this.disks.get(neu)?.sizeMiB ?? 0) - 1) / EXTENT_MIB);
        if (!inVg(neu) && capacity < needed) return refuse(`new volume ${neu} is too small`);
        fields.oldDevice = this.device(old);
        fields.newDevice = this.device(neu);
        if (!inVg(neu)) {
          this.orphanPvs.add(neu);
          this.pvs.set(neu, this.newPv(neu));
          this.orphanPvs.delete(neu);
          changed = true;
        }
        const oldPv = this.pvs.get(old);
        if (oldPv?.allocatable) {
          oldPv.allocatable = false;
          changed = true;
        }
        fields.allocatedMiB = needed * EXTENT_MIB;
        fields.newCapacityMiB = capacity * EXTENT_MIB;
        return ok(changed ? 'new volume added, allocation on the old one stopped' : 'already prepared');
      }
      case 'pvmove-start': {
        if (!this.disks.has(old)) return refuse(`old volume ${old} is not attached`);
        if (!this.disks.has(neu)) return refuse(`new volume ${neu} is not attached`);
        const report = () => {
          fields.inProgress = this.move !== undefined;
          fields.percent = this.percent();
          fields.remainingExtents = this.allocatedOn(old);
          fields.done = !this.move && this.allocatedOn(old) === 0;
        };
        if (!inVg(old) || (this.allocatedOn(old) === 0 && !this.move)) {
          fields.started = false;
          fields.resumed = false;
          report();
          return ok('nothing left on the old volume');
        }
        if (this.faults.pvmoveIoErrorAtPercent !== undefined && this.allocatedOn(neu) > 0 && !this.move) {
          return fail(`pvmove: write error on ${this.device(neu)}: Input/output error`);
        }
        if (this.move) {
          const resumed = !this.move.polling;
          this.move.polling = true;
          changed = resumed;
          fields.started = false;
          fields.resumed = resumed;
          report();
          return ok(resumed ? 'resumed the interrupted pvmove' : 'pvmove already runs');
        }
        if (!inVg(neu)) return refuse(`new volume ${neu} is not a PV of ${this.vg}: run prepare first`);
        this.move = { from: old, to: neu, total: this.allocatedOn(old), copied: 0, polling: true, direction: 'forward' };
        changed = true;
        fields.started = true;
        fields.resumed = false;
        report();
        return ok('pvmove started in the background');
      }
      case 'pvmove-status': {
        if (!this.disks.has(old)) return refuse(`old volume ${old} is not attached`);
        this.tick();
        const remaining = inVg(old) ? this.allocatedOn(old) : 0;
        const done = !this.move && remaining === 0;
        fields.inProgress = this.move !== undefined;
        fields.percent = done ? 100 : this.percent();
        fields.remainingExtents = remaining;
        fields.remainingMiB = remaining * EXTENT_MIB;
        fields.done = done;
        fields.direction = this.move?.direction ?? null;
        if (this.move) return ok(`${this.move.direction} pvmove: ${this.percent()} % copied`, 'in-progress');
        return ok(done ? 'the move is done' : 'no pvmove runs: run pvmove-start', 'ok');
      }
      case 'finish': {
        if (this.move) return refuse(`a pvmove still runs in ${this.vg}`);
        if (!this.disks.has(neu) || !inVg(neu)) return refuse(`new volume ${neu} is not a PV of ${this.vg}: the data is not on it`);
        if (inVg(old)) {
          if (this.allocatedOn(old) > 0) return refuse(`${this.allocatedOn(old)} extents remain on the old PV`);
          this.pvs.delete(old);
          changed = true;
        }
        fields.oldDevice = this.disks.has(old) ? this.device(old) : null;
        fields.oldDeviceFree = true;
        fields.oldDeviceUsers = [];
        return ok(changed ? 'old volume removed from the VG and free' : 'old volume already out of the VG');
      }
      case 'grow': {
        const lv = this.lvs.find((l) => l.name === env.LV);
        if (!lv) return refuse(`logical volume ${env.LV} not found`);
        if (this.move) return refuse(`a pvmove runs in ${this.vg}`);
        if (lv.fsType !== 'ext4' && lv.fsType !== 'xfs') return refuse(`${lv.name} holds ${lv.fsType ?? 'no filesystem'}`);
        if (this.faults.growFails) return fail('xfs_growfs: XFS_IOC_FSGROWFSDATA xfsctl failed: No space left on device', 1);
        const free = [...this.pvs.values()].reduce((n, p) => n + (p.allocatable ? p.peCount - p.allocated : 0), 0);
        if (free > 0) {
          const target = [...this.pvs.values()].find((p) => p.allocatable && p.peCount > p.allocated);
          if (target) target.allocated += free;
          lv.extents += free;
          changed = true;
        }
        if (lv.fsExtents < lv.extents) {
          lv.fsExtents = lv.extents;
          changed = true;
        }
        fields.lvs = [{ name: lv.name, sizeMiB: lv.extents * EXTENT_MIB, fsType: lv.fsType, mountpoint: lv.mountpoint ?? '', fsSizeMiB: lv.fsExtents * EXTENT_MIB }];
        return ok(`${this.vg}/${lv.name} is ${lv.extents * EXTENT_MIB} MiB and its filesystem fills it`);
      }
      case 'rollback': {
        if (!this.disks.has(old)) return refuse(`old volume ${old} is not attached: cannot roll back onto it`);
        if (!inVg(old)) return refuse(`old volume ${old} is no longer in ${this.vg}: finish already ran`);
        if (this.move?.direction === 'forward') {
          this.move = undefined; // pvmove --abort: finished segments stay on the new PV
          fields.aborted = true;
          changed = true;
        }
        const oldPv = this.pvs.get(old);
        if (oldPv && !oldPv.allocatable) {
          oldPv.allocatable = true;
          changed = true;
        }
        if (inVg(neu) && this.allocatedOn(neu) > 0) {
          if (!this.move) {
            this.move = { from: neu, to: old, total: this.allocatedOn(neu), copied: 0, polling: true, direction: 'rollback' };
            const newPv = this.pvs.get(neu);
            if (newPv) newPv.allocatable = false;
            changed = true;
          } else {
            this.move.polling = true;
            this.tick();
          }
          if (this.move) {
            fields.movingBack = true;
            fields.percent = this.percent();
            return ok('moving extents back to the old volume', 'in-progress');
          }
        }
        if (inVg(neu)) {
          this.pvs.delete(neu);
          changed = true;
        }
        if (this.faults.newDiskHeld) {
          fields.newDeviceFree = false;
          fields.newDeviceUsers = ['pid 4242 (dd)'];
          return fail(`new volume ${neu} is still in use after pvremove: pid 4242 (dd)`, 1);
        }
        fields.newDevice = this.disks.has(neu) ? this.device(neu) : null;
        fields.newDeviceFree = true;
        fields.newDeviceUsers = [];
        return ok(changed ? 'rolled back: every extent on the old volume, the new one released' : 'nothing to roll back');
      }
      case 'grow-in-place': {
        if (this.move) return refuse(`a pvmove runs in ${this.vg}`);
        const disk = this.disks.get(old);
        const pv = this.pvs.get(old);
        if (!disk || !pv) return refuse(`volume ${old} is not a PV of ${this.vg}`);
        const pe = Math.floor((disk.sizeMiB - 1) / EXTENT_MIB);
        fields.device = this.device(old);
        fields.pvResized = pe > pv.peCount;
        if (pe > pv.peCount) {
          pv.peCount = pe;
          changed = true;
        }
        fields.pvSizeMiB = pv.peCount * EXTENT_MIB;
        fields.deviceSizeMiB = disk.sizeMiB;
        if (env.LV) {
          const grown = this.run('grow', { VG: this.vg, LV: env.LV });
          const result = JSON.parse(grown.stdout) as { lvs?: unknown; changed: boolean };
          fields.lvs = result.lvs;
          changed ||= result.changed;
        }
        return ok(changed ? 'grown in place' : 'already grown');
      }
      default:
        return fail(`unknown step ${step}`, 2);
    }
  }
}
