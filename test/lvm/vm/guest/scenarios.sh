# shellcheck shell=bash
# MANIFEST, OLD, NEW... are read by driver.sh's functions, which shellcheck sees as a separate file.
# shellcheck disable=SC2034
# The scenarios of issue 7, sourced by driver.sh. Each boot runs scenario_<name> for the vigil.scenario and
# vigil.phase of the kernel command line. The SSM command names (prepare-sig, grow-data, ...) are defined on the host
# in test/lvm/vm/catalog.ts.

# Boot 1: refusals (scenario 4), then the full migration (scenario 1).
scenario_full() {
  OLD=$(dev_of "$VOL_OLD") && NEW=$(dev_of "$VOL_NEW") && SMALL=$(dev_of "$VOL_SMALL") &&
    SIG=$(dev_of "$VOL_SIG") && SYS=$(dev_of "$VOL_SYS") || abort "a disk is missing"
  log "old=$OLD new=$NEW small=$SMALL sig=$SIG sys=$SYS"
  setup_datavg

  # ---- 4. refusals: each refused with exit 3, and nothing changed -------------------------------------------------
  # A disk with a filesystem on it; a VG "sysvg" whose PV holds the root filesystem (we chroot into it) and swap.
  mkfs.ext4 -q "$SIG" || abort "mkfs on the signature disk"
  pvcreate -q "$SYS" && vgcreate -q sysvg "$SYS" && lvcreate -q -y -n root -L 64M sysvg &&
    lvcreate -q -y -n swap -L 16M sysvg && mkfs.ext4 -q /dev/sysvg/root && mkswap /dev/sysvg/swap >/dev/null &&
    swapon /dev/sysvg/swap || abort "setting up sysvg"
  local root=/mnt/sysroot d
  mkdir -p $root && mount /dev/sysvg/root $root || abort "mounting sysvg/root"
  for d in bin sbin lib lib64 usr etc vigil proc sys dev run tmp var; do
    mkdir -p "$root/$d" && mount --bind "/$d" "$root/$d" || abort "bind mount /$d"
  done

  lvm_snapshot /tmp/state.before
  step prepare-sig refused
  message_has "not blank"
  field changed false
  step prepare-small refused
  message_has "MiB are allocated on the old PV"
  SSM_CHROOT=$root
  step inspect-sys ok
  field oldHoldsSystem true
  message_has "sysvg"
  step prepare-sys refused
  message_has "holds system data"
  SSM_CHROOT=''
  lvm_snapshot /tmp/state.after
  if cmp -s /tmp/state.before /tmp/state.after; then
    pass "pvs/vgs/lvs (with vg_seqno), signatures, holders and backups are unchanged by the refusals"
  else
    fail "the refusals changed something:"
    diff /tmp/state.before /tmp/state.after
  fi
  check "the signature disk still carries its ext4" [ "$(blkid -p -o value -s TYPE "$SIG")" = ext4 ]
  check "the small disk is still blank" [ -z "$(blkid -p -o value -s TYPE "$SMALL")" ]
  for d in vigil var tmp run dev sys proc etc usr lib64 lib sbin bin; do umount "$root/$d"; done
  umount $root
  swapoff /dev/sysvg/swap
  vgchange -q -an sysvg >/dev/null
  verdict refusals

  # ---- 1. full migration, online, with writes during the move ---------------------------------------------------
  step inspect ok
  message_has "1 PV(s), 2 LV(s), 448 MiB allocated"
  field allocatedMiB 448
  field oldHoldsSystem false
  field pvmoveInProgress false
  step prepare ok
  step prepare noop
  check "old PV is no longer allocatable" [ "$(pvs --noheadings --binary -o pv_allocatable "$OLD" | tr -d ' ')" = 0 ]

  start_writer /mnt/data /mnt/logs
  step pvmove-start in-progress
  field started true
  # Asked again while the move runs (the workflow does so after any doubt): no restart, no second poller.
  step pvmove-start in-progress
  field started false
  field resumed false
  check "one pvmove poller runs ($(lvm_processes))" [ "$(lvm_processes)" = 1 ]
  check "the poller holds neither the step's output nor the step lock $(poller_leaks)" [ -z "$(poller_leaks)" ]
  poll_status 50
  # The move completes between pvmove-status's pvs and lvs reads: it must still answer "done", not "no pvmove runs".
  arm_lvs_race datavg
  step pvmove-status ok
  field 'done' true
  if [ -e /tmp/lvs-raced ]; then
    check "pvmove-status saw the VG change between its reads and read both again" grep -q 'changed between pvs' /tmp/ssm.err
  else
    log "the move completed before pvmove-status read lvs: the race was not staged this time"
  fi
  stop_writer
  step pvmove-status ok
  field 'done' true

  step finish ok
  field oldDeviceFree true
  check "the old disk carries no signature" [ -z "$(blkid -p -o value -s TYPE "$OLD")" ]
  check "the old disk has no holders" [ -z "$(holders_of "$OLD")" ]
  check "datavg has one PV, the new disk" [ "$(pvs --noheadings -o pv_name -S vg_name=datavg | tr -d ' ')" = "$NEW" ]

  local data_fs logs_fs
  data_fs=$(fs_mib /mnt/data)
  logs_fs=$(fs_mib /mnt/logs)
  step grow-data ok
  check "data LV is 512 MiB" [ "$(lv_mib datavg/data)" = 512 ]
  step grow-logs ok
  check "logs LV took every free extent ($(lv_mib datavg/logs) MiB)" [ "$(vgs --noheadings -o vg_free_count datavg | tr -d ' ')" = 0 ]
  check "ext4 grew online ($data_fs -> $(fs_mib /mnt/data) MiB)" [ "$(fs_mib /mnt/data)" -gt $((data_fs + 300)) ]
  check "xfs grew online ($logs_fs -> $(fs_mib /mnt/logs) MiB)" [ "$(fs_mib /mnt/logs)" -gt $((logs_fs + 1000)) ]

  # Every step again: nothing to do, nothing changed (the VG metadata sequence number proves it).
  local seq s
  seq=$(vg_seqno datavg)
  step inspect ok
  message_has "1 PV(s), 2 LV(s), 2044 MiB allocated"
  for s in prepare pvmove-start finish grow-data grow-logs; do
    step "$s" noop
    field changed false
  done
  step pvmove-status ok
  field 'done' true
  check "no VG metadata was written by the second pass (seqno $seq)" [ "$(vg_seqno datavg)" = "$seq" ]

  verify_data
  fsck_datavg
  verdict full
}

