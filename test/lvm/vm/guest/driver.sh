#!/bin/bash
# The scenario driver inside the LVM test VM (test/lvm/vm). It calls the migration steps only through
# /vigil/ssm/<name>.sh, files the host wrote from shared/lvm/command.ts ssmCommands() output, and runs them with
# `sh -c <file>` the way the SSM agent runs AWS-RunShellScript. What it prints for the host (lvm.vm.ts):
#   VIGIL-CHECK ok|FAIL <what>            one assertion
#   VIGIL-SSM-OUT <name> <line>           each stdout line of a step: the host checks it against the contract
#   VIGIL-SSM-END <name> rc=<n> ms=<n>    how the step ended
#   VIGIL-RESULT <scenario> PASS|FAIL     the verdict of a scenario (or of one phase of it)
#   VIGIL-CRASH <percent>                 right before a deliberate hard reset
# Setup commands (pvcreate for the test VGs, mkfs, ...) are the test's own and run directly.
set -u
# shellcheck source=/dev/null
. /vigil/volumes.env
CMDLINE=$(cat /proc/cmdline)
param() { sed -n "s/.*vigil\\.$1=\\([^ ]*\\).*/\\1/p" <<<"$CMDLINE"; }
SCENARIO=$(param scenario)
PHASE=$(param phase)
FAILS=0
MANIFEST=/tmp/manifest.sha256
SSM_CHROOT=''

log() { echo "VIGIL-LOG $*"; }
pass() { echo "VIGIL-CHECK ok $*"; }
fail() {
  echo "VIGIL-CHECK FAIL $*"
  FAILS=$((FAILS + 1))
}
# check WHAT CMD...: an assertion on a command's success.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# verdict NAME: the result of everything checked since the last verdict.
VERDICT_FAILS=0
verdict() {
  if [ "$FAILS" -eq "$VERDICT_FAILS" ]; then echo "VIGIL-RESULT $1 PASS"; else echo "VIGIL-RESULT $1 FAIL $((FAILS - VERDICT_FAILS)) check(s) failed"; fi
  VERDICT_FAILS=$FAILS
}
# abort WHY: a scenario cannot go on; its verdict is FAIL.
abort() {
  fail "$*"
  verdict "$SCENARIO${PHASE:+/$PHASE}"
  sync
  exit 1
}

# The test's own lookup of a disk by volume id (independent of lib.sh, which is under test).
dev_of() {
  local want=${1//-/} s b
  for s in /sys/block/nvme*/device/serial; do
    if [ "$(tr -d ' \n' <"$s")" = "$want" ]; then
      b=${s#/sys/block/}
      echo "/dev/${b%%/*}"
      return 0
    fi
  done
  return 1
}

# ssm NAME: runs one step exactly as SSM would; sets RC, OUT (stdout) and STATUS.
ssm() {
  local name=$1 t0 t1 line
  [ -x "/vigil/ssm/$name.sh" ] || abort "no SSM command file /vigil/ssm/$name.sh"
  t0=$(date +%s%N)
  if [ -n "$SSM_CHROOT" ]; then
    chroot "$SSM_CHROOT" sh -c "/vigil/ssm/$name.sh" </dev/null >/tmp/ssm.out 2>/tmp/ssm.err
  else
    sh -c "/vigil/ssm/$name.sh" </dev/null >/tmp/ssm.out 2>/tmp/ssm.err
  fi
  RC=$?
  t1=$(date +%s%N)
  sed "s/^/    [$name] /" /tmp/ssm.err
  while IFS= read -r line || [ -n "$line" ]; do echo "VIGIL-SSM-OUT $name $line"; done </tmp/ssm.out
  echo "VIGIL-SSM-END $name rc=$RC ms=$(((t1 - t0) / 1000000))"
  OUT=$(cat /tmp/ssm.out)
  STATUS=$(jget status)
}

# jget KEY: a top-level scalar of the last step's JSON result (strings unquoted).
jget() { sed -n "s/.*\"$1\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" <<<"$OUT" | head -n 1 | sed 's/^"//; s/"$//'; }

# step NAME STATUS[|STATUS...]: runs a step and checks its status and the exit code that goes with that status.
step() {
  local want_rc=0
  ssm "$1"
  case $STATUS in refused) want_rc=3 ;; failed) want_rc=1 ;; esac
  if [[ "|$2|" == *"|$STATUS|"* ]] && [ "$RC" = "$want_rc" ]; then
    pass "$1: $STATUS (exit $RC) $(jget message)"
  else
    fail "$1: expected $2, got '$STATUS' (exit $RC): $(jget message)"
  fi
}

