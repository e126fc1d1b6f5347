# shellcheck shell=bash
# Step prepare — make the new volume a PV of the VG and stop allocation on the old one:
#   vgcfgbackup; pvcreate NEW; vgextend VG NEW; pvchange -x n OLD.
# Guards (a re-run, or a run after the migration finished, changes nothing):
#   - pvcreate only when NEW carries no signature at all. A second pvcreate on a PV exits 0 but rewrites its label,
#     so an existing label of ours (an orphan PV: a previous run stopped before vgextend) is reused, not recreated.
#   - vgextend only when NEW is not yet a member (vgextend of a member exits 5).
#   - pvchange -x n only while OLD is in the VG and still allocatable (after pvremove pvchange exits 5).
# Refusals, all checked before the first change:
#   - the VG is missing, or has missing PVs; another pvmove runs in the VG;
#   - the old volume is not attached, is not a PV of the VG, or holds /, /boot, /boot/efi, /usr or swap;
#   - the new volume is not attached (waited for 30 s), or carries any signature other than our own orphan PV label
#     (a filesystem, a partition table, RAID, a PV of another VG), or is mounted, held or used as swap;
#   - the new volume cannot hold the extents allocated on the old PV.
# Env: VG, OLD_VOLUME_ID, NEW_VOLUME_ID. Result: oldDevice, oldPv, newDevice, newPv, allocatedMiB, newCapacityMiB.

begin prepare VG OLD_VOLUME_ID NEW_VOLUME_ID
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s); repair it before migrating"

volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME" || refuse "old volume $OLD_VOLUME_ID is not attached (no disk has its serial)"
old_dev=$DEVICE
rc=0
wait_volume_device "$NEW_VOLUME_ID" "$NEW_DEVICE_NAME" 30 || rc=$?
((rc != 2)) || refuse "more than one disk carries the serial of $NEW_VOLUME_ID"
((rc == 0)) || refuse "new volume $NEW_VOLUME_ID is not attached (no disk has its serial after 30 s)"
new_dev=$DEVICE
kname "$new_dev"
new_pv=$_K
disk_of "$old_dev"
[ "$_K" != "$new_pv" ] || refuse "old and new volume resolve to the same disk $old_dev"
field_str oldDevice "$old_dev"
field_str newDevice "$new_dev"

# Where is the migration? A re-run after the PV was already moved away and removed must be a no-op, not a refusal.
pv_on_disk "$old_dev" || true
old_pv=$PV
if ! in_vg "$old_pv"; then
  if in_vg "$new_pv"; then
    field oldPv null
    field_str newPv "/dev/$new_pv"
    succeed "the old volume is no longer in $VG and the new one is: nothing to prepare"
  fi
  refuse "old volume $OLD_VOLUME_ID ($old_dev) is not a PV of volume group $VG"
fi
field_str oldPv "/dev/$old_pv"

if [ -n "$PVMOVE_LV" ] && [ "$PVMOVE_SOURCE" != "$old_pv" ]; then
  refuse "another pvmove ($PVMOVE_LV from /dev/${PVMOVE_SOURCE:-?}) runs in $VG"
fi

system_uses "$old_dev"
if [ ${#USES[@]} -gt 0 ]; then
  refuse "old volume $OLD_VOLUME_ID holds system data: ${USES[*]}; it cannot be migrated online"
fi

# The new disk: blank, or already ours.
new_is_pv=false
if [ -n "${PV_VG[$new_pv]+set}" ]; then
  if [ -n "${PV_VG[$new_pv]}" ] && [ "${PV_VG[$new_pv]}" != "$VG" ]; then
    refuse "new volume $NEW_VOLUME_ID ($new_dev) is a PV of another volume group (${PV_VG[$new_pv]})"
  fi
  new_is_pv=true
else
  signatures "$new_dev"
  if [ ${#SIGS[@]} -gt 0 ]; then
    refuse "new volume $NEW_VOLUME_ID ($new_dev) is not blank: it carries ${SIGS[*]}; refusing to overwrite it"
  fi
  device_users "$new_dev"
  if [ ${#USERS[@]} -gt 0 ]; then refuse "new volume $NEW_VOLUME_ID ($new_dev) is in use: ${USERS[*]}"; fi
  partitions_of "$new_pv"
  if [ ${#PARTS[@]} -gt 0 ]; then refuse "new volume $NEW_VOLUME_ID ($new_dev) has partitions"; fi
fi

# Size: the extents allocated on the old PV must fit on the new one. Checked before the new disk joins the VG;
# once it is a member, pvmove itself refuses (without changing anything) when space is short.
need=${PV_ALLOC[$old_pv]}
if ! in_vg "$new_pv"; then
  if [ "$new_is_pv" = true ]; then
    capacity=$((PV_BYTES[$new_pv] / VG_EXTENT))
  else
    # A new PV starts its first extent 1 MiB into the disk (LVM's default data alignment).
    device_bytes "$new_dev"
    capacity=$(((BYTES - MiB) / VG_EXTENT))
  fi
  field allocatedMiB $((need * VG_EXTENT / MiB))
  field newCapacityMiB $((capacity * VG_EXTENT / MiB))
  if ((capacity < need)); then
    refuse "new volume $NEW_VOLUME_ID holds $((capacity * VG_EXTENT / MiB)) MiB but $((need * VG_EXTENT / MiB)) MiB are allocated on the old PV"
  fi
fi

# Changes, each guarded.
if [ "$new_is_pv" = false ]; then change pvcreate "$new_dev"; fi
if ! in_vg "$new_pv"; then change vgextend "$VG" "$new_dev"; fi
if [ "${PV_ALLOCATABLE[$old_pv]}" = true ]; then change pvchange -x n "/dev/$old_pv"; fi

load_pvs
in_vg "$new_pv" || fail "$new_dev is not in $VG after vgextend"
[ "${PV_ALLOCATABLE[$old_pv]}" = false ] || fail "/dev/$old_pv is still allocatable after pvchange -x n"
field_str newPv "/dev/$new_pv"
succeed "$new_dev is a PV of $VG and /dev/$old_pv takes no new extents"
