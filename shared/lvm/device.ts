/**
 * Device names for AttachVolume. On Nitro instances the name is only a label (the disk shows up as /dev/nvme*n1 and
 * the scripts find it by the EBS volume id in its serial), but EC2 still refuses a name the instance's block device
 * mapping already uses. AWS recommends /dev/sd[f-p] for EBS data volumes; `sdX` and `xvdX` name the same slot.
 */
const CANDIDATES = 'fghijklmnop'.split('').map((letter) => `/dev/sd${letter}`);

const slotOf = (deviceName: string): string | undefined => {
  const m = /^\/dev\/(?:sd|xvd)([a-z]{1,2})\d*$/.exec(deviceName);
  return m?.[1];
};

/** The first free recommended device name, or undefined when all eleven are in use. */
export function chooseDeviceName(usedDeviceNames: readonly string[]): string | undefined {
  const used = new Set(usedDeviceNames.map(slotOf).filter((s): s is string => s !== undefined));
  return CANDIDATES.find((name) => !used.has(slotOf(name) ?? ''));
}