# field KEY VALUE: the last result has KEY = VALUE.
field() {
  local got
  got=$(jget "$1")
  if [ "$got" = "$2" ]; then pass "  $1 = $2"; else fail "  $1 = $2 (got '$got')"; fi
}

message_has() { if [[ $(jget message) == *"$1"* ]]; then pass "  message mentions '$1'"; else fail "  message mentions '$1': $(jget message)"; fi; }

lv_mib() { lvs --noheadings --units m --nosuffix -o lv_size "$1" | tr -d ' ' | cut -d. -f1; }
fs_mib() { df -P -m "$1" | awk 'NR == 2 { print $2 }'; }
vg_seqno() { vgs --noheadings -o vg_seqno "$1" | tr -d ' '; }

# Data: random files written before the move, with their sha256 in the manifest (fsynced, so a crash keeps them).
write_data() { # write_data DIR TAG MiB
  local dir=$1 tag=$2 i
  dd if=/dev/urandom of="$dir/$tag.bin" bs=1M count="$3" conv=fsync status=none
  for i in 1 2 3 4 5 6 7 8; do head -c $((i * 3000 + 17)) /dev/urandom >"$dir/$tag-small-$i"; done
  sync
  sha256sum "$dir/$tag".* "$dir/$tag"-small-* >>"$MANIFEST"
  sync
}

# Writes during the move: every 0.3 s one 256 KiB file per directory, fsynced, then its sha256 is appended to the
# manifest and that is fsynced too: whatever is in the manifest must survive even a hard reset.
start_writer() {
  rm -f /tmp/writer.stop /tmp/writer.count
  (
    n=0
    while [ ! -e /tmp/writer.stop ]; do
      n=$((n + 1))
      for d in "$@"; do
        f=$d/during-$(printf %04d $n).bin
        dd if=/dev/urandom of="$f" bs=64k count=4 conv=fsync status=none || exit 1
        sha256sum "$f" >>"$MANIFEST"
        sync "$MANIFEST"
      done
      echo "$n" >/tmp/writer.count
      sleep 0.3
    done
  ) &
  WRITER=$!
}
stop_writer() {
  touch /tmp/writer.stop
  wait "$WRITER"
  check "writer ran during the move ($(cat /tmp/writer.count 2>/dev/null || echo 0) rounds)" [ "$(cat /tmp/writer.count 2>/dev/null || echo 0)" -ge 2 ]
}

verify_data() {
  local bad
  sync
  bad=$(sha256sum -c --quiet "$MANIFEST" 2>&1)
  check "sha256 of $(wc -l <"$MANIFEST") files written before and during the move" [ -z "$bad" ]
  [ -z "$bad" ] || echo "$bad" | head -n 20
}

fsck_datavg() {
  umount /mnt/data /mnt/logs
  check "e2fsck -fn /dev/datavg/data is clean" e2fsck -fn /dev/datavg/data
  check "xfs_repair -n /dev/datavg/logs is clean" xfs_repair -n /dev/datavg/logs
}

# The data VG every migration scenario moves: an ext4 LV (first on the PV, so pvmove copies it first) and an xfs
# LV (xfs needs 300 MiB at least), both mounted, with data.
setup_datavg() {
  pvcreate -q "$OLD" && vgcreate -q datavg "$OLD" &&
    lvcreate -q -y -n data -L 128M datavg && lvcreate -q -y -n logs -L 320M datavg &&
    mkfs.ext4 -q /dev/datavg/data && mkfs.xfs -q /dev/datavg/logs || abort "setting up datavg"
  mount_datavg
  write_data /mnt/data before 12
  write_data /mnt/logs before 12
}
mount_datavg() {
  mkdir -p /mnt/data /mnt/logs
  mount /dev/datavg/data /mnt/data && mount -t xfs /dev/datavg/logs /mnt/logs || abort "mounting datavg"
}

