# shellcheck shell=bash
# Step finish — after the move: take the old PV out of the VG, remove its label, and prove the disk is free so
# the state machine may detach it.
#   vgreduce VG OLD; pvremove OLD; then the old disk (and its partitions) must have no holders, no mount, no swap.
# Guards: vgreduce only while OLD is in the VG (vgreduce of a non-member exits 5); pvremove only while OLD carries
#   an orphan PV label (pvremove of a non-PV exits 5); a re-run, or a run after the volume was detached, is a noop.
# Refusals: VG missing or with missing PVs; a pvmove still runs in the VG; extents remain on the old PV; the new
#   volume is not a PV of the VG (then the data would have nowhere to be); the old PV belongs to another VG; the
#   old disk is still in use (holders, mounts, swap) while nothing was changed.
# Failure (exit 1) when the old disk is still in use after vgreduce/pvremove: never detach it then.
# Env: VG, OLD_VOLUME_ID, NEW_VOLUME_ID. Result: oldDevice, oldDeviceFree, oldDeviceUsers[].

begin finish VG OLD_VOLUME_ID NEW_VOLUME_ID
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s); was a volume detached too early?"
[ -z "$PVMOVE_LV" ] || refuse "a pvmove ($PVMOVE_LV) still runs in $VG"

volume_device "$NEW_VOLUME_ID" "$NEW_DEVICE_NAME" || refuse "new volume $NEW_VOLUME_ID is not attached"
new_dev=$DEVICE
kname "$new_dev"
in_vg "$_K" || refuse "new volume $NEW_VOLUME_ID ($new_dev) is not a PV of $VG: the data is not on it"

if ! volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME"; then
  field oldDevice null
  field oldDeviceFree true
  field oldDeviceUsers '[]'
  succeed "old volume $OLD_VOLUME_ID is not attached any more: nothing to do"
fi
old_dev=$DEVICE
field_str oldDevice "$old_dev"
pv_on_disk "$old_dev" || true
old_pv=$PV

if in_vg "$old_pv"; then
  alloc=${PV_ALLOC[$old_pv]}
  ((alloc == 0)) || refuse "$((alloc * VG_EXTENT / MiB)) MiB are still allocated on /dev/$old_pv: the move is not complete"
  change vgreduce "$VG" "/dev/$old_pv"
  load_pvs
fi
if [ -n "$old_pv" ] && [ -n "${PV_VG[$old_pv]+set}" ]; then
  [ -z "${PV_VG[$old_pv]}" ] || refuse "/dev/$old_pv belongs to volume group ${PV_VG[$old_pv]}, not $VG"
  change pvremove "/dev/$old_pv"
fi

load_mounts
device_users "$old_dev"
jstr_array ${USERS[@]+"${USERS[@]}"} && field oldDeviceUsers "$_J"
if [ ${#USERS[@]} -gt 0 ]; then
  field oldDeviceFree false
  refuse "old disk $old_dev is still in use: ${USERS[*]}; do not detach it"
fi
field oldDeviceFree true
succeed "old disk $old_dev is out of $VG, carries no PV label and has no holders: it can be detached"
