# shellcheck shell=bash
# Step pvmove-status — read-only, short, for polling every few minutes while the move runs: is a move in
# progress, its copy percent, how many extents are left on the old PV, and whether the move is done.
#   done = no pvmove in the VG and no extent left on the old PV (or the old volume already left the VG).
#   A move that is not running while extents remain (inProgress false, done false) was never started or was
#   aborted: the state machine calls pvmove-start. After an instance reboot it calls pvmove-start too (resume).
#   direction tells which move runs: "forward" (old -> new) or "rollback" (new -> old, started by rollback).
# Guards: changes nothing, takes no backup.
# Refusals: VG missing; old volume not attached.
# Env: VG, OLD_VOLUME_ID (NEW_VOLUME_ID optional). Result: inProgress, percent, remainingExtents, remainingMiB,
#   done, direction.

begin pvmove-status VG OLD_VOLUME_ID
load_lvm
((VG_EXISTS)) || refuse "volume group $VG not found"
volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME" || refuse "old volume $OLD_VOLUME_ID is not attached"
pv_on_disk "$DEVICE" || true
old_pv=$PV
in_vg "$old_pv" || old_pv=''

remaining=0
if [ -n "$old_pv" ]; then remaining=${PV_ALLOC[$old_pv]}; fi
is_done=false
if [ -z "$PVMOVE_LV" ] && [ "$remaining" = 0 ]; then is_done=true; fi
percent=$PVMOVE_PERCENT
if [ "$is_done" = true ]; then percent=100; fi

field_if inProgress [ -n "$PVMOVE_LV" ]
field_num percent "$percent"
field remainingExtents "$remaining"
field remainingMiB $((remaining * VG_EXTENT / MiB))
field_bool 'done' "$is_done"
if [ -z "$PVMOVE_LV" ]; then
  field direction null
elif [ -n "$old_pv" ] && [ "$PVMOVE_SOURCE" = "$old_pv" ]; then
  field_str direction forward
else
  field_str direction rollback
fi

if [ -n "$PVMOVE_LV" ]; then
  succeed "pvmove from /dev/${PVMOVE_SOURCE:-?}: ${percent:-?} % copied, $((remaining * VG_EXTENT / MiB)) MiB left on the old PV" in-progress
fi
if [ "$is_done" = true ]; then succeed "the move is done: no extent left on the old volume" ok; fi
succeed "no pvmove runs and $((remaining * VG_EXTENT / MiB)) MiB remain on /dev/$old_pv: run pvmove-start" ok
