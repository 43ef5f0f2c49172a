import { isRemoteError } from '../remote/errors.js';
import { crashPoint } from './crash.js';
import type { ObjectRef, Remote } from '../remote/types.js';
import { asideName } from '../plan/names.js';
import { baseName, parentOf } from '../tree/paths.js';
import type { RelPath } from '../tree/types.js';

/** Absolute server path of `path` inside the synced folder `root`. */
export function remotePath(root: string, path: RelPath): string {
  if (path === '') return root;
  return root === '/' ? `/${path}` : `${root}/${path}`;
}

/** The server side of one synced folder: paths relative to its root, moves as the API needs them. */
export class RemoteTree {
  constructor(
    readonly remote: Remote,
    readonly root: string,
  ) {}

  abs(path: RelPath): string {
    return remotePath(this.root, path);
  }

  /**
   * Moves and renames: the API moves into another folder keeping the name, and renames within
   * a folder; a change of both takes the move first, or the rename first when the old name is
   * taken in the new folder, and when the new name is taken in the old folder too, it passes
   * through an aside name (which the next run reads as the old one, should it be killed there).
   */
  async move(object: ObjectRef, from: RelPath, to: RelPath): Promise<void> {
    const [fromDir, toDir, fromName, toName] = [parentOf(from), parentOf(to), baseName(from), baseName(to)];
    if (fromDir === toDir) {
      await this.remote.rename(object, toName);
      return;
    }
    if (fromName === toName) {
      await this.remote.move(this.abs(fromDir), [object], this.abs(toDir));
      return;
    }
    try {
      await this.remote.move(this.abs(fromDir), [object], this.abs(toDir));
    } catch (error) {
      if (!isRemoteError(error, 'exists')) throw error;
      if (await this.#renamed(object, toName)) {
        await this.remote.move(this.abs(fromDir), [object], this.abs(toDir));
        return;
      }
      await this.remote.rename(object, asideName(fromName, 0));
      await this.remote.move(this.abs(fromDir), [object], this.abs(toDir));
      await this.remote.rename(object, toName);
      return;
    }
    // Once moved, the entry is no longer in the old folder: a new name taken meanwhile fails the
    // action where it stands, since the steps above would start from the old folder.
    crashPoint('move:between-steps');
    await this.remote.rename(object, toName);
  }

  /** Renames within its folder; false when the name is taken there. */
  async #renamed(object: ObjectRef, name: string): Promise<boolean> {
    try {
      await this.remote.rename(object, name);
      return true;
    } catch (error) {
      if (isRemoteError(error, 'exists')) return false;
      throw error;
    }
  }

  /** Deletes, or moves into `trash` (an absolute server folder) under the entry's own path. */
  async delete(object: ObjectRef, path: RelPath, trash: string | undefined): Promise<void> {
    if (trash === undefined) {
      await this.remote.delete([object]);
      return;
    }
    await this.remote.move(this.abs(parentOf(path)), [object], await this.trashFolder(trash, path));
  }

  /** Makes, and names, the folder of `trash` (an absolute server folder) where the entry at `path` goes. */
  async trashFolder(trash: string, path: RelPath): Promise<string> {
    const into = `${trash}/${parentOf(path)}`.replace(/\/+$/, '');
    await this.remote.mkdir(into);
    return into;
  }
}
