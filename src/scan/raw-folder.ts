import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { joinPath } from '../tree/paths.js';
import type { LocalNode, RelPath } from '../tree/types.js';

/**
 * A folder read whole by the native reader (raw-folder.c): a digest of every entry's name and
 * lstat facts, and its subfolders as the walk would report them.
 */
export interface RawFolder {
  readonly digest: string;
  /** The folder's own inode, to tell a folder swapped in since its parent was listed. */
  readonly inode: string;
  /** How many entries it holds. */
  readonly entries: number;
  /** Its subfolders (internal ones included; the walk leaves those out). */
  subfolders(path: RelPath): LocalNode[];
}

export interface RawFolderReader {
  /**
   * The folder at `absolute` read whole, or undefined where it was not (the walk then reads it
   * itself and says why, if anything is wrong): not a folder, a name that is not UTF-8, an entry
   * gone meanwhile, or a read slower than a warm cache gives (or than `budgetMs`).
   */
  read(absolute: string, budgetMs?: number): RawFolder | undefined;
}

type Native = { readFolder(path: string, budgetMs: number): number | (string | number)[] };

/**
 * How long one folder's read may hold the event loop. From a warm cache the reader takes some
 * 3 µs an entry (a folder of 10,000 in 30 ms); longer means a slow disk, and the walk's own reads
 * then keep calls in flight and let the server walk have its turns.
 */
const budgetMs = 50;

/**
 * The reader the build compiled (`npm run build`, on Linux with a C compiler), or undefined:
 * the walk then reads every folder itself, as it does any folder the reader's digest does not
 * vouch for. CLOUDREVE_SYNC_RAW_READS=off leaves it unused.
 */
export function rawFolderReader(): RawFolderReader | undefined {
  if (process.env.CLOUDREVE_SYNC_RAW_READS === 'off') return undefined;
  loaded ??= load();
  return loaded.reader;
}

let loaded: { readonly reader: RawFolderReader | undefined } | undefined;

function load(): { readonly reader: RawFolderReader | undefined } {
  if (process.platform !== 'linux') return { reader: undefined };
  // Beside the bundle's chunks in dist/, or from src/scan/ when the tests run the sources.
  const path = ['./native/raw-folder.node', '../native/raw-folder.node', '../../dist/native/raw-folder.node']
    .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
    .find((candidate) => existsSync(candidate));
  if (path === undefined) return { reader: undefined };
  try {
    const native = createRequire(import.meta.url)(path) as Native;
    return { reader: { read: (absolute, budget = budgetMs) => toRawFolder(native.readFolder(absolute, budget)) } };
  } catch {
    // Built for another system or architecture (a copied dist/): the walk alone does the work.
    return { reader: undefined };
  }
}

function toRawFolder(answer: number | (string | number)[]): RawFolder | undefined {
  if (typeof answer === 'number') return undefined;
  const [digest, inode, entries] = answer as [string, string, number];
  return {
    digest,
    inode,
    entries,
    subfolders: (path) => {
      const nodes: LocalNode[] = [];
      for (let i = 3; i < answer.length; i += 3) {
        nodes.push({ path: joinPath(path, answer[i] as string), kind: 'dir', size: 0, inode: answer[i + 1] as string, mtimeMs: answer[i + 2] as number });
      }
      return nodes;
    },
  };
}
