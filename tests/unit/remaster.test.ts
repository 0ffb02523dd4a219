import { addKickstart, parseMkisofsReport, ksArgument, configKind } from '../../src/iso/remaster';

describe('remastering a vendor boot ISO', () => {
  test("Fedora's GRUB entries (linux and linuxefi) get inst.ks=, replacing an earlier one; other lines stay", () => {
    const grub = [
      "menuentry 'Install Fedora 43' --class fedora {",
      '\tlinux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Fedora-E-dvd-x86_64-43 quiet',
      '\tinitrd /images/pxeboot/initrd.img',
      '}',
      "menuentry 'Test' {",
      '\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Fedora-E-dvd-x86_64-43 inst.ks=hd:LABEL=old:/old.cfg rd.live.check',
      '}',
    ].join('\n');
    const { text, changed } = addKickstart(grub, 'Fedora-E-dvd-x86_64-43', configKind('EFI/BOOT/grub.cfg'));
    expect(changed).toBe(2);
    expect(text.split('\n')[1]).toBe('\tlinux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Fedora-E-dvd-x86_64-43 quiet inst.ks=hd:LABEL=Fedora-E-dvd-x86_64-43:/ks.cfg');
    expect(text.split('\n')[5]).toBe('\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Fedora-E-dvd-x86_64-43 rd.live.check inst.ks=hd:LABEL=Fedora-E-dvd-x86_64-43:/ks.cfg');
    expect(addKickstart(text, 'Fedora-E-dvd-x86_64-43', 'grub').text).toBe(text);
  });

  test('isolinux APPEND lines (any case) get it; LINUX/KERNEL lines carry no arguments there', () => {
    const cfg = 'label linux\n  menu label ^Install\n  kernel vmlinuz\n  append initrd=initrd.img inst.stage2=hd:LABEL=F43 quiet\nLABEL x\n  LINUX /live/vmlinuz\n  APPEND boot=live\n';
    const { text, changed } = addKickstart(cfg, 'F43', configKind('isolinux/isolinux.cfg'));
    expect(changed).toBe(2);
    expect(text).toContain('  kernel vmlinuz\n');
    expect(text).toContain('  LINUX /live/vmlinuz\n');
    expect(text).toContain('append initrd=initrd.img inst.stage2=hd:LABEL=F43 quiet inst.ks=hd:LABEL=F43:/ks.cfg');
    expect(text).toContain('APPEND boot=live inst.ks=hd:LABEL=F43:/ks.cfg');
  });

  test("a label with a space is written as Anaconda's \\x20", () => {
    expect(ksArgument('Fedora 43')).toBe('inst.ks=hd:LABEL=Fedora\\x20' + '43:/ks.cfg');
  });

  test("xorriso's as_mkisofs report becomes arguments, quoted paths inside an argument included", () => {
    const report = "-V 'Fedora-E-dvd-x86_64-43'\n--modification-date='2025102312000000'\n-isohybrid-mbr --interval:local_fs:0s-15s:zero_mbrpt,zero_gpt:'/tmp/it'\\''s.iso'\n-b '/images/eltorito.img'\n-e '/images/efiboot.img'\n";
    expect(parseMkisofsReport(report)).toEqual([
      '-V',
      'Fedora-E-dvd-x86_64-43',
      '--modification-date=2025102312000000',
      '-isohybrid-mbr',
      "--interval:local_fs:0s-15s:zero_mbrpt,zero_gpt:/tmp/it's.iso",
      '-b',
      '/images/eltorito.img',
      '-e',
      '/images/efiboot.img',
    ]);
  });
});
