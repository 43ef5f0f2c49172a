import { describe, expect, it } from 'vitest';
import { nfcTwinReason, preferredTwin, unaddressableNameReason } from '../../src/scan/names.js';

describe('unaddressableNameReason', () => {
  it('accepts unusual but usable names', () => {
    for (const name of ['with space.txt', ' lead', 'trail ', '100%', '#tag', '中文', '😀', 'caf\u00e9', 'cafe\u0301', 'a?b', '...']) {
      expect(unaddressableNameReason(name), name).toBeUndefined();
    }
  });

  it('refuses backslashes and control characters, naming the character', () => {
    expect(unaddressableNameReason('a\\b')).toContain('backslash');
    expect(unaddressableNameReason('a\nb')).toContain('U+000A');
    expect(unaddressableNameReason('a\u007fb')).toContain('U+007F');
    expect(unaddressableNameReason('a\u0085b')).toContain('U+0085');
  });
});

describe('NFC twins', () => {
  it('prefers the one the Synced tree records, else the same spelling whatever order the two come in', () => {
    const nfc = { name: 'caf\u00e9', identity: '1' };
    const nfd = { name: 'cafe\u0301', identity: '2' };
    expect(preferredTwin(nfc, nfd, undefined)).toBe(nfd);
    expect(preferredTwin(nfd, nfc, undefined)).toBe(nfd);
    expect(preferredTwin(nfd, nfc, { identity: '1', name: nfd.name })).toBe(nfc);
    expect(preferredTwin(nfc, nfd, { identity: '1', name: nfd.name })).toBe(nfc);
    // Saved by an editor, the synced one has a new inode: its spelling tells it.
    expect(preferredTwin(nfd, nfc, { identity: '3', name: nfc.name })).toBe(nfc);
    expect(preferredTwin(nfc, nfd, { identity: undefined, name: nfd.name })).toBe(nfd);
    expect(nfcTwinReason(nfd.name)).toContain(`differs from "${nfd.name}" only by Unicode normalization`);
  });
});
