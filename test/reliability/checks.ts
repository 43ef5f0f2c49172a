import { join } from 'node:path';
import { isOwnTempFileName } from '../../src/scan/ignore.js';
import { conflictCopyName, userNames } from './activity.js';
import { describeTree, readLocalTree, readRemoteTree, type Rig, type Tree } from './rig.js';

/**
 * The four checks of a converged folder (issue #5):
 * 1. the local and remote trees are equal: names, kinds, sizes and content hashes;
 * 2. no data loss: every version a user wrote and did not overwrite or delete themselves is in a
 *    tree, a conflict copy, or a trash;
 * 3. no duplicates beyond conflict copies, no temp files, no upload session left at the server;
 * 4. one more sync is a no-op with zero write requests.
 * Each returns a list of problems; an empty list means the check holds.
 */

export const remoteTrash = '/.trash';

/** The versions users wrote (by content hash, with what wrote them) and those they overwrote or deleted. */
export interface Versions {
  readonly versions: ReadonlyMap<string, string>;
  readonly superseded: ReadonlySet<string>;
  /** Sessions the other device may have left open (see Activity.abandonedUploads). */
  readonly abandonedUploads?: ReadonlySet<string>;
}

export interface Verdict {
  readonly problems: string[];
  readonly local: Tree;
}

export async function checkConverged(rig: Rig, activity: Versions | undefined, names: ReadonlySet<string> = userNames): Promise<Verdict> {
  const problems: string[] = [];
  const local = await readLocalTree(rig.local);
  const remote = await readRemoteTree(rig.scene, rig.scene.remoteRoot);

  // 1. Equal trees.
  const l = describeTree(local);
  const r = describeTree(remote);
  const onlyLocal = l.filter((line) => !r.includes(line));
  const onlyRemote = r.filter((line) => !l.includes(line));
  if (onlyLocal.length > 0 || onlyRemote.length > 0) {
    problems.push(`1. the trees differ:\n   only local:  ${onlyLocal.join('\n                ')}\n   only remote: ${onlyRemote.join('\n                ')}`);
  }

  // 2. No data loss.
  if (activity) {
    const survivors = new Set<string>();
    const trashLocal = await readLocalTree(join(rig.stateDir, 'trash'));
    const trashRemote = await readRemoteTree(rig.scene, remoteTrash);
    for (const tree of [local, remote, trashLocal, trashRemote]) for (const e of tree.values()) if (e.kind === 'file') survivors.add(e.hash);
    for (const [hash, where] of activity.versions) {
      if (!activity.superseded.has(hash) && !survivors.has(hash)) problems.push(`2. lost the version written by "${where}"`);
    }
  }

  // 3. No duplicates, temp files or leftover upload sessions.
  const seen = new Map<string, string>();
  for (const [path, e] of local) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (path.includes('.cloudreve-sync')) problems.push(`3. a leftover of cloudreve-sync: ${path}`);
    else if (!names.has(name) && !conflictCopyName.test(name)) problems.push(`3. a name no user gave: ${path}`);
    if (e.kind !== 'file' || e.size === 0) continue;
    const twin = seen.get(e.hash);
    if (twin !== undefined) problems.push(`3. the same content twice: ${twin} and ${path}`);
    seen.set(e.hash, path);
  }
  for (const path of remote.keys()) if (path.includes('.cloudreve-sync') && !local.has(path)) problems.push(`3. a leftover of cloudreve-sync on the server: ${path}`);
  // A run killed while it asked for a session under a temporary name (the new version of a
  // large file, sent beside it) never learnt the session's ID, and no run needs that random name
  // again: by design the session is left to expire while the state notes that one may be open,
  // rather than cancelling other devices' uploads with it. So is one whose answer was lost for
  // a file deleted before a run sent it again: no run meets that name held.
  const notes = rig.uploadNotes();
  const needed = (s: { path: string; name: string }): boolean => !isOwnTempFileName(s.name) && local.has(`${s.path}/${s.name}`.slice(rig.scene.remoteRoot.length + 1));
  const unnamed = (s: { sessionId: string; path: string; name: string }): boolean => notes.unnamedMayBeOpen && !needed(s) && !notes.sessionIds.has(s.sessionId);
  const othersLeft = (s: { path: string; name: string }): boolean => activity?.abandonedUploads?.has(`${s.path}/${s.name}`) === true;
  const sessions = rig.scene.standin.control.openUploadSessions().filter((s) => !unnamed(s) && !othersLeft(s));
  if (sessions.length > 0) problems.push(`3. upload sessions left open: ${sessions.map((s) => `${s.path}/${s.name}`).join(', ')}`);

  // 4. A no-op.
  rig.scene.standin.control.resetCounts();
  const again = await rig.run(['sync', '--once']);
  const { writes, counts } = rig.scene.requests();
  if (again.code !== 0 || writes > 0) {
    const written = Object.entries(counts).filter(([route]) => !route.startsWith('GET ') && route !== 'POST /api/v3/user/session');
    problems.push(`4. one more sync was not a no-op: exit ${again.code ?? again.signal}, writes ${JSON.stringify(Object.fromEntries(written))}\n   ${again.stdout.trim()}`);
  }
  return { problems, local };
}
