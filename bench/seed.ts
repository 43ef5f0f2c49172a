import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../src/state/database.js';
import { folderId, SyncedTree } from '../src/state/synced.js';
import { pool, RawClient } from './raw-client.js';
import { runJobs } from './scene.js';
import type { StandinProcess } from './standin-process.js';

/**
 * Puts a large tree in the state a finished sync leaves, without a first sync through the
 * client (100,000 uploads through `sync --once` would take longer than the benchmark may):
 * the server side is created with the raw client (empty files through POST /file/create, one
 * request each), and the Synced tree is written with the client's own state module from what
 * a listing of every server folder and an lstat of every local entry say. Whether this equals
 * what a real sync leaves is checked by the caller: the next `sync --once` must exit 0 and
 * make no write request.
 */
export async function seedSyncedTree(options: {
  readonly standin: StandinProcess;
  readonly local: string;
  readonly stateDir: string;
  /** The synced server folder, e.g. "/noop". */
  readonly remote: string;
  /** Relative folder paths (parents before children are not required). */
  readonly dirs: readonly string[];
  /** Relative paths of empty files. */
  readonly files: readonly string[];
  readonly folderName: string;
}): Promise<void> {
  const { standin, local, stateDir, remote, files } = options;
  const client = new RawClient(standin.url, 8);
  try {
    await client.login(standin.email, standin.password);
    // Every folder, parents first (mkdir creates missing parents; listing needs them all).
    const allDirs = new Set<string>();
    for (const dir of options.dirs) {
      const parts = dir.split('/');
      for (let i = 1; i <= parts.length; i++) allDirs.add(parts.slice(0, i).join('/'));
    }
    const dirs = [...allDirs].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
    await client.mkdir(remote);
    await pool(dirs, 8, (dir) => client.mkdir(`${remote}/${dir}`));
    await pool(files, 8, (file) => client.createEmpty(`${remote}/${file}`));

    // What the server says of each entry, one listing per folder.
    const remoteFacts = new Map<string, { id: string; modifiedMs: number }>();
    await pool(['', ...dirs], 8, async (dir) => {
      const listing = await client.list(dir === '' ? remote : `${remote}/${dir}`);
      for (const object of listing.objects) {
        const path = dir === '' ? object.name : `${dir}/${object.name}`;
        remoteFacts.set(`${object.type}:${path}`, { id: object.id, modifiedMs: Date.parse(object.date) });
      }
    });

    // What the disk says, as the local scanner reads it.
    const localFacts = new Map<string, { inode: string; mtimeMs: number; size: number }>();
    const stat = async (path: string): Promise<void> => {
      const info = await lstat(join(local, ...path.split('/')), { bigint: true });
      localFacts.set(path, { inode: info.ino.toString(), mtimeMs: Number(info.mtimeNs / 1_000_000n), size: info.isFile() ? Number(info.size) : 0 });
    };
    await runJobs([...dirs, ...files].map((path) => () => stat(path)), 32);

    const db = openDatabase(stateDir);
    try {
      const tree = new SyncedTree(db, folderId(db, options.folderName));
      const rows = new Map<string, number>([['', 0]]);
      const put = (path: string, kind: 'file' | 'dir'): void => {
        const slash = path.lastIndexOf('/');
        const parent = rows.get(slash < 0 ? '' : path.slice(0, slash));
        const facts = localFacts.get(path);
        const server = remoteFacts.get(`${kind}:${path}`);
        if (parent === undefined || facts === undefined || server === undefined) throw new Error(`seeding: nothing known of ${path}`);
        const name = path.slice(slash + 1);
        const id = tree.put({
          kind,
          localParent: parent,
          localName: name,
          remoteParent: parent,
          remoteName: name,
          size: facts.size,
          localMtimeMs: facts.mtimeMs,
          inode: facts.inode,
          remoteId: server.id,
          remoteModifiedMs: server.modifiedMs,
        });
        rows.set(path, id);
      };
      db.transaction(() => {
        for (const dir of dirs) put(dir, 'dir');
        for (const file of files) put(file, 'file');
      })();
    } finally {
      db.close();
    }
  } finally {
    client.close();
  }
}

function depth(path: string): number {
  return path.split('/').length;
}
