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
  old_dev=$(volume_device "$OLD_VOLUME_ID" "$OLD_DEVICE_NAME") || refuse "old volume $OLD_VOLUME_ID is not attached (no disk has its serial)"
  old_pv=$(pv_on_disk "$old_dev") || true
fi

pv_items=() allocated=0
for name in ${PV_VG[@]+"${!PV_VG[@]}"}; do
  in_vg "$name" || continue
  allocated=$((allocated + PV_ALLOC[$name]))
  pv_items+=("$(json_object device "$(json_string "/dev/$name")" \
    volumeId "$(json_str_or_null "$(volume_id_of "/dev/$name")")" \
    sizeMiB "$(json_int "$(extents_mib "${PV_PE[$name]}")")" \
    allocatedMiB "$(json_int "$(extents_mib "${PV_ALLOC[$name]}")")" \
    freeMiB "$(json_int "$(extents_mib $((PV_PE[$name] - PV_ALLOC[$name])))")" \
    allocatable "$(json_bool "${PV_ALLOCATABLE[$name]}")" \
    isOld "$(json_bool "$([ "$name" = "$old_pv" ] && echo true)")")")
done
if [ -n "$old_pv" ] && in_vg "$old_pv"; then allocated=${PV_ALLOC[$old_pv]}; fi

lv_items=()
for lv in ${LV_NAMES[@]+"${LV_NAMES[@]}"}; do
  fs='' mnt='' on_old=false
  if [ -n "${LV_DEVNUM[$lv]:-}" ]; then
    fs=$(fs_type "/dev/$VG/$lv")
    mnt=${MOUNT_OF[${LV_DEVNUM[$lv]}]:-}
  fi
  if [ -n "$old_pv" ] && [[ " ${LV_DEVICES[$lv]} " == *" $old_pv "* ]]; then on_old=true; fi
  lv_items+=("$(json_object name "$(json_string "$lv")" path "$(json_string "/dev/$VG/$lv")" \
    sizeMiB "$(json_int "$(mib "${LV_BYTES[$lv]}")")" active "$(json_bool "$([ -n "${LV_DEVNUM[$lv]:-}" ] && echo true)")" \
    fsType "$(json_str_or_null "$fs")" mountpoint "$(json_str_or_null "$mnt")" onOld "$(json_bool "$on_old")")")
done

field vg "$(json_string "$VG")"
field extentSizeMiB "$(json_int "$(mib "$VG_EXTENT")")"
field pvs "$(json_array ${pv_items[@]+"${pv_items[@]}"})"
field lvs "$(json_array ${lv_items[@]+"${lv_items[@]}"})"
field allocatedMiB "$(json_int "$(extents_mib "$allocated")")"
field freeMiB "$(json_int "$(extents_mib "$VG_FREE")")"
field missingPvs "$(json_int "$VG_MISSING")"
field pvmoveInProgress "$(json_bool "$([ -n "$PVMOVE_LV" ] && echo true)")"
field pvmovePercent "$(json_num "$PVMOVE_PERCENT")"

if [ -n "$old_dev" ]; then
  mapfile -t uses < <(system_uses "$old_dev")
  field oldDevice "$(json_string "$old_dev")"
  field oldPv "$(json_str_or_null "${old_pv:+/dev/$old_pv}")"
  field oldHoldsSystem "$(json_bool "$([ ${#uses[@]} -gt 0 ] && echo true)")"
  field oldSystemUses "$(json_string_array ${uses[@]+"${uses[@]}"})"
fi

if [ -n "$NEW_VOLUME_ID" ]; then
  if new_dev=$(volume_device "$NEW_VOLUME_ID" "$NEW_DEVICE_NAME"); then
    mapfile -t sigs < <(signatures "$new_dev")
    bytes=$(device_bytes "$new_dev")
    field newDevice "$(json_string "$new_dev")"
    field newDeviceSizeMiB "$(json_int "$(mib "$bytes")")"
    field newDeviceSignatures "$(json_string_array ${sigs[@]+"${sigs[@]}"})"
    # What a fresh PV on it would hold: LVM puts the first extent 1 MiB into the disk.
    field newDeviceCapacityMiB "$(json_int "$(extents_mib $(((bytes - MiB) / VG_EXTENT)))")"
  else
    field newDevice null
  fi
fi

succeed "volume group $VG: ${#pv_items[@]} PV(s), ${#lv_items[@]} LV(s), $(extents_mib "$allocated") MiB allocated${old_pv:+ on /dev/$old_pv}" ok
