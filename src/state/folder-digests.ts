import type { LocalNode, RelPath, RemoteNode, Side } from '../tree/types.js';
import { prepared, type Db } from './database.js';

/** A folder's digest, and how many files it held then. */
export interface FolderDigest {
  readonly digest: string;
  readonly files: number;
}

/**
 * What each folder held, on each side, the last time its entries matched its Synced rows
 * exactly: a digest of the entries (or of the server's listing, see `PassTables`), by the
 * folder's Synced row (0 for the root). A pass that finds a folder's entries with the same
 * digest knows the outcome of comparing them with rows that have not changed since, without
 * reading the rows: that read was a tenth of a no-op pass. Triggers on the Synced table drop a
 * folder's digests whenever a row enters, leaves or changes in it (see their migration), so a
 * digest that is still here speaks of the rows as they are.
 */
export class FolderDigests {
  readonly #db: Db;
  readonly #folder: number;
  readonly #known = new Map<string, FolderDigest>();
  readonly #fresh: [Side, number, FolderDigest][] = [];

  constructor(db: Db, folder: number) {
    this.#db = db;
    this.#folder = folder;
    const rows = prepared<[number], { side: Side; dir: number; digest: string; files: number }>(db, 'SELECT side, dir, digest, files FROM folder_digests WHERE folder = ?').all(folder);
    for (const { side, dir, digest, files } of rows) this.#known.set(slot(side, dir), { digest, files });
  }

  get(side: Side, dir: number): FolderDigest | undefined {
    return this.#known.get(slot(side, dir));
  }

  /** Noted now, written by `save()`. */
  remember(side: Side, dir: number, digest: FolderDigest): void {
    this.#fresh.push([side, dir, digest]);
  }

  /**
   * Writes what was remembered, in one transaction. Only before any Synced row of the folder is
   * written after the comparisons it remembers (a pass saves them before its plan is carried
   * out): a digest written after such a change would outlive the trigger that should drop it.
   */
  save(): void {
    if (this.#fresh.length === 0) return;
    const insert = prepared(this.#db, 'INSERT OR REPLACE INTO folder_digests (folder, side, dir, digest, files) VALUES (?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const [side, dir, { digest, files }] of this.#fresh) insert.run(this.#folder, side, dir, digest, files);
    })();
    this.#fresh.length = 0;
  }
}

function slot(side: Side, dir: number): string {
  return `${side}:${dir}`;
}

/**
 * A digest of a folder's entries as the comparison with the Synced rows sees them: each
 * entry's kind and name, and a file's size, modification time and identity (a folder's facts
 * play no part there, nor does its path). Strings go in with their length first, so no two
 * lists hash alike but by chance: 128 bits of it, against one folder's previous digest.
 */
function digestOf<N extends LocalNode | RemoteNode>(folder: RelPath, nodes: readonly N[], facts: (hash: WordHash, file: N) => void): string {
  const hash = new WordHash();
  const nameStart = folder === '' ? 0 : folder.length + 1;
  for (const node of nodes) {
    hash.word(node.kind === 'dir' ? 1 : 2);
    hash.string(node.path, nameStart);
    if (node.kind === 'file') facts(hash, node);
  }
  return hash.digest();
}

export function localDigest(folder: RelPath, nodes: readonly LocalNode[]): string {
  return digestOf(folder, nodes, (hash, file) => {
    hash.number(file.size);
    hash.number(file.mtimeMs);
    hash.string(file.inode, 0);
  });
}

export function remoteDigest(folder: RelPath, nodes: readonly RemoteNode[]): string {
  return digestOf(folder, nodes, (hash, file) => {
    hash.number(file.size);
    hash.number(file.modifiedMs);
    hash.string(file.id, 0);
  });
}

const float = new Float64Array(1);
const halves = new Int32Array(float.buffer);
const [c1, c2, c3, c4] = [0x239b961b, 0xab0e9789, 0x38b34ae5, 0xa1e38b93];
const seed = 0x9747b28c | 0;

/**
 * MurmurHash3's x86 128-bit mixing, fed 32-bit words instead of bytes: a folder's digest
 * costs no string built of its entries (that garbage was a tenth of a no-op pass's). Not
 * cryptographic; a digest only ever meets the same folder's previous one.
 */
class WordHash {
  #h1 = seed;
  #h2 = seed;
  #h3 = seed;
  #h4 = seed;
  #k1 = 0;
  #k2 = 0;
  #k3 = 0;
  #filled = 0;
  #words = 0;

  word(k: number): void {
    this.#words++;
    switch (this.#filled) {
      case 0:
        this.#k1 = k;
        this.#filled = 1;
        return;
      case 1:
        this.#k2 = k;
        this.#filled = 2;
        return;
      case 2:
        this.#k3 = k;
        this.#filled = 3;
        return;
      default:
        this.#block(k);
        this.#filled = 0;
    }
  }

  /** `text` from `start`, two UTF-16 code units to a word, after its length. */
  string(text: string, start: number): void {
    const end = text.length;
    this.word(end - start);
    for (let i = start; i < end; i += 2) this.word(text.charCodeAt(i) | ((i + 1 < end ? text.charCodeAt(i + 1) : 0) << 16));
  }

  number(value: number): void {
    float[0] = value;
    this.word(halves[0] ?? 0);
    this.word(halves[1] ?? 0);
  }

  digest(): string {
    // The tail: the words of an unfinished block, mixed in without the rounds.
    if (this.#filled >= 3) this.#h3 ^= Math.imul(rotl(Math.imul(this.#k3, c3), 17), c4);
    if (this.#filled >= 2) this.#h2 ^= Math.imul(rotl(Math.imul(this.#k2, c2), 16), c3);
    if (this.#filled >= 1) this.#h1 ^= Math.imul(rotl(Math.imul(this.#k1, c1), 15), c2);
    const length = this.#words * 4;
    let [h1, h2, h3, h4] = [this.#h1 ^ length, this.#h2 ^ length, this.#h3 ^ length, this.#h4 ^ length];
    h1 = (h1 + h2 + h3 + h4) | 0;
    [h2, h3, h4] = [(h2 + h1) | 0, (h3 + h1) | 0, (h4 + h1) | 0];
    [h1, h2, h3, h4] = [fmix(h1), fmix(h2), fmix(h3), fmix(h4)];
    h1 = (h1 + h2 + h3 + h4) | 0;
    [h2, h3, h4] = [(h2 + h1) | 0, (h3 + h1) | 0, (h4 + h1) | 0];
    return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
  }

  #block(k4: number): void {
    let h1 = this.#h1 ^ Math.imul(rotl(Math.imul(this.#k1, c1), 15), c2);
    h1 = (Math.imul((rotl(h1, 19) + this.#h2) | 0, 5) + 0x561ccd1b) | 0;
    let h2 = this.#h2 ^ Math.imul(rotl(Math.imul(this.#k2, c2), 16), c3);
    h2 = (Math.imul((rotl(h2, 17) + this.#h3) | 0, 5) + 0x0bcaa747) | 0;
    let h3 = this.#h3 ^ Math.imul(rotl(Math.imul(this.#k3, c3), 17), c4);
    h3 = (Math.imul((rotl(h3, 15) + this.#h4) | 0, 5) + 0x96cd1c35) | 0;
    let h4 = this.#h4 ^ Math.imul(rotl(Math.imul(k4, c4), 18), c1);
    h4 = (Math.imul((rotl(h4, 13) + h1) | 0, 5) + 0x32ac3b17) | 0;
    this.#h1 = h1;
    this.#h2 = h2;
    this.#h3 = h3;
    this.#h4 = h4;
  }
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
