import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { GuardTrip } from '../plan/index.js';
import { describeFsError, isNotThere } from '../scan/errors.js';
import { tempPrefix } from '../scan/ignore.js';
import { howToGoPast } from './binding.js';

/**
 * A file in the local root that names the folder a Synced tree was recorded for, as Syncthing's
 * `.stfolder` does. The config names a path, and the folder at that path can change under it:
 * a Docker volume mapped to another host folder, another drive mounted at the mount point.
 * Against another folder the tree would take every difference for a delete; the marker, which
 * moves and is restored with the folder it lies in, tells the two apart. Its prefix keeps it out
 * of the sync.
 */
export const folderMarkerName = `${tempPrefix}folder`;

/** The marker's ID, none, or nothing to go by (the file could not be read). */
export type MarkerFound = { readonly id: string } | 'none' | 'unreadable';

export async function readFolderMarker(localRoot: string, log: Logger): Promise<MarkerFound> {
  const path = join(localRoot, folderMarkerName);
  try {
    const id = (await readFile(path, 'utf8')).split('\n').find((line) => /^[0-9a-f-]{36}$/.test(line));
    return id === undefined ? 'none' : { id };
  } catch (error) {
    if (isNotThere(error)) return 'none';
    log.warn({ path, error: describeFsError(error) }, 'cannot read the folder marker; the folder is not checked against it');
    return 'unreadable';
  }
}

/** A stop for a local folder that does not hold the marker recorded for it. */
export function markerGuard(name: string, localPath: string, recorded: string | undefined, found: MarkerFound): GuardTrip | undefined {
  if (recorded === undefined || found === 'unreadable' || (found !== 'none' && found.id === recorded)) return undefined;
  const what = found === 'none' ? `does not hold the file ${folderMarkerName} that marked it at its last sync` : `holds the ${folderMarkerName} of another synced folder`;
  return {
    guard: 'binding',
    side: 'local',
    to: `marker:${found === 'none' ? '' : found.id}`,
    reason:
      `the local folder ${localPath} ${what}: it may be another folder than the one synced, mounted or copied to that path, ` +
      `against which every difference would be taken for a delete; if it holds the same files (restored without hidden files, say), ` +
      `${howToGoPast(name)}, which marks it again`,
  };
}

/**
 * What to record after a pass that ran: the ID on disk, marking the folder first where it may
 * be written (not in upload-only mode, which never writes locally) and does not hold the ID
 * wanted: the recorded one, else the one it holds unless another folder recorded it (a copy of
 * a synced folder set up as a folder of its own), else a new one. Undefined when the folder holds
 * no marker and cannot be given one: it is not checked then.
 */
export async function markFolder(
  localRoot: string,
  recorded: string | undefined,
  found: { readonly id: string } | 'none',
  mayWrite: boolean,
  recordedElsewhere: (id: string) => boolean,
  log: Logger,
): Promise<string | undefined> {
  const onDisk = found === 'none' ? undefined : found.id;
  const adoptable = onDisk !== undefined && (onDisk === recorded || !recordedElsewhere(onDisk));
  const wanted = recorded ?? (adoptable ? onDisk : randomUUID());
  if (onDisk === wanted) return wanted;
  if (!mayWrite) return adoptable ? onDisk : undefined;
  const path = join(localRoot, folderMarkerName);
  // Written beside and renamed into place: a crash leaves the old marker or the new one, never
  // half of one, and a symbolic link of that name is replaced, not followed.
  const temp = `${path}.new`;
  const text = `cloudreve-sync marks the local folder it syncs with this file; keep it with the folder.\n${wanted}\n`;
  try {
    await writeFile(temp, text);
    await rename(temp, path);
    return wanted;
  } catch (error) {
    log.warn({ path, error: describeFsError(error) }, 'cannot write the folder marker; the folder is not checked against it');
    await rm(temp, { force: true }).catch(() => undefined);
    return onDisk;
  }
}
