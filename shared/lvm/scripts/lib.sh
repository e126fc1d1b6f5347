# shellcheck shell=bash
# SC2004 would drop the $ from ${a[$key]} in arithmetic, which is wrong for the associative arrays used here.
# shellcheck disable=SC2004
# vigil LVM migration — helpers shared by every step. Never run on its own: shared/lvm/command.ts sends this file
# followed by one <step>.sh to `bash -euo pipefail` through SSM Run Command (AWS-RunShellScript), and the VM test
# (test/lvm/vm) runs exactly that output. shared/lvm/README.md is the contract with the state machine.
#
# House rules, enforced here so each step cannot get them wrong:
# - stdout carries exactly one JSON object (emit). fd 1 is pointed at stderr below and fd 3 keeps the real stdout,
#   so a chatty LVM command can never corrupt the result the state machine parses.
# - exit 0 = ok / noop / in-progress, exit 3 = refused and NOTHING was changed, anything else = failure. Every
#   changing command goes through change(), which takes a vgcfgbackup first and remembers that something changed:
#   "ok" versus "noop" is derived from that, and a refusal after a change is reported as a failure instead of 3.
# - Disks are found by EBS volume id only (NVMe serial in sysfs), never by kernel name or size.
# - No LVM command is ever forced (-f/-y): if LVM wants a confirmation, stdin is /dev/null and it says no.
# Portability: bash >= 4.2 (Amazon Linux 2), lvm2 >= 2.02, util-linux, coreutils or busybox. Empty arrays are
# expanded as ${a[@]+"${a[@]}"} because bash < 4.4 treats "${a[@]}" of an empty array as unset under `set -u`.

set -Eeuo pipefail
shopt -s nullglob
export LC_ALL=C
# SSM's environment may lack the sbin directories where lvm, blkid and wipefs live.
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
# LVM warns about every inherited descriptor (3 = result, 9 = lock); here that is expected noise.
export LVM_SUPPRESS_FD_WARNINGS=1
umask 077
exec 3>&1 1>&2

STEP=unknown
VIGIL_STATE_DIR=/var/lib/vigil/lvm
MiB=1048576
_EMITTED=0
_CHANGED=0
_BACKUP_FILE=''
_LAST_ERROR=''
_FIELD_KEYS=()
declare -A _FIELD_VALUES=()

log() { printf '%s vigil-lvm %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$STEP" "$*" >&2; }

# ---------------------------------------------------------------------------------------------------------------
# The JSON result
# ---------------------------------------------------------------------------------------------------------------

json_string() {
  local s=$1 out='' c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [[:cntrl:]] ]]; then printf -v c '\\u%04x' "'$c"; fi
      out+=$c
    done
    s=$out
  fi
  printf '"%s"' "$s"
}

