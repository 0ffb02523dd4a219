/** Files the ISO stage takes from the image and installer stages, whatever the family. */
export const imageOutputs = {
  /** The installed system, squashed: copied onto the disk by the installer, and the live root's lower layer. */
  image: 'filesystem.squashfs',
  /** sha256 of the image, and its detached signature by the repository's key. */
  sums: 'SHA256SUMS',
  sumsSignature: 'SHA256SUMS.sign',
  /** dpkg-query's list of what the image holds. */
  packages: 'packages.txt',
} as const;

export const installerOutputs = {
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
  /** The installer's layer over the image (live-boot, unsquashfs, the installer itself). */
  layer: 'installer.squashfs',
  isolinux: 'isolinux',
  grubEfi: 'grub-x86_64-efi',
} as const;
