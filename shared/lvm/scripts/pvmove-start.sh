# shellcheck shell=bash
# Step pvmove-start — start the move of every extent from the old PV to the new one, in the background, or resume
# an interrupted one. Returns at once; the state machine then polls pvmove-status.
#   - no move yet:           pvmove -b -i POLL_INTERVAL OLD NEW    (vgcfgbackup first)
#   - a move is in progress: a bare `pvmove -b`, which restarts every unfinished move from its last checkpoint
#     (pvmove copies one segment at a time and records each finished segment in the VG metadata). This is the
#     resume after a reboot or a crash. It is skipped while a poller is alive (an lvm process: the first
#     `pvmove -b`, or the vgchange that restarted polling at boot), so repeated calls never pile up pollers.
# Guards: noop when nothing is left on the old PV, or when the old volume has already left the VG.
# Refusals: VG missing or with missing PVs; a pvmove from another PV runs; prepare has not run (new volume not in
#   the VG, or old PV still allocatable); not enough free extents on the new PV; the old volume holds system data.
# Env: VG, OLD_VOLUME_ID, NEW_VOLUME_ID, POLL_INTERVAL. Result: started, resumed, inProgress, percent,
#   remainingExtents, done.

begin pvmove-start VG OLD_VOLUME_ID NEW_VOLUME_ID
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s)"
volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME" || refuse "old volume $OLD_VOLUME_ID is not attached"
old_dev=$DEVICE
volume_device "$NEW_VOLUME_ID" "$NEW_DEVICE_NAME" || refuse "new volume $NEW_VOLUME_ID is not attached"
new_dev=$DEVICE
kname "$new_dev"
new_pv=$_K
pv_on_disk "$old_dev" || true
old_pv=$PV

report() { # report STARTED RESUMED
  local remaining=0
  if in_vg "$old_pv"; then remaining=${PV_ALLOC[$old_pv]}; fi
  field_bool started "$1"
  field_bool resumed "$2"
  field_if inProgress [ -n "$PVMOVE_LV" ]
  field_num percent "$PVMOVE_PERCENT"
  field remainingExtents "$remaining"
  if [ -z "$PVMOVE_LV" ] && [ "$remaining" = 0 ]; then field 'done' true; else field 'done' false; fi
}

if ! in_vg "$old_pv"; then
  in_vg "$new_pv" || refuse "old volume $OLD_VOLUME_ID is not a PV of $VG and the new one is not either"
  PVMOVE_PERCENT=100
  report false false
  succeed "the old volume has already left $VG: nothing to move"
fi

if [ -n "$PVMOVE_LV" ]; then
  [ "$PVMOVE_SOURCE" = "$old_pv" ] || refuse "a pvmove from /dev/${PVMOVE_SOURCE:-?} (not the old volume) runs in $VG"
  if lvm_poller_running; then
    report false false
    succeed "pvmove from /dev/$old_pv in progress (${PVMOVE_PERCENT:-?} %), its poller is running" in-progress
  fi
  start_pvmove
  load_lvm
  report false true
  if [ -n "$PVMOVE_LV" ]; then succeed "resumed the pvmove from /dev/$old_pv at ${PVMOVE_PERCENT:-?} %" in-progress; fi
  succeed "resumed the pvmove from /dev/$old_pv; it has completed"
fi

if [ "${PV_ALLOC[$old_pv]}" = 0 ]; then
  PVMOVE_PERCENT=100
  report false false
  succeed "no extents left on /dev/$old_pv: nothing to move"
fi

in_vg "$new_pv" || refuse "new volume $new_dev is not in $VG: run prepare first"
[ "${PV_ALLOCATABLE[$old_pv]}" = false ] || refuse "/dev/$old_pv still takes new extents: run prepare first"
system_uses "$old_dev"
[ ${#USES[@]} -eq 0 ] || refuse "old volume $OLD_VOLUME_ID holds system data: ${USES[*]}"
free=$((PV_PE[$new_pv] - PV_ALLOC[$new_pv]))
if ((free < PV_ALLOC[$old_pv])); then
  refuse "new PV $new_dev has $((free * VG_EXTENT / MiB)) MiB free but $((PV_ALLOC[$old_pv] * VG_EXTENT / MiB)) MiB must move"
fi

start_pvmove "/dev/$old_pv" "$new_dev"
load_lvm
report true false
if [ -n "$PVMOVE_LV" ]; then succeed "started pvmove /dev/$old_pv -> $new_dev in the background" in-progress; fi
succeed "pvmove /dev/$old_pv -> $new_dev started and already completed"
