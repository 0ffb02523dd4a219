/** Files the ISO stage takes from the installer stage's output, whatever the family. */
export const installerOutputs = {
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
  rootImage: 'filesystem.squashfs',
  isolinux: 'isolinux',
  grubEfi: 'grub-x86_64-efi',
} as const;
