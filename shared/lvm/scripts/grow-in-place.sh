# shellcheck shell=bash
# Step grow-in-place — after an Elastic Volumes resize (ModifyVolume) of OLD_VOLUME_ID, no migration: the PV takes
# up the new size, then, when LV is given, the LV and its filesystem grow online as in the grow step.
#   pvresize DEV, lvextend, resize2fs / xfs_growfs.
#   The kernel learns the new size of an NVMe EBS volume by itself; deviceSizeMiB in the result shows what it sees,
#   so the workflow can tell "nothing to do" from "the kernel does not see the new size yet" and ask again.
# Guards: pvresize only when the disk holds at least one extent more than the PV (a re-run is a noop);
#   lvextend and the filesystem grow as in grow.
# Refusals: VG missing or with missing PVs; a pvmove runs; the volume is not attached or not a PV of the VG; the
#   PV sits on a partition (grow the partition first, e.g. growpart); the grow refusals of grow when LV is given.
# Env: VG, OLD_VOLUME_ID (the volume that was resized), LV (optional), LV_SIZE.
# Result: device, pvResized, pvSizeMiB, deviceSizeMiB, lvs[].

begin grow-in-place VG OLD_VOLUME_ID
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s)"
[ -z "$PVMOVE_LV" ] || refuse "a pvmove runs in $VG; grow in place after it finished"
volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME" || refuse "volume $OLD_VOLUME_ID is not attached (no disk has its serial)"
dev=$DEVICE
pv_on_disk "$dev" || true
pv=$PV
in_vg "$pv" || refuse "volume $OLD_VOLUME_ID ($dev) is not a PV of $VG"
disk_of "$dev"
[ "$pv" = "$_K" ] || refuse "the PV of $OLD_VOLUME_ID is the partition /dev/$pv: grow the partition first (growpart)"
field_str device "$dev"

device_bytes "$dev"
dev_bytes=$BYTES
capacity=$(((dev_bytes - PV_START[$pv]) / VG_EXTENT))
extra=0
if ((capacity > PV_PE[$pv])); then extra=$((capacity - PV_PE[$pv])); fi
if [ -n "$LV" ]; then check_growable "$LV" "$extra"; fi

if ((extra > 0)); then
  change pvresize "/dev/$pv"
  load_pvs
  ((PV_PE[$pv] > capacity - extra)) || fail "pvresize did not grow /dev/$pv"
fi
field_if pvResized [ "$extra" -gt 0 ]
field pvSizeMiB $((PV_PE[$pv] * VG_EXTENT / MiB))
field deviceSizeMiB $((dev_bytes / MiB))

if [ -n "$LV" ]; then
  # Recomputed from the real free space now that the PV has grown.
  check_growable "$LV" 0
  grow_lv "$LV"
  field lvs "[$GROW_REPORT]"
  succeed "/dev/$pv spans its $((dev_bytes / MiB)) MiB disk; $VG/$LV is $((LV_BYTES[$LV] / MiB)) MiB and its filesystem fills it"
fi
field lvs '[]'
allocatable_free
succeed "/dev/$pv spans its $((dev_bytes / MiB)) MiB disk; $((FREE * VG_EXTENT / MiB)) MiB free in $VG"