# Scenario 2: a hard reset in the middle of pvmove; the next boot resumes with pvmove-start.
scenario_crash() {
  OLD=$(dev_of "$VOL_OLD") && NEW=$(dev_of "$VOL_NEW") && STATE=$(dev_of "$VOL_STATE") || abort "a disk is missing"
  mkdir -p /state
  MANIFEST=/state/manifest.sha256
  if [ "${PHASE:-1}" = 1 ]; then
    mkfs.ext4 -q "$STATE" && mount "$STATE" /state || abort "state disk"
    setup_datavg
    step prepare ok
    start_writer /mnt/data /mnt/logs
    step pvmove-start in-progress
    poll_status 40
    check "crash point reached with the move part-way (${LAST_PERCENT} %)" [ "$LAST_PERCENT" -lt 100 ]
    verdict crash/1
    echo "VIGIL-CRASH $LAST_PERCENT"
    # Let the serial console drain (a reset drops what the UART has not sent yet); the move and the writer go on.
    sleep 1
    # No sync, filesystems mounted, writer and pvmove running: as hard as a reset gets.
    echo b >/proc/sysrq-trigger
    sleep 30
    abort "sysrq reset did not happen"
  fi
  mount "$STATE" /state || abort "state disk"
  # Boot-time activation without restarting the poll, so the resume under test is pvmove-start's.
  vgchange -ay --poll n datavg >/dev/null || abort "vgchange -ay"
  mount_datavg
  check "the interrupted pvmove is still recorded in datavg" grep -q '^ *p' <(lvs -a --noheadings -o lv_attr datavg)
  step pvmove-status in-progress
  # The resume may finish at once when little is left; either way it must be pvmove-start that resumed it.
  step pvmove-start 'in-progress|ok'
  field resumed true
  if [ "$STATUS" = in-progress ]; then poll_status 100; fi
  step pvmove-status ok
  field 'done' true
  step finish ok
  field oldDeviceFree true
  step grow-data ok
  step grow-logs ok
  verify_data
  fsck_datavg
  verdict crash/2
}