# poll_status UNTIL_PERCENT: polls pvmove-status every second until the copy percent reaches UNTIL_PERCENT (or the
# move is done when it is 100). Sets LAST_PERCENT.
poll_status() {
  local i same=0 before=-1
  LAST_PERCENT=0
  for i in $(seq 1 240); do
    ssm pvmove-status
    [ "$RC" = 0 ] || abort "pvmove-status failed: $(jget message)"
    if [ "$(jget 'done')" = true ]; then
      LAST_PERCENT=100
      return 0
    fi
    [ "$(jget inProgress)" = true ] || abort "no pvmove runs and the move is not done: $(jget message)"
    LAST_PERCENT=$(jget percent)
    LAST_PERCENT=${LAST_PERCENT%%.*}
    [[ $LAST_PERCENT =~ ^[0-9]+$ ]] || LAST_PERCENT=0
    if [ "$1" != 100 ] && [ "$LAST_PERCENT" -ge "$1" ]; then return 0; fi
    # A move whose percent stands still for 20 polls has no poller: fail now rather than at the boot timeout.
    if [ "$(jget percent)" = "$before" ]; then same=$((same + 1)); else same=0; fi
    before=$(jget percent)
    [ "$same" -lt 20 ] || abort "pvmove stalled at $before % for 20 polls (no poller?)"
    sleep 1
  done
  abort "pvmove did not reach $1 % in 240 polls (at ${LAST_PERCENT:-?} %)"
}

# arm_lvs_race VG: the next `lvs` anyone runs first waits, while a pvmove runs in VG, until that move has completed.
# A step that reads pvs and then lvs thus sees the move's last commit land between its two reads: the race a
# background poller makes at random (met once in CI: pvmove-status read "extents left, no pvmove" and told the
# workflow to start the move again). /tmp/lvs-raced tells that it waited. Once used, the shim only passes through
# (it stays: a step that has run lvs once keeps its path hashed).
arm_lvs_race() {
  rm -f /tmp/lvs-raced
  mkdir -p /usr/local/sbin
  cat >/usr/local/sbin/lvs <<EOF
#!$(type -P bash)
if [ -e /tmp/lvs-race.armed ]; then
  rm -f /tmp/lvs-race.armed
  moving() { /usr/sbin/lvm lvs -a --noheadings -o lv_attr $1 </dev/null 2>/dev/null | grep -q '^ *p'; }
  if moving; then
    for _ in \$(seq 1 900); do moving || break; sleep 0.2; done
    touch /tmp/lvs-raced
  fi
fi
exec /usr/sbin/lvm lvs "\$@"
EOF
  chmod +x /usr/local/sbin/lvs && touch /tmp/lvs-race.armed
}

# lvm_snapshot FILE: everything a refused step must leave as it was: PVs, VGs (with their metadata sequence
# number), LVs and their segments, every disk's signatures and holders, and the backups taken.
lvm_snapshot() {
  {
    pvs -a --noheadings -o pv_name,vg_name,pv_attr,pv_pe_count,pv_pe_alloc_count,pv_uuid
    vgs --noheadings -o vg_name,vg_seqno,pv_count,lv_count,vg_attr,vg_free_count
    lvs -a --noheadings -o vg_name,lv_name,lv_attr,lv_size,seg_pe_ranges
    local d n
    for d in /sys/block/nvme*; do
      n=${d##*/}
      echo "$n: $(blkid -p -o export "/dev/$n" | tr '\n' ' ') | $(wipefs -i -O TYPE,OFFSET "/dev/$n" | tr '\n' ' ') | holders: $(ls "$d/holders" | tr '\n' ' ')"
    done
    ls -l /var/lib/vigil/lvm 2>&1
  } >"$1" 2>&1
}

# lvm_processes: how many lvm processes run (a background pvmove poller is one).
lvm_processes() {
  local p n=0
  for p in /proc/[0-9]*; do [ "$p/exe" -ef /usr/sbin/lvm ] && n=$((n + 1)); done
  echo "$n"
}

# poller_leaks: the files of the step (its stdout/stderr, the step lock) that an lvm process still holds open.
# A background poller holding them would keep an SSM command alive for as long as the move, or block every step.
poller_leaks() {
  local p fd target
  for p in /proc/[0-9]*; do
    [ "$p/exe" -ef /usr/sbin/lvm ] || continue
    for fd in "$p"/fd/*; do
      target=$(readlink "$fd" 2>/dev/null) || continue
      case $target in /tmp/ssm.out | /tmp/ssm.err | */vigil-lvm.lock) echo "${p#/proc/}:$target" ;; esac
    done
  done
}

holders_of() { ls "/sys/block/${1#/dev/}/holders"; }

# shellcheck source=/dev/null
. /vigil/guest/scenarios.sh
log "scenario $SCENARIO phase ${PHASE:-1}"
"scenario_${SCENARIO//-/_}"
