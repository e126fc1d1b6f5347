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
# Style: helpers hand results back in variables (_J, _K, DEVICE, ...) instead of $(subshells): a fork is cheap on an
# instance but costs ~0.1 s in the emulated test VM, and the status step is polled.
# Portability: bash >= 4.2 (Amazon Linux 2), lvm2 >= 2.02, util-linux, coreutils. Empty arrays are expanded as
# ${a[@]+"${a[@]}"} because bash < 4.4 treats "${a[@]}" of an empty array as unset under `set -u`. No extglob: the
# whole script is parsed before it runs (command.ts wraps it in { }), before any shopt could take effect.

set -Eeuo pipefail
shopt -s nullglob
export LC_ALL=C TZ=UTC
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

log() {
  local now
  printf -v now '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  printf '%s vigil-lvm %s: %s\n' "$now" "$STEP" "$*" >&2
}

# ---------------------------------------------------------------------------------------------------------------
# The JSON result. j* helpers leave their JSON in _J.
# ---------------------------------------------------------------------------------------------------------------

jstr() {
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
  _J="\"$s\""
}
# jint VALUE: the number, or null when VALUE is not an integer (an LVM field that was empty, say).
jint() { if [[ ${1:-} =~ ^(0|-?[1-9][0-9]*)$ ]]; then _J=$1; else _J=null; fi; }
jnum() { if [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then _J=$1; else _J=null; fi; }
jbool() { if [ "${1:-}" = true ]; then _J=true; else _J=false; fi; }
jstr_or_null() { if [ -n "${1:-}" ]; then jstr "$1"; else _J=null; fi; }
# jstr_array STRING...: a JSON array of strings.
jstr_array() {
  local items='' s
  for s in "$@"; do
    jstr "$s"
    items+=${items:+,}$_J
  done
  _J="[$items]"
}
# put VAR KEY JSON: appends "KEY":JSON to the object members being collected in VAR (wrap in { } when done).
put() {
  jstr "$2"
  printf -v "$1" '%s%s%s:%s' "${!1}" "${!1:+,}" "$_J" "$3"
}

# field KEY JSON: adds (or replaces) a field of the result object. field_* take plain values.
field() {
  if [ -z "${_FIELD_VALUES[$1]+set}" ]; then _FIELD_KEYS+=("$1"); fi
  _FIELD_VALUES[$1]=$2
}
field_str() { jstr "$2" && field "$1" "$_J"; }
field_str_or_null() { jstr_or_null "${2:-}" && field "$1" "$_J"; }
field_int() { jint "$2" && field "$1" "$_J"; }
field_num() { jnum "${2:-}" && field "$1" "$_J"; }
field_bool() { jbool "$2" && field "$1" "$_J"; }
# field_if KEY CONDITION...: a boolean field, true when the command succeeds.
field_if() {
  local key=$1
  shift
  if "$@"; then field "$key" true; else field "$key" false; fi
}

emit() {
  local out key
  jstr "$STEP"
  out="{\"step\":$_J"
  jstr "$1"
  out+=",\"status\":$_J"
  jstr "$2"
  out+=",\"message\":$_J,\"changed\":"
  if ((_CHANGED)); then out+=true; else out+=false; fi
  if [ -n "$_BACKUP_FILE" ]; then
    jstr "$_BACKUP_FILE"
    out+=",\"backupFile\":$_J"
  fi
  for key in ${_FIELD_KEYS[@]+"${_FIELD_KEYS[@]}"}; do
    jstr "$key"
    out+=",$_J:${_FIELD_VALUES[$key]}"
  done
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
  local var name
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
  for name in "$OLD_DEVICE_NAME" "$NEW_DEVICE_NAME"; do
    if [ -n "$name" ] && ! [[ $name =~ ^/dev/(sd|xvd)[a-z]{1,2}$ ]]; then refuse "device name '$name' is not an EC2 device name"; fi
  done
  [ "$EUID" = 0 ] || refuse "must run as root"
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
  ((VG_EXISTS)) || return 0
  mkdir -p "$VIGIL_STATE_DIR"
  local file
  printf -v file '%s/%s-%(%Y%m%dT%H%M%SZ)T-%s.vg' "$VIGIL_STATE_DIR" "$VG" -1 "$STEP"
  log "+ vgcfgbackup -f $file $VG"
  vgcfgbackup -f "$file" "$VG" </dev/null
  _BACKUP_FILE=$file
}

# run CMD...: a logged command that changes nothing LVM knows about (a filesystem grow).
run() {
  log "+ $*"
  "$@" </dev/null
}

# ---------------------------------------------------------------------------------------------------------------
# Devices: found by EBS volume id, never by kernel name or size
# ---------------------------------------------------------------------------------------------------------------

# strip VAR: removes leading and trailing blanks from the variable named VAR.
strip() {
  local s=${!1}
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf -v "$1" '%s' "$s"
}

# volume_device VOLUME_ID [EC2_DEVICE_NAME]: sets DEVICE=/dev/<disk> of an attached EBS volume; returns 1 when no
# disk has it, 2 when two do. On Nitro instances the NVMe controller's serial is the volume id without its dash.
# Xen instances have no such serial: there, and only when no NVMe disk exists at all, the EC2 attachment's device
# name (/dev/sdf, from the EC2 API, not a guess) maps to the Xen disk /dev/xvdf.
volume_device() {
  local want=${1//-/} serial path name found='' ec2_name=${2:-} xen='' nvme=0 hidden
  DEVICE=''
  for path in /sys/block/nvme*/device/serial; do
    nvme=1
    name=${path#/sys/block/}
    name=${name%%/*}
    # A multipath path device (nvme0c0n1) is hidden behind its head (nvme0n1) and shares its serial.
    hidden=0
    if [ -r "/sys/block/$name/hidden" ]; then read -r hidden <"/sys/block/$name/hidden" || hidden=0; fi
    [ "$hidden" != 1 ] || continue
    read -r serial <"$path" || true
    if [ "$serial" = "$want" ]; then
      if [ -n "$found" ]; then
        log "two disks carry the serial $want: $found and /dev/$name"
        return 2
      fi
      found=/dev/$name
    fi
  done
  if [ -z "$found" ] && [ -n "$ec2_name" ] && [ "$nvme" = 0 ]; then
    case $ec2_name in
      /dev/sd*) xen=xvd${ec2_name#/dev/sd} ;;
      /dev/xvd*) xen=${ec2_name#/dev/} ;;
    esac
    if [ -n "$xen" ] && [ -e "/sys/block/$xen" ]; then found=/dev/$xen; fi
  fi
  [ -n "$found" ] || return 1
  DEVICE=$found
}

# wait_volume_device VOLUME_ID EC2_NAME SECONDS: the kernel may publish a just-attached disk a little after EC2
# reports the attachment as attached.
wait_volume_device() {
  local waited=0 rc
  while :; do
    rc=0
    volume_device "$1" "$2" || rc=$?
    if [ "$rc" != 1 ] || ((waited >= $3)); then return "$rc"; fi
    sleep 2
    waited=$((waited + 2))
  done
}

# volume_id_of DEVICE: sets VOLUME_ID to the EBS id of a disk (or of the disk of a partition), empty if none.
volume_id_of() {
  local serial=''
  VOLUME_ID=''
  disk_of "$1"
  [ -r "/sys/block/$_K/device/serial" ] || return 0
  read -r serial <"/sys/block/$_K/device/serial" || true
  if [[ $serial =~ ^vol([0-9a-f]{8}|[0-9a-f]{17})$ ]]; then VOLUME_ID=vol-${serial#vol}; fi
}

# kname PATH: sets _K to the kernel name of a block device path (/dev/nvme1n1 -> nvme1n1, /dev/mapper/x -> dm-3).
kname() {
  _K=${1#/dev/}
  if [[ $_K == */* ]] || [ ! -e "/sys/class/block/$_K" ]; then
    _K=$(readlink -f "$1")
    _K=${_K#/dev/}
  fi
}

# disk_of DEVICE: sets _K to the whole disk a device belongs to (itself, or the parent of a partition).
disk_of() {
  local p
  kname "$1"
  if [ -e "/sys/class/block/$_K/partition" ]; then
    p=$(readlink -f "/sys/class/block/$_K/..")
    _K=${p##*/}
  fi
}

device_bytes() {
  local sectors
  kname "$1"
  read -r sectors <"/sys/class/block/$_K/size"
  BYTES=$((sectors * 512))
}

# partitions_of NAME: sets PARTS to the kernel names of a disk's partitions.
partitions_of() {
  local p
  PARTS=()
  for p in /sys/class/block/"$1"/"$1"*; do
    if [ -e "$p/partition" ]; then PARTS+=("${p##*/}"); fi
  done
}

# stack_of NAME: appends to STACK the kernel names of a block device, its partitions and everything stacked on them
# (LVM/dm, md, crypt), recursively, from sysfs. That is what "the device is in use" means to the kernel.
stack_of() {
  local p h parts
  STACK+=("$1")
  partitions_of "$1"
  parts=(${PARTS[@]+"${PARTS[@]}"})
  for p in ${parts[@]+"${parts[@]}"}; do stack_of "$p"; done
  for h in /sys/class/block/"$1"/holders/*; do stack_of "${h##*/}"; done
}

# signatures DEVICE: sets SIGS to every signature on the device (filesystem, RAID, partition table, LVM label):
# from a low-level probe (blkid -p bypasses the cache) and from wipefs (which lists all, not only the first).
signatures() {
  local line out
  declare -A seen=()
  SIGS=()
  out=$(
    blkid -p -o export "$1" 2>/dev/null || true
    wipefs -i -O TYPE "$1" 2>/dev/null || true
  )
  while IFS= read -r line; do
    case $line in
      TYPE=* | PTTYPE=*) line=${line#*=} ;;
      *=*) continue ;; # blkid's other keys (UUID, BLOCK_SIZE, ...)
    esac
    if [ -n "$line" ] && [ -z "${seen[$line]+set}" ]; then
      seen[$line]=1
      SIGS+=("$line")
    fi
  done <<<"$out"
}

# devnum NODE: sets _N to the decimal major:minor of a device node.
devnum() {
  local t
  t=$(stat -L -c '%t:%T' "$1" 2>/dev/null) || return 1
  printf -v _N '%d:%d' "0x${t%:*}" "0x${t#*:}"
}

# file_devnum FILE: sets _N to the major:minor of the filesystem device that holds a file (a swap file).
file_devnum() {
  local d
  d=$(stat -c '%d' "$1" 2>/dev/null) || return 1
  _N="$((((d >> 8) & 0xfff) | ((d >> 32) & ~0xfff))):$(((d & 0xff) | ((d >> 12) & ~0xff)))"
}

# unescape VAR: mountinfo and /proc/swaps write a space as \040.
unescape() {
  local s=${!1}
  [[ $s == *\\* ]] || return 0
  printf -v "$1" '%b' "${s//\\/\\0}"
}

# load_mounts: what the kernel says is mounted and swapped on, keyed by major:minor.
#   MOUNT_OF[maj:min] = first mount point; SYSTEM_USE[maj:min] = "/", "/boot", "/boot/efi", "/usr" or "swap".
declare -A MOUNT_OF=() SYSTEM_USE=()
load_mounts() {
  MOUNT_OF=()
  SYSTEM_USE=()
  local f i mnt src
  while read -r -a f; do
    mnt=${f[4]}
    unescape mnt
    if [ -z "${MOUNT_OF[${f[2]}]+set}" ]; then MOUNT_OF[${f[2]}]=$mnt; fi
    case $mnt in
      / | /boot | /boot/efi | /usr)
        SYSTEM_USE[${f[2]}]=$mnt
        # btrfs and friends report an anonymous device number: also take the mount source's own number.
        for ((i = 6; i < ${#f[@]}; i++)); do
          if [ "${f[i]}" = - ]; then
            src=${f[i + 2]:-}
            unescape src
            if [[ $src == /dev/* ]] && devnum "$src"; then SYSTEM_USE[$_N]=$mnt; fi
            break
          fi
        done
        ;;
    esac
  done </proc/self/mountinfo
  local fname type
  while read -r fname type _; do
    [ "$fname" != Filename ] || continue
    unescape fname
    if [ "$type" = partition ]; then devnum "$fname" || continue; else file_devnum "$fname" || continue; fi
    SYSTEM_USE[$_N]=swap
  done </proc/swaps
}

# system_uses DEVICE: sets USES to what of /, /boot, /boot/efi, /usr and swap lives on the device's disk or anything
# stacked on it.
system_uses() {
  local name num
  USES=()
  STACK=()
  disk_of "$1"
  stack_of "$_K"
  for name in "${STACK[@]}"; do
    read -r num <"/sys/class/block/$name/dev" || continue
    if [ -n "${SYSTEM_USE[$num]+set}" ]; then USES+=("${SYSTEM_USE[$num]} (on $name)"); fi
  done
}

# device_users DEVICE: sets USERS to why the disk cannot be detached yet: holders (dm, md), mounts and swap on it
# or its partitions. Empty = free.
device_users() {
  local disk name num h
  USERS=()
  disk_of "$1"
  disk=$_K
  partitions_of "$disk"
  for name in "$disk" ${PARTS[@]+"${PARTS[@]}"}; do
    for h in /sys/class/block/"$name"/holders/*; do USERS+=("$name is held by ${h##*/}"); done
    read -r num <"/sys/class/block/$name/dev"
    if [ -n "${MOUNT_OF[$num]+set}" ]; then USERS+=("$name is mounted on ${MOUNT_OF[$num]}"); fi
    if [ "${SYSTEM_USE[$num]:-}" = swap ]; then USERS+=("$name is used as swap"); fi
  done
}

# ---------------------------------------------------------------------------------------------------------------
# LVM facts, read in one report per kind (each LVM command costs a metadata scan)
# ---------------------------------------------------------------------------------------------------------------

lvm_report() { "$@" --noheadings --nosuffix --units b --separator '|' </dev/null; }

# load_pvs: every PV LVM sees, keyed by kernel name: PV_VG, PV_PE (extents), PV_ALLOC, PV_ALLOCATABLE (true/false),
# PV_BYTES (pv_size), PV_START (bytes before the first extent); and the facts of VG: VG_EXISTS, VG_EXTENT (bytes),
# VG_FREE (extents), VG_MISSING (PVs LVM cannot find), VG_SEQNO (metadata sequence number, for load_lvm). One pvs
# call answers both.
declare -A PV_VG=() PV_PE=() PV_ALLOC=() PV_ALLOCATABLE=() PV_BYTES=() PV_START=()
load_pvs() {
  PV_VG=() PV_PE=() PV_ALLOC=() PV_ALLOCATABLE=() PV_BYTES=() PV_START=()
  VG_EXISTS=0 VG_EXTENT=0 VG_FREE=0 VG_MISSING=0 VG_SEQNO=''
  local out line name vg pe alloc allocatable size start extent free missing seqno
  # pv_allocatable rather than pv_attr's first letter, which shows d(uplicate) or u(sed) before allocatable.
  out=$(lvm_report pvs --binary -o pv_name,vg_name,pv_pe_count,pv_pe_alloc_count,pv_allocatable,pv_size,pe_start,vg_extent_size,vg_free_count,vg_missing_pv_count,vg_seqno) ||
    fail "pvs failed: cannot read the LVM physical volumes"
  while IFS='|' read -r name vg pe alloc allocatable size start extent free missing seqno; do
    strip name
    [ -n "$name" ] || continue
    if [ -n "$VG" ] && [ "$vg" = "$VG" ]; then
      VG_EXISTS=1 VG_EXTENT=$extent VG_FREE=$free VG_MISSING=$missing VG_SEQNO=$seqno
    fi
    [ -e "$name" ] || continue # [unknown]: a missing PV, counted in VG_MISSING
    kname "$name"
    PV_VG[$_K]=$vg
    PV_PE[$_K]=$pe
    PV_ALLOC[$_K]=$alloc
    if [ "$allocatable" = 1 ]; then PV_ALLOCATABLE[$_K]=true; else PV_ALLOCATABLE[$_K]=false; fi
    PV_BYTES[$_K]=$size
    PV_START[$_K]=$start
  done <<<"$out"
}

# load_lvs: LV_NAMES (visible LVs of VG), LV_BYTES, LV_DEVNUM (maj:min when active), LV_DEVICES (PV kernel names,
# space separated); the running pvmove, if any: PVMOVE_LV, PVMOVE_SOURCE (kernel name), PVMOVE_PERCENT; LV_SEQNO,
# the VG's metadata sequence number as lvs saw it (empty when VG has no LV).
# `devices` is a segment field, so lvs prints one line per segment: an LV grown by lvextend comes twice.
declare -A LV_BYTES=() LV_DEVNUM=() LV_DEVICES=()
LV_NAMES=()
load_lvs() {
  LV_NAMES=() LV_BYTES=() LV_DEVNUM=() LV_DEVICES=()
  PVMOVE_LV='' PVMOVE_SOURCE='' PVMOVE_PERCENT='' LV_SEQNO=''
  ((VG_EXISTS)) || return 0
  local out name attr size move pct major minor seqno devices d devs
  # devices stays last: read gives the last name the rest of the line.
  out=$(lvm_report lvs -a -o lv_name,lv_attr,lv_size,move_pv,copy_percent,lv_kernel_major,lv_kernel_minor,vg_seqno,devices "$VG") ||
    fail "lvs failed for VG $VG"
  while IFS='|' read -r name attr size move pct major minor seqno devices; do
    strip name
    [ -n "$name" ] || continue
    strip seqno
    LV_SEQNO=$seqno
    if [ "${attr:0:1}" = p ]; then
      PVMOVE_LV=${name//[\[\]]/}
      PVMOVE_SOURCE=''
      if [ -n "$move" ] && [ -e "$move" ]; then
        kname "$move"
        PVMOVE_SOURCE=$_K
      fi
      PVMOVE_PERCENT=$pct
      continue
    fi
    [[ $name != \[* ]] || continue # hidden sub-LVs (mirror images, logs)
    if [ -z "${LV_BYTES[$name]+set}" ]; then
      LV_NAMES+=("$name")
      LV_BYTES[$name]=$size
      LV_DEVICES[$name]=' '
      if [[ $major =~ ^[0-9]+$ ]] && [[ $minor =~ ^[0-9]+$ ]]; then LV_DEVNUM[$name]="$major:$minor"; fi
    fi
    devs=${LV_DEVICES[$name]}
    for d in ${devices//,/ }; do
      d=${d%%(*}
      if [ -e "$d" ]; then kname "$d" && d=$_K; fi
      [[ $devs == *" $d "* ]] || devs+="$d "
    done
    LV_DEVICES[$name]=$devs
  done <<<"$out"
}

# load_lvm: load_pvs and load_lvs as one snapshot of VG. They are two LVM commands, and a background pvmove poller
# can commit between them: when the move completes just then, pvs still counts the extents on the old PV while lvs
# no longer shows the pvmove LV, which reads as a move that was aborted (seen on real LVM: pvmove-status told the
# state machine to start the move again). Every metadata commit bumps the VG's sequence number, so the pair is read
# again until both saw the same one.
load_lvm() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    load_pvs
    load_lvs
    if [ -z "$LV_SEQNO" ] || [ "$LV_SEQNO" = "$VG_SEQNO" ]; then return 0; fi
    log "the metadata of $VG changed between pvs (seqno $VG_SEQNO) and lvs (seqno $LV_SEQNO): reading both again"
    ((attempt < 3)) || sleep 0.5
  done
  fail "the metadata of $VG kept changing while it was read (10 tries): is another LVM command running?"
}

load_all() {
  load_lvm
  load_mounts
}

# pv_on_disk DEVICE: sets PV to the PV on a volume: the whole disk, or the one partition of it that carries a PV
# LVM knows; empty when there is none. Returns 1 when two partitions carry PVs (not a layout this tool moves).
pv_on_disk() {
  local p disk
  PV=''
  disk_of "$1"
  disk=$_K
  if [ -n "${PV_VG[$disk]+set}" ]; then
    PV=$disk
    return 0
  fi
  partitions_of "$disk"
  for p in ${PARTS[@]+"${PARTS[@]}"}; do
    if [ -n "${PV_VG[$p]+set}" ]; then
      if [ -n "$PV" ]; then return 1; fi
      PV=$p
    fi
  done
}

in_vg() { [ -n "$1" ] && [ -n "${PV_VG[$1]+set}" ] && [ "${PV_VG[$1]}" = "$VG" ]; }

# allocatable_free: sets FREE to the free extents on the allocatable PVs of the VG, what lvextend can really use
# (a PV emptied by the migration is not allocatable, but LVM still counts its free extents in vg_free).
allocatable_free() {
  local name
  FREE=0
  for name in ${PV_VG[@]+"${!PV_VG[@]}"}; do
    if in_vg "$name" && [ "${PV_ALLOCATABLE[$name]}" = true ]; then FREE=$((FREE + PV_PE[$name] - PV_ALLOC[$name])); fi
  done
}

# lvm_poller_running: is a background pvmove poller alive? Without lvmpolld every poller is an lvm process (a
# `pvmove -b`, or the vgchange/pvscan that restarted polling at boot); with lvmpolld, lvmpolld de-duplicates polls
# itself, so asking again is harmless and this answers "no".
lvm_poller_running() {
  if [ "$(lvmconfig --type full global/use_lvmpolld 2>/dev/null || true)" = "use_lvmpolld=1" ]; then return 1; fi
  local p lvm_bin
  lvm_bin=$(type -P lvm)
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" != "$$" ] || continue
    if [ "$p/exe" -ef "$lvm_bin" ]; then return 0; fi
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

fs_kib() { df -P -k "$1" | awk 'NR == 2 { print $2 }'; }

# check_growable LV EXTRA_FREE: refusals for grow_lv, checked before anything changes; EXTRA_FREE counts extents
# a pvresize is about to add. Sets GROW_DEV, GROW_FS, GROW_MNT, GROW_ADD (extents to add) for grow_lv.
check_growable() {
  local lv=$1 cur target
  [ -n "${LV_BYTES[$lv]+set}" ] || refuse "logical volume $VG/$lv not found"
  [ -z "$PVMOVE_LV" ] || refuse "a pvmove is running in $VG; grow after it finished"
  [ -n "${LV_DEVNUM[$lv]:-}" ] || refuse "logical volume $VG/$lv is not active"
  GROW_DEV=/dev/$VG/$lv
  GROW_FS=$(blkid -p -o value -s TYPE "$GROW_DEV" 2>/dev/null || true)
  case $GROW_FS in
    ext4 | xfs) ;;
    '') refuse "$VG/$lv has no filesystem; only ext4 and xfs are grown" ;;
    *) refuse "$VG/$lv holds $GROW_FS; only ext4 and xfs are grown online" ;;
  esac
  GROW_MNT=${MOUNT_OF[${LV_DEVNUM[$lv]}]:-}
  [ -n "$GROW_MNT" ] || refuse "$VG/$lv ($GROW_FS) is not mounted; the online grow needs it mounted"
  cur=$((LV_BYTES[$lv] / VG_EXTENT))
  allocatable_free
  FREE=$((FREE + ${2:-0}))
  if [ "$LV_SIZE" = 100%FREE ]; then
    GROW_ADD=$FREE
  else
    target=$(((LV_SIZE * MiB + VG_EXTENT - 1) / VG_EXTENT))
    GROW_ADD=0
    if ((target > cur)); then GROW_ADD=$((target - cur)); fi
    if ((GROW_ADD > FREE)); then
      refuse "$VG/$lv needs $((GROW_ADD * VG_EXTENT / MiB)) MiB more to reach $LV_SIZE MiB; $((FREE * VG_EXTENT / MiB)) MiB are free"
    fi
  fi
}

# grow_lv LV: lvextend only when the LV is smaller than wanted (lvextend to the same size exits 5), then the
# filesystem grow, which is a no-op when it already fills the LV (resize2fs "Nothing to do", xfs_growfs) and so
# also completes a grow that was interrupted between lvextend and the filesystem. Sets GROW_REPORT (JSON).
grow_lv() {
  local lv=$1 before after members=''
  if ((GROW_ADD > 0)); then change lvextend -l "+$GROW_ADD" "$VG/$lv"; fi
  before=$(fs_kib "$GROW_MNT")
  case $GROW_FS in
    ext4) run resize2fs "$GROW_DEV" ;;
    xfs) run xfs_growfs "$GROW_MNT" ;;
  esac
  after=$(fs_kib "$GROW_MNT")
  if [ "$after" != "$before" ]; then _CHANGED=1; fi
  load_lvs
  jstr "$lv" && put members name "$_J"
  jint $((LV_BYTES[$lv] / MiB)) && put members sizeMiB "$_J"
  jstr "$GROW_FS" && put members fsType "$_J"
  jstr "$GROW_MNT" && put members mountpoint "$_J"
  jint $((after / 1024)) && put members fsSizeMiB "$_J"
  GROW_REPORT="{$members}"
}
