# shellcheck shell=bash
# Step rollback — undo a migration that has not finished: put every extent back on the old PV and release the new
# volume so the state machine can detach and delete it. Run it again until it reports ok or noop:
#   1. pvmove --abort when a move old -> new runs. Without --atomic, segments that were already copied stay on the
#      new PV and the one in flight returns to the old PV;
#   2. pvchange -x y OLD (allocation on the old PV again);
#   3. extents on the new PV: pvchange -x n NEW, then `pvmove -b NEW OLD` in the background, and the step reports
#      in-progress (percent) until the move back is done; while it runs, a re-run only resumes it when no poller
#      is alive (after a reboot);
#   4. vgreduce VG NEW; pvremove NEW; then the new disk must have no holders, mounts or swap.
# Guards: every part runs only when its state says so, so a re-run continues where the last one stopped and a run
#   after a complete rollback is a noop.
# Refusals: VG missing; VG with missing PVs (a detached volume may hold data: nothing is touched); the old volume is
#   not attached or no longer in the VG (finish already ran: the data lives on the new volume only, rolling back
#   would lose it); a pvmove between other PVs runs.
# Failure (exit 1) when the new disk is still in use at the end: never delete it then.
# Env: VG, OLD_VOLUME_ID, NEW_VOLUME_ID, POLL_INTERVAL.
# Result: aborted, movingBack, percent, newDevice, newDeviceFree, newDeviceUsers[].

begin rollback VG OLD_VOLUME_ID NEW_VOLUME_ID
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s): a detached volume may hold data; repair by hand"
volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME" || refuse "old volume $OLD_VOLUME_ID is not attached: cannot roll back onto it"
pv_on_disk "$DEVICE" || true
old_pv=$PV
in_vg "$old_pv" || refuse "old volume $OLD_VOLUME_ID is no longer a PV of $VG (finish ran?): the data lives on the new volume, rolling back would lose it"
new_dev='' new_pv=''
if volume_device "$NEW_VOLUME_ID" "$NEW_DEVICE_NAME"; then
  new_dev=$DEVICE
  kname "$new_dev"
  new_pv=$_K
fi
if [ -n "$PVMOVE_LV" ] && [ "$PVMOVE_SOURCE" != "$old_pv" ] && { [ -z "$new_pv" ] || [ "$PVMOVE_SOURCE" != "$new_pv" ]; }; then
  refuse "a pvmove from /dev/${PVMOVE_SOURCE:-?}, neither the old nor the new volume, runs in $VG"
fi
field_str_or_null newDevice "$new_dev"
field aborted false
field movingBack false

# 1. Stop the forward move.
if [ -n "$PVMOVE_LV" ] && [ "$PVMOVE_SOURCE" = "$old_pv" ]; then
  change pvmove --abort "/dev/$old_pv"
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    load_lvm
    [ -n "$PVMOVE_LV" ] || break
    sleep 2
  done
  [ -z "$PVMOVE_LV" ] || fail "pvmove --abort left $PVMOVE_LV in $VG"
  field aborted true
fi

# 2. The old PV takes extents again.
if [ "${PV_ALLOCATABLE[$old_pv]}" = false ]; then change pvchange -x y "/dev/$old_pv"; fi

# 3. Extents already on the new PV go back.
if in_vg "$new_pv" && [ "${PV_ALLOC[$new_pv]}" != 0 ]; then
  field movingBack true
  if [ -n "$PVMOVE_LV" ]; then
    if ! lvm_poller_running; then start_pvmove; fi
  else
    if [ "${PV_ALLOCATABLE[$new_pv]}" = true ]; then change pvchange -x n "$new_dev"; fi
    start_pvmove "$new_dev" "/dev/$old_pv"
  fi
  load_lvm
  if [ -n "$PVMOVE_LV" ] || [ "${PV_ALLOC[$new_pv]}" != 0 ]; then
    field_num percent "$PVMOVE_PERCENT"
    succeed "moving $((PV_ALLOC[$new_pv] * VG_EXTENT / MiB)) MiB back from $new_dev to /dev/$old_pv (${PVMOVE_PERCENT:-?} %): run rollback again" in-progress
  fi
fi
field percent 100

# 4. Release the new volume.
if in_vg "$new_pv"; then
  change vgreduce "$VG" "$new_dev"
  load_pvs
fi
if [ -n "$new_pv" ] && [ -n "${PV_VG[$new_pv]+set}" ] && [ -z "${PV_VG[$new_pv]}" ]; then change pvremove "$new_dev"; fi

if [ -z "$new_dev" ]; then
  field newDeviceFree true
  field newDeviceUsers '[]'
  succeed "all extents are on /dev/$old_pv; the new volume $NEW_VOLUME_ID is not attached"
fi
load_mounts
device_users "$new_dev"
jstr_array ${USERS[@]+"${USERS[@]}"} && field newDeviceUsers "$_J"
if [ ${#USERS[@]} -gt 0 ]; then
  field newDeviceFree false
  refuse "new disk $new_dev is still in use: ${USERS[*]}; do not delete it"
fi
field newDeviceFree true
succeed "all extents are back on /dev/$old_pv and $new_dev is free: it can be detached and deleted"
