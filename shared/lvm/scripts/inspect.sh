# shellcheck shell=bash
# Step inspect — read-only: what the state machine's pre-flight decides on.
#   Reads the volume group: its PVs with their EBS volume ids, its LVs with filesystem type and mount point, the
#   allocated and free space, a pvmove in progress, and what the old volume holds of the system (/, /boot,
#   /boot/efi, /usr, swap: the workflow must refuse such a volume). When NEW_VOLUME_ID is given, also whether that
#   disk is attached, blank and big enough.
# Guards: changes nothing, takes no backup.
# Refusals: the volume group does not exist; OLD_VOLUME_ID given but not attached.
# Env: VG (required), OLD_VOLUME_ID, NEW_VOLUME_ID (optional).
# Result: vg, extentSizeMiB, pvs[], lvs[], allocatedMiB (on the old PV when OLD_VOLUME_ID is given, else in the
#   whole VG), freeMiB, missingPvs, pvmoveInProgress, pvmovePercent, oldDevice, oldPv, oldHoldsSystem,
#   oldSystemUses[], newDevice, newDeviceSizeMiB, newDeviceSignatures[], newDeviceCapacityMiB.

begin inspect VG
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"

old_dev='' old_pv=''
if [ -n "$OLD_VOLUME_ID" ]; then
  volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME" || refuse "old volume $OLD_VOLUME_ID is not attached (no disk has its serial)"
  old_dev=$DEVICE
  pv_on_disk "$old_dev" || true
  old_pv=$PV
fi

extent_mib=$((VG_EXTENT / MiB))
pv_items='' allocated=0 npv=0
for name in ${PV_VG[@]+"${!PV_VG[@]}"}; do
  in_vg "$name" || continue
  npv=$((npv + 1))
  allocated=$((allocated + PV_ALLOC[$name]))
  volume_id_of "/dev/$name"
  o=''
  jstr "/dev/$name" && put o device "$_J"
  jstr_or_null "$VOLUME_ID" && put o volumeId "$_J"
  put o sizeMiB $((PV_PE[$name] * extent_mib))
  put o allocatedMiB $((PV_ALLOC[$name] * extent_mib))
  put o freeMiB $(((PV_PE[$name] - PV_ALLOC[$name]) * extent_mib))
  put o allocatable "${PV_ALLOCATABLE[$name]}"
  if [ "$name" = "$old_pv" ]; then put o isOld true; else put o isOld false; fi
  pv_items+="${pv_items:+,}{$o}"
done
if in_vg "$old_pv"; then allocated=${PV_ALLOC[$old_pv]}; fi

lv_items=''
for lv in ${LV_NAMES[@]+"${LV_NAMES[@]}"}; do
  fs='' mnt='' o=''
  if [ -n "${LV_DEVNUM[$lv]:-}" ]; then
    fs=$(blkid -p -o value -s TYPE "/dev/$VG/$lv" 2>/dev/null || true)
    mnt=${MOUNT_OF[${LV_DEVNUM[$lv]}]:-}
    put o active true
  else
    put o active false
  fi
  jstr "$lv" && put o name "$_J"
  jstr "/dev/$VG/$lv" && put o path "$_J"
  put o sizeMiB $((LV_BYTES[$lv] / MiB))
  jstr_or_null "$fs" && put o fsType "$_J"
  jstr_or_null "$mnt" && put o mountpoint "$_J"
  if [ -n "$old_pv" ] && [[ ${LV_DEVICES[$lv]} == *" $old_pv "* ]]; then put o onOld true; else put o onOld false; fi
  lv_items+="${lv_items:+,}{$o}"
done

field_str vg "$VG"
field extentSizeMiB "$extent_mib"
field pvs "[$pv_items]"
field lvs "[$lv_items]"
field allocatedMiB $((allocated * extent_mib))
field freeMiB $((VG_FREE * extent_mib))
field_int missingPvs "$VG_MISSING"
field_if pvmoveInProgress [ -n "$PVMOVE_LV" ]
field_num pvmovePercent "$PVMOVE_PERCENT"

if [ -n "$old_dev" ]; then
  system_uses "$old_dev"
  field_str oldDevice "$old_dev"
  field_str_or_null oldPv "${old_pv:+/dev/$old_pv}"
  field_if oldHoldsSystem [ ${#USES[@]} -gt 0 ]
  jstr_array ${USES[@]+"${USES[@]}"} && field oldSystemUses "$_J"
fi

if [ -n "$NEW_VOLUME_ID" ]; then
  if volume_device "$NEW_VOLUME_ID" "$NEW_DEVICE_NAME"; then
    new_dev=$DEVICE
    signatures "$new_dev"
    device_bytes "$new_dev"
    field_str newDevice "$new_dev"
    field newDeviceSizeMiB $((BYTES / MiB))
    jstr_array ${SIGS[@]+"${SIGS[@]}"} && field newDeviceSignatures "$_J"
    # What a fresh PV on it would hold: LVM puts the first extent 1 MiB into the disk; whole extents only.
    capacity=$(((BYTES - MiB) / VG_EXTENT))
    field newDeviceCapacityMiB $((capacity * extent_mib))
  else
    field newDevice null
  fi
fi

succeed "volume group $VG: $npv PV(s), ${#LV_NAMES[@]} LV(s), $((allocated * extent_mib)) MiB allocated${old_pv:+ on /dev/$old_pv}" ok