# json_int VALUE: the number, or null when VALUE is not an integer (an LVM field that was empty, say).
json_int() { if [[ ${1:-} =~ ^(0|-?[1-9][0-9]*)$ ]]; then printf '%s' "$1"; else printf 'null'; fi; }
json_num() { if [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$1"; else printf 'null'; fi; }
json_bool() { if [ "${1:-}" = true ]; then printf 'true'; else printf 'false'; fi; }
json_str_or_null() { if [ -n "${1:-}" ]; then json_string "$1"; else printf 'null'; fi; }
# json_array ITEM...: items are JSON already.
json_array() {
  local IFS=,
  printf '[%s]' "$*"
}
# json_string_array STRING...: a JSON array of strings.
json_string_array() {
  local items=() s
  for s in "$@"; do items+=("$(json_string "$s")"); done
  json_array ${items[@]+"${items[@]}"}
}
# json_object KEY VALUE...: values are JSON already.
json_object() {
  local out='' sep=''
  while [ $# -ge 2 ]; do
    out+="$sep$(json_string "$1"):$2"
    sep=,
    shift 2
  done
  printf '{%s}' "$out"
}

# field KEY JSON: adds (or replaces) a field of the result object.
field() {
  if [ -z "${_FIELD_VALUES[$1]+set}" ]; then _FIELD_KEYS+=("$1"); fi
  _FIELD_VALUES[$1]=$2
}

emit() {
  local status=$1 message=$2 out key
  out="{\"step\":$(json_string "$STEP"),\"status\":$(json_string "$status"),\"message\":$(json_string "$message")"
  out+=",\"changed\":$( ((_CHANGED)) && echo true || echo false)"
  if [ -n "$_BACKUP_FILE" ]; then out+=",\"backupFile\":$(json_string "$_BACKUP_FILE")"; fi
  for key in ${_FIELD_KEYS[@]+"${_FIELD_KEYS[@]}"}; do out+=",$(json_string "$key"):${_FIELD_VALUES[$key]}"; done
  printf '%s}\n' "$out" >&3
  _EMITTED=1
}

# succeed MESSAGE [STATUS]: the step is done. STATUS defaults to ok when something changed, noop otherwise.
succeed() {
  local status=${2:-}
  if [ -z "$status" ]; then if ((_CHANGED)); then status=ok; else status=noop; fi; fi
  log "$status: $1"
  emit "$status" "$1"
  exit 0
}

# refuse MESSAGE: a precondition failed. Exit 3 promises that nothing was changed, so a refusal that comes after a
# change (a bug in the step's ordering) is reported as a failure instead.
refuse() {
  if ((_CHANGED)); then fail "refusing after a change was already made (bug in step $STEP): $*"; fi
  log "refused: $*"
  emit refused "$*"
  exit 3
}

fail() {
  log "failed: $*"
  emit failed "$*"
  exit 1
}

# Anything that ends the script without a result (a failing command under `set -e`) still produces one JSON
# object, and never exit 3: that code is reserved for refuse(), and LVM itself exits 3 on a bad command line.
_on_exit() {
  local rc=$?
  trap - EXIT
  if [ "$_EMITTED" = 0 ]; then
    if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then rc=1; fi
    emit failed "step failed (exit $rc)${_LAST_ERROR:+: $_LAST_ERROR}"
  fi
  exit "$rc"
}
trap '_LAST_ERROR="line $LINENO: $BASH_COMMAND exited $?"' ERR
trap _on_exit EXIT

# ---------------------------------------------------------------------------------------------------------------
# Input, locking, changes
# ---------------------------------------------------------------------------------------------------------------

# The same rules as command.ts validates with zod: checked again because a person may run a step by hand.
valid_lvm_name() { [[ $1 =~ ^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$ ]] && [ "$1" != . ] && [ "$1" != .. ]; }
valid_volume_id() { [[ $1 =~ ^vol-([0-9a-f]{8}|[0-9a-f]{17})$ ]]; }

# begin STEP REQUIRED_VAR...: checks the input and takes the instance-wide lock.
begin() {
  STEP=$1
  shift
  local var
  for var in "$@"; do
    if [ -z "${!var:-}" ]; then refuse "environment variable $var is required"; fi
  done
  VG=${VG:-}
  LV=${LV:-}
  OLD_VOLUME_ID=${OLD_VOLUME_ID:-}
  NEW_VOLUME_ID=${NEW_VOLUME_ID:-}
  LV_SIZE=${LV_SIZE:-100%FREE}
  POLL_INTERVAL=${POLL_INTERVAL:-15}
  OLD_DEVICE_NAME=${OLD_DEVICE_NAME:-}
  NEW_DEVICE_NAME=${NEW_DEVICE_NAME:-}
  if [ -n "$VG" ] && ! valid_lvm_name "$VG"; then refuse "VG '$VG' is not a valid volume group name"; fi
  if [ -n "$LV" ] && ! valid_lvm_name "$LV"; then refuse "LV '$LV' is not a valid logical volume name"; fi
  if [ -n "$OLD_VOLUME_ID" ] && ! valid_volume_id "$OLD_VOLUME_ID"; then refuse "OLD_VOLUME_ID '$OLD_VOLUME_ID' is not an EBS volume id"; fi
  if [ -n "$NEW_VOLUME_ID" ] && ! valid_volume_id "$NEW_VOLUME_ID"; then refuse "NEW_VOLUME_ID '$NEW_VOLUME_ID' is not an EBS volume id"; fi
  if [ -n "$OLD_VOLUME_ID" ] && [ "$OLD_VOLUME_ID" = "$NEW_VOLUME_ID" ]; then refuse "old and new volume are the same ($OLD_VOLUME_ID)"; fi
  if ! [[ $LV_SIZE =~ ^(100%FREE|[1-9][0-9]{0,8})$ ]]; then refuse "LV_SIZE '$LV_SIZE' must be 100%FREE or a size in MiB"; fi
  if ! [[ $POLL_INTERVAL =~ ^[1-9][0-9]{0,3}$ ]]; then refuse "POLL_INTERVAL '$POLL_INTERVAL' must be 1-9999 seconds"; fi
  local name
  for name in "$OLD_DEVICE_NAME" "$NEW_DEVICE_NAME"; do
    if [ -n "$name" ] && ! [[ $name =~ ^/dev/(sd|xvd)[a-z]{1,2}$ ]]; then refuse "device name '$name' is not an EC2 device name"; fi
  done
  [ "$(id -u)" = 0 ] || refuse "must run as root"
  command -v lvm >/dev/null || refuse "lvm2 is not installed"
  take_lock
}

# One step at a time per instance: a retried SSM command must never interleave its LVM changes with a slow one.
take_lock() {
  local dir
  for dir in /run/lock /run /tmp; do [ -d "$dir" ] && break; done
  exec 9>"$dir/vigil-lvm.lock"
  if ! flock -w 120 9; then refuse "another vigil LVM step still runs on this instance (lock $dir/vigil-lvm.lock)"; fi
}

# change CMD...: runs a command that changes LVM state or data. The first one of a run is preceded by a
# vgcfgbackup into a file of its own (LVM's own /etc/lvm/backup copy is overwritten by every later change), so the
# metadata from before this step can always be restored with vgcfgrestore -f.
change() {
  backup_vg_once
  _CHANGED=1
  log "+ $*"
  "$@" </dev/null
}

backup_vg_once() {
  [ -z "$_BACKUP_FILE" ] || return 0
  [ -n "$VG" ] && vgs "$VG" >/dev/null 2>&1 || return 0
  mkdir -p "$VIGIL_STATE_DIR"
  local file
  file="$VIGIL_STATE_DIR/$VG-$(date -u +%Y%m%dT%H%M%SZ)-$STEP.vg"
  log "+ vgcfgbackup -f $file $VG"
  vgcfgbackup -f "$file" "$VG" </dev/null
  _BACKUP_FILE=$file
}

# run CMD...: a logged command that changes nothing LVM knows about (a filesystem grow, a rescan).
run() {
  log "+ $*"
  "$@" </dev/null
}

# ---------------------------------------------------------------------------------------------------------------
# Devices: found by EBS volume id, never by kernel name or size
# ---------------------------------------------------------------------------------------------------------------

trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}

# volume_device VOLUME_ID [EC2_DEVICE_NAME]: prints /dev/<disk> of an attached EBS volume. On Nitro instances the
# NVMe controller's serial is the volume id without its dash. Xen instances have no such serial: there, and only
# when no NVMe disk exists at all, the EC2 attachment's device name (/dev/sdf, from the EC2 API, not a guess) maps
# to the Xen disk /dev/xvdf.
volume_device() {
  local want=${1//-/} serial path name found=''
  for path in /sys/block/nvme*/device/serial; do
    serial=$(tr -d '[:space:]' <"$path") || continue
    if [ "$serial" = "$want" ]; then
      name=${path#/sys/block/}
      name=${name%%/*}
      if [ -n "$found" ]; then
        log "two disks carry the serial $want: $found and /dev/$name"
        return 2
      fi
      found=/dev/$name
    fi
  done
  if [ -n "$found" ]; then
    printf '%s\n' "$found"
    return 0
  fi
  local ec2_name=${2:-} xen=''
  set -- /sys/block/nvme*
  if [ -n "$ec2_name" ] && [ $# -eq 0 ]; then
    case $ec2_name in
      /dev/sd*) xen=xvd${ec2_name#/dev/sd} ;;
      /dev/xvd*) xen=${ec2_name#/dev/} ;;
    esac
    if [ -n "$xen" ] && [ -e "/sys/block/$xen" ]; then
      printf '/dev/%s\n' "$xen"
      return 0
    fi
  fi
  return 1
}

# wait_volume_device VOLUME_ID EC2_NAME SECONDS: the kernel may publish a just-attached disk a little after EC2
# reports the attachment as attached.
wait_volume_device() {
  local waited=0
  until volume_device "$1" "$2"; do
    [ $? -eq 2 ] && return 2
    ((waited < $3)) || return 1
    sleep 2
    waited=$((waited + 2))
  done
}

# volume_id_of DEVICE: the inverse, for reports. Empty when the disk is not an EBS NVMe volume.
volume_id_of() {
  local name serial
  name=$(disk_of "$1")
  [ -r "/sys/block/$name/device/serial" ] || return 0
  serial=$(tr -d '[:space:]' <"/sys/block/$name/device/serial")
  if [[ $serial =~ ^vol([0-9a-f]{8}|[0-9a-f]{17})$ ]]; then printf 'vol-%s' "${serial#vol}"; fi
}

kname() { local p; p=$(readlink -f "$1"); printf '%s' "${p#/dev/}"; }

# disk_of DEVICE: the whole disk a device belongs to (itself, or the parent of a partition).
disk_of() {
  local name
  name=$(kname "$1")
  if [ -e "/sys/class/block/$name/partition" ]; then
    name=$(readlink -f "/sys/class/block/$name/..")
    name=${name##*/}
  fi
  printf '%s' "$name"
}

device_bytes() { echo $(($(cat "/sys/class/block/$(kname "$1")/size") * 512)); }

partitions_of() {
  local name=$1 p
  for p in /sys/class/block/"$name"/"$name"*; do
    if [ -e "$p/partition" ]; then printf '%s\n' "${p##*/}"; fi
  done
}

# stack_of NAME: the kernel names of a block device, its partitions and everything stacked on them (LVM/dm, md,
# crypt), recursively, from sysfs. That is what "the device is in use" means to the kernel.
stack_of() {
  local name=$1 p h
  printf '%s\n' "$name"
  for p in $(partitions_of "$name"); do stack_of "$p"; done
  for h in /sys/class/block/"$name"/holders/*; do stack_of "${h##*/}"; done
}

# signatures DEVICE: every signature on the device (filesystem, RAID, partition table, LVM label), one type per
# line, from a low-level probe (blkid -p ignores the cache) and from wipefs (which lists all, not only the first).
signatures() {
  local dev=$1
  {
    blkid -p -o export "$dev" 2>/dev/null | sed -n -e 's/^TYPE=//p' -e 's/^PTTYPE=//p' || true
    wipefs -i -O TYPE "$dev" 2>/dev/null || true
  } | sort -u | sed '/^$/d'
}

lvm_label() { [ "$(blkid -p -o value -s TYPE "$1" 2>/dev/null || true)" = LVM2_member ]; }

devnum() { # device node -> decimal major:minor
  local t
  t=$(stat -L -c '%t:%T' "$1" 2>/dev/null) || return 1
  printf '%d:%d\n' "0x${t%:*}" "0x${t#*:}"
}

file_devnum() { # the device of the filesystem holding a file -> decimal major:minor
  local d
  d=$(stat -c '%d' "$1" 2>/dev/null) || return 1
  printf '%d:%d\n' $((((d >> 8) & 0xfff) | ((d >> 32) & ~0xfff))) $(((d & 0xff) | ((d >> 12) & ~0xff)))
}

unescape_mount() { printf '%b' "${1//\\/\\0}"; }

# load_mounts: what the kernel says is mounted and swapped on, keyed by major:minor.
#   MOUNT_OF[maj:min] = first mount point; SYSTEM_USE[maj:min] = "/", "/boot", "/usr", "/boot/efi" or "swap".
declare -A MOUNT_OF=() SYSTEM_USE=()
load_mounts() {
  MOUNT_OF=()
  SYSTEM_USE=()
  local line f i mnt src num
  while IFS= read -r line; do
    read -r -a f <<<"$line"
    mnt=$(unescape_mount "${f[4]}")
    if [ -z "${MOUNT_OF[${f[2]}]+set}" ]; then MOUNT_OF[${f[2]}]=$mnt; fi
    case $mnt in
      / | /boot | /boot/efi | /usr)
        SYSTEM_USE[${f[2]}]=$mnt
        # btrfs and friends report an anonymous device number: also take the mount source's own number.
        for ((i = 6; i < ${#f[@]}; i++)); do
          if [ "${f[i]}" = - ]; then
            src=$(unescape_mount "${f[i + 2]:-}")
            if [[ $src == /dev/* ]] && num=$(devnum "$src"); then SYSTEM_USE[$num]=$mnt; fi
            break
          fi
        done
        ;;
    esac
  done </proc/self/mountinfo
  local fname type
  while read -r fname type _; do
    [ "$fname" != Filename ] || continue
    fname=$(unescape_mount "$fname")
    if [ "$type" = partition ]; then num=$(devnum "$fname") || continue; else num=$(file_devnum "$fname") || continue; fi
    SYSTEM_USE[$num]=swap
  done </proc/swaps
}

# system_uses DEVICE: what of /, /boot, /boot/efi, /usr and swap lives on the device or anything stacked on it.
system_uses() {
  local name num uses=()
  for name in $(stack_of "$(disk_of "$1")"); do
    num=$(cat "/sys/class/block/$name/dev" 2>/dev/null) || continue
    if [ -n "${SYSTEM_USE[$num]+set}" ]; then uses+=("${SYSTEM_USE[$num]} (on $name)"); fi
  done
  if [ ${#uses[@]} -gt 0 ]; then printf '%s\n' "${uses[@]}"; fi
}

# device_users DEVICE: why the disk cannot be detached yet: holders (dm, md), mounts and swap on it or its
# partitions. Empty output = free.
device_users() {
  local disk name num h
  disk=$(disk_of "$1")
  for name in "$disk" $(partitions_of "$disk"); do
    for h in /sys/class/block/"$name"/holders/*; do printf '%s is held by %s\n' "$name" "${h##*/}"; done
    num=$(cat "/sys/class/block/$name/dev")
    if [ -n "${MOUNT_OF[$num]+set}" ]; then printf '%s is mounted on %s\n' "$name" "${MOUNT_OF[$num]}"; fi
    if [ "${SYSTEM_USE[$num]:-}" = swap ]; then printf '%s is used as swap\n' "$name"; fi
  done
}

# ---------------------------------------------------------------------------------------------------------------
# LVM facts, read in one report per kind (each LVM command costs a metadata scan)
# ---------------------------------------------------------------------------------------------------------------

lvm_report() { "$@" --noheadings --nosuffix --units b --separator '|' </dev/null; }

# load_vg: VG_EXISTS, VG_EXTENT (bytes), VG_FREE (extents), VG_MISSING (PV count), VG_PV_COUNT.
load_vg() {
  VG_EXISTS=0 VG_EXTENT=0 VG_FREE=0 VG_MISSING=0 VG_PV_COUNT=0
  local out
  out=$(lvm_report vgs -o vg_name,vg_extent_size,vg_free_count,vg_missing_pv_count,pv_count "$VG" 2>/dev/null) || return 0
  out=$(trim "$out")
  [ -n "$out" ] || return 0
  IFS='|' read -r _ VG_EXTENT VG_FREE VG_MISSING VG_PV_COUNT <<<"$out"
  VG_EXISTS=1
}

# load_pvs: every PV LVM sees, keyed by kernel name: PV_VG, PV_PE (extents), PV_ALLOC, PV_ALLOCATABLE (true/false),
# PV_BYTES (pv_size), PV_DEV_BYTES (device size), PV_START (bytes before the first extent).
declare -A PV_VG=() PV_PE=() PV_ALLOC=() PV_ALLOCATABLE=() PV_BYTES=() PV_DEV_BYTES=() PV_START=()
load_pvs() {
  PV_VG=() PV_PE=() PV_ALLOC=() PV_ALLOCATABLE=() PV_BYTES=() PV_DEV_BYTES=() PV_START=()
  local out line name vg pe alloc attr size devsize start
  out=$(lvm_report pvs -o pv_name,vg_name,pv_pe_count,pv_pe_alloc_count,pv_attr,pv_size,dev_size,pe_start) ||
    fail "pvs failed: cannot read the LVM physical volumes"
  while IFS= read -r line; do
    [ -n "$(trim "$line")" ] || continue
    IFS='|' read -r name vg pe alloc attr size devsize start <<<"$line"
    name=$(trim "$name")
    [ -e "$name" ] || continue # [unknown]: a missing PV, counted by VG_MISSING
    name=$(kname "$name")
    PV_VG[$name]=$vg
    PV_PE[$name]=$pe
    PV_ALLOC[$name]=$alloc
    if [ "${attr:0:1}" = a ]; then PV_ALLOCATABLE[$name]=true; else PV_ALLOCATABLE[$name]=false; fi
    PV_BYTES[$name]=$size
    PV_DEV_BYTES[$name]=$devsize
    PV_START[$name]=$start
  done <<<"$out"
}

# load_lvs: LV_NAMES (visible LVs of VG), LV_BYTES, LV_DEVNUM (maj:min when active), LV_DEVICES (PV kernel names,
# space separated); the running pvmove, if any: PVMOVE_LV, PVMOVE_SOURCE (kernel name), PVMOVE_PERCENT.
declare -A LV_BYTES=() LV_DEVNUM=() LV_DEVICES=()
LV_NAMES=()
load_lvs() {
  LV_NAMES=() LV_BYTES=() LV_DEVNUM=() LV_DEVICES=()
  PVMOVE_LV='' PVMOVE_SOURCE='' PVMOVE_PERCENT=''
  local out line name attr size move pct major minor devices d devs
  out=$(lvm_report lvs -a -o lv_name,lv_attr,lv_size,move_pv,copy_percent,lv_kernel_major,lv_kernel_minor,devices "$VG") ||
    fail "lvs failed for VG $VG"
  while IFS= read -r line; do
    [ -n "$(trim "$line")" ] || continue
    IFS='|' read -r name attr size move pct major minor devices <<<"$line"
    name=$(trim "$name")
    if [ "${attr:0:1}" = p ]; then
      PVMOVE_LV=${name//[\[\]]/}
      PVMOVE_SOURCE=''
      if [ -n "$move" ] && [ -e "$move" ]; then PVMOVE_SOURCE=$(kname "$move"); fi
      PVMOVE_PERCENT=$pct
      continue
    fi
    [[ $name != \[* ]] || continue # hidden sub-LVs (mirror images, logs)
    LV_NAMES+=("$name")
    LV_BYTES[$name]=$size
    if [ "${major:-0}" -ge 0 ] 2>/dev/null && [ "${minor:--1}" -ge 0 ] 2>/dev/null; then LV_DEVNUM[$name]="$major:$minor"; fi
    devs=''
    for d in ${devices//,/ }; do
      d=${d%%(*}
      if [ -e "$d" ]; then devs+="$(kname "$d") "; else devs+="$d "; fi
    done
    LV_DEVICES[$name]=$devs
  done <<<"$out"
}

load_all() {
  load_vg
  load_pvs
  if ((VG_EXISTS)); then load_lvs; else LV_NAMES=() PVMOVE_LV='' PVMOVE_SOURCE='' PVMOVE_PERCENT=''; fi
  load_mounts
}

# pv_on_disk DEVICE: the PV on a volume: the whole disk, or the one partition of it that carries a PV LVM knows.
pv_on_disk() {
  local disk p found=''
  disk=$(disk_of "$1")
  if [ -n "${PV_VG[$disk]+set}" ]; then
    printf '%s' "$disk"
    return 0
  fi
  for p in $(partitions_of "$disk"); do
    if [ -n "${PV_VG[$p]+set}" ]; then
      [ -z "$found" ] || return 1 # two PVs on one volume: not a layout this tool moves
      found=$p
    fi
  done
  [ -n "$found" ] && printf '%s' "$found"
}

in_vg() { [ -n "$1" ] && [ -n "${PV_VG[$1]+set}" ] && [ "${PV_VG[$1]}" = "$VG" ]; }

# free extents on the allocatable PVs of the VG: what lvextend can really use (a PV emptied by the migration is
# not allocatable, but LVM still counts its free extents in vg_free).
allocatable_free_extents() {
  local name free=0
  for name in ${PV_VG[@]+"${!PV_VG[@]}"}; do
    if in_vg "$name" && [ "${PV_ALLOCATABLE[$name]}" = true ]; then free=$((free + PV_PE[$name] - PV_ALLOC[$name])); fi
  done
  echo "$free"
}

mib() { echo $(($1 / MiB)); }
extents_mib() { echo $(($1 * VG_EXTENT / MiB)); }

# lvm_poller_running: is a background pvmove poller alive? Without lvmpolld every poller is an lvm process (a
# `pvmove -b`, or the vgchange/pvscan that restarted polling at boot); with lvmpolld, lvmpolld de-duplicates polls
# itself, so asking again is harmless and this answers "no".
lvm_poller_running() {
  if [ "$(lvmconfig --type full global/use_lvmpolld 2>/dev/null || true)" = "use_lvmpolld=1" ]; then return 1; fi
  local p exe
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" != "$$" ] || continue
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    if [ "${exe##*/}" = lvm ]; then return 0; fi
  done
  return 1
}

# start_pvmove ARGS...: `pvmove -b` in the background; it forks a poller and returns at once. The poller must not
# inherit the SSM output pipes (the command would then last as long as the move), the result descriptor or the
# step lock, so its output goes to a log file of its own.
start_pvmove() {
  mkdir -p "$VIGIL_STATE_DIR"
  local logfile="$VIGIL_STATE_DIR/pvmove-$VG.log" rc=0
  backup_vg_once
  _CHANGED=1
  log "+ pvmove -b -i $POLL_INTERVAL $* (poller output: $logfile)"
  pvmove -b -i "$POLL_INTERVAL" "$@" </dev/null >>"$logfile" 2>&1 3>&- 9>&- || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 20 "$logfile" >&2 || true
    fail "pvmove -b $* failed (exit $rc)"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Growing an LV and its filesystem (grow, grow-in-place)
# ---------------------------------------------------------------------------------------------------------------

fs_type() { blkid -p -o value -s TYPE "$1" 2>/dev/null || true; }
fs_kib() { df -P -k "$1" | awk 'NR == 2 { print $2 }'; }

# check_growable LV EXTRA_FREE: refusals for grow_lv, checked before anything changes; EXTRA_FREE counts extents
# a pvresize is about to add. Sets GROW_DEV, GROW_FS, GROW_MNT, GROW_ADD (extents to add) for grow_lv.
check_growable() {
  local lv=$1 cur target free
  [ -n "${LV_BYTES[$lv]+set}" ] || refuse "logical volume $VG/$lv not found"
  [ -z "$PVMOVE_LV" ] || refuse "a pvmove is running in $VG; grow after it finished"
  [ -n "${LV_DEVNUM[$lv]:-}" ] || refuse "logical volume $VG/$lv is not active"
  GROW_DEV=/dev/$VG/$lv
  GROW_FS=$(fs_type "$GROW_DEV")
  case $GROW_FS in
    ext4 | xfs) ;;
    '') refuse "$VG/$lv has no filesystem; only ext4 and xfs are grown" ;;
    *) refuse "$VG/$lv holds $GROW_FS; only ext4 and xfs are grown online" ;;
  esac
  GROW_MNT=${MOUNT_OF[${LV_DEVNUM[$lv]}]:-}
  [ -n "$GROW_MNT" ] || refuse "$VG/$lv ($GROW_FS) is not mounted; the online grow needs it mounted"
  cur=$((LV_BYTES[$lv] / VG_EXTENT))
  free=$(($(allocatable_free_extents) + ${2:-0}))
  if [ "$LV_SIZE" = 100%FREE ]; then
    GROW_ADD=$free
  else
    target=$(((LV_SIZE * MiB + VG_EXTENT - 1) / VG_EXTENT))
    GROW_ADD=0
    if ((target > cur)); then GROW_ADD=$((target - cur)); fi
    if ((GROW_ADD > free)); then
      refuse "$VG/$lv needs $(extents_mib "$GROW_ADD") MiB more to reach $LV_SIZE MiB; $(extents_mib "$free") MiB are free"
    fi
  fi
}

# grow_lv LV: lvextend only when the LV is smaller than wanted (lvextend to the same size exits 5), then the
# filesystem grow, which is a no-op when it already fills the LV (resize2fs "Nothing to do", xfs_growfs) and so
# also completes a grow that was interrupted between lvextend and the filesystem. Sets GROW_REPORT (JSON); never
# call it in a $(subshell): change() must record the change in this shell.
grow_lv() {
  local lv=$1 before after
  if ((GROW_ADD > 0)); then change lvextend -l "+$GROW_ADD" "$VG/$lv"; fi
  before=$(fs_kib "$GROW_MNT")
  case $GROW_FS in
    ext4) run resize2fs "$GROW_DEV" ;;
    xfs) run xfs_growfs "$GROW_MNT" ;;
  esac
  after=$(fs_kib "$GROW_MNT")
  if [ "$after" != "$before" ]; then _CHANGED=1; fi
  load_lvs
  GROW_REPORT=$(json_object name "$(json_string "$lv")" sizeMiB "$(json_int "$(mib "${LV_BYTES[$lv]}")")" \
    fsType "$(json_string "$GROW_FS")" mountpoint "$(json_string "$GROW_MNT")" \
    fsSizeMiB "$(json_int $((after / 1024)))")
}