# Scenario 3: rollback part-way through the move.
scenario_rollback() {
  OLD=$(dev_of "$VOL_OLD") && NEW=$(dev_of "$VOL_NEW") || abort "a disk is missing"
  setup_datavg
  step prepare ok
  start_writer /mnt/data /mnt/logs
  step pvmove-start in-progress
  # Past the first LV (128 of 448 MiB): that segment is finished on the new PV, so the rollback must move it back.
  poll_status 40
  step rollback 'in-progress|ok'
  field aborted true
  field movingBack true
  local i
  for i in $(seq 1 120); do
    [ "$STATUS" = in-progress ] || break
    sleep 1
    ssm rollback
  done
  if [ "$STATUS" = ok ] && [ "$RC" = 0 ]; then pass "rollback finished: $(jget message)"; else fail "rollback did not finish: $STATUS (exit $RC) $(jget message)"; fi
  field newDeviceFree true
  stop_writer
  step rollback noop
  step pvmove-status ok
  field 'done' false

  check "datavg has one PV again, the old disk" [ "$(pvs --noheadings -o pv_name -S vg_name=datavg | tr -d ' ')" = "$OLD" ]
  check "every LV segment is on the old disk" [ -z "$(lvs -a --noheadings -o devices datavg | tr -d ' ' | grep -v "^$OLD(")" ]
  check "the old PV takes extents again" [ "$(pvs --noheadings --binary -o pv_allocatable "$OLD" | tr -d ' ')" = 1 ]
  check "the new disk carries no signature" [ -z "$(blkid -p -o value -s TYPE "$NEW")" ]
  check "the new disk has no holders (it can be detached)" [ -z "$(holders_of "$NEW")" ]
  verify_data
  fsck_datavg
  verdict rollback
}

# Scenario 5: the disk grows between two boots (the host resizes the image, as ModifyVolume does).
scenario_grow() {
  GROW=$(dev_of "$VOL_GROW") && STATE=$(dev_of "$VOL_STATE") || abort "a disk is missing"
  mkdir -p /state /mnt/data
  MANIFEST=/state/manifest.sha256
  if [ "${PHASE:-1}" = 1 ]; then
    mkfs.ext4 -q "$STATE" && mount "$STATE" /state || abort "state disk"
    pvcreate -q "$GROW" && vgcreate -q growvg "$GROW" && lvcreate -q -y -n data -l 100%FREE growvg &&
      mkfs.ext4 -q /dev/growvg/data && mount /dev/growvg/data /mnt/data || abort "setting up growvg"
    write_data /mnt/data before 12
    step grow-in-place noop
    field pvResized false
    umount /mnt/data /state
    verdict grow/1
    return
  fi
  mount "$STATE" /state || abort "state disk"
  vgchange -ay growvg >/dev/null && mount /dev/growvg/data /mnt/data || abort "activating growvg"
  local lv fs
  lv=$(lv_mib growvg/data)
  fs=$(fs_mib /mnt/data)
  step grow-in-place ok
  field pvResized true
  check "the LV grew with the disk ($lv -> $(lv_mib growvg/data) MiB)" [ "$(lv_mib growvg/data)" -gt $((lv + 400)) ]
  check "ext4 grew online ($fs -> $(fs_mib /mnt/data) MiB)" [ "$(fs_mib /mnt/data)" -gt $((fs + 400)) ]
  step grow-in-place noop
  field changed false
  verify_data
  umount /mnt/data
  check "e2fsck -fn /dev/growvg/data is clean" e2fsck -fn /dev/growvg/data
  verdict grow/2
}

