# shellcheck shell=bash
# Step grow — after the migration: extend the target LV to LV_SIZE and grow its filesystem online.
#   lvextend -l +N VG/LV (N from the free extents of the allocatable PVs, or from LV_SIZE in MiB), then
#   resize2fs DEVICE (ext4) or xfs_growfs MOUNTPOINT (xfs), both online.
# Guards: lvextend only when the LV is smaller than wanted (never shrinks; lvextend to the same size exits 5);
#   the filesystem grow always runs because it is a no-op on a filesystem that fills its LV, and so a re-run also
#   completes a grow interrupted between lvextend and the filesystem.
# Refusals: VG or LV missing; VG with missing PVs; a pvmove runs; the LV is inactive, holds no filesystem or one
#   other than ext4/xfs, or is not mounted; LV_SIZE needs more than the free extents.
# Env: VG, LV, LV_SIZE (100%FREE or MiB). Result: lvs[] = {name, sizeMiB, fsType, mountpoint, fsSizeMiB}.

begin grow VG LV
load_all
((VG_EXISTS)) || refuse "volume group $VG not found"
((VG_MISSING == 0)) || refuse "volume group $VG has $VG_MISSING missing PV(s)"
check_growable "$LV" 0
grow_lv "$LV"
field lvs "[$GROW_REPORT]"
succeed "$VG/$LV is $((LV_BYTES[$LV] / MiB)) MiB and its $GROW_FS filesystem fills it"
