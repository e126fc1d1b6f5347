# shellcheck shell=bash
# Step grow-in-place — after an Elastic Volumes resize (ModifyVolume) of OLD_VOLUME_ID, no migration: the PV takes
# up the new size, then, when LV is given, the LV and its filesystem grow online as in the grow step.
#   rescan the NVMe controller (best effort; the kernel normally notices the new size by itself), pvresize DEV,
#   lvextend, resize2fs / xfs_growfs.
# Guards: pvresize only when the disk holds at least one extent more than the PV (a re-run is a noop);
#   lvextend and the filesystem grow as in grow.
# Refusals: VG missing or with missing PVs; a pvmove runs; the volume is not attached or not a PV of the VG; the
#   PV sits on a partition (grow the partition first, e.g. growpart); the grow refusals of grow when LV is given.
# Env: VG, OLD_VOLUME_ID (the volume that was resized), LV (optional), LV_SIZE.
# Result: device, pvSizeMiB, deviceSizeMiB, pvResized, lvs[].

begin grow-in-place VG OLD_VOLUME_ID
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s)"
[ -z "$PVMOVE_LV" ] || refuse "a pvmove runs in $VG; grow in place after it finished"
dev=$(volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME") || refuse "volume $OLD_VOLUME_ID is not attached (no disk has its serial)"
pv=$(pv_on_disk "$dev") || true
in_vg "$pv" || refuse "volume $OLD_VOLUME_ID ($dev) is not a PV of $VG"
[ "$pv" = "$(disk_of "$dev")" ] || refuse "the PV of $OLD_VOLUME_ID is the partition /dev/$pv: grow the partition first (growpart)"
field device "$(json_string "$dev")"

# NVMe: ask the controller to re-read its namespaces, in case the size-change notice was missed.
rescan=/sys/block/$pv/device/rescan_controller
if [ -w "$rescan" ]; then
  log "+ echo 1 > $rescan"
  echo 1 >"$rescan" || true
  sleep 1
fi

dev_bytes=$(device_bytes "$dev")
capacity=$(((dev_bytes - PV_START[$pv]) / VG_EXTENT))
extra=0
if ((capacity > PV_PE[$pv])); then extra=$((capacity - PV_PE[$pv])); fi
if [ -n "$LV" ]; then check_growable "$LV" "$extra"; fi

if ((extra > 0)); then
  change pvresize "/dev/$pv"
  load_pvs
  ((PV_PE[$pv] > capacity - extra)) || fail "pvresize did not grow /dev/$pv"
fi
field pvResized "$(json_bool "$( ((extra > 0)) && echo true)")"
field pvSizeMiB "$(json_int "$(extents_mib "${PV_PE[$pv]}")")"
field deviceSizeMiB "$(json_int "$(mib "$dev_bytes")")"

if [ -n "$LV" ]; then
  # Recomputed from the real free space now that the PV has grown.
  check_growable "$LV" 0
  grow_lv "$LV"
  field lvs "[$GROW_REPORT]"
  succeed "/dev/$pv spans its $(mib "$dev_bytes") MiB disk; $VG/$LV is $(mib "${LV_BYTES[$LV]}") MiB and its filesystem fills it"
fi
field lvs '[]'
succeed "/dev/$pv spans its $(mib "$dev_bytes") MiB disk; $(extents_mib "$(allocatable_free_extents)") MiB free in $VG"
