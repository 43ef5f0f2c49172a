import { watch, type FSWatcher } from 'chokidar';
import { realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../log/logger.js';
import { ignoreFileName, isInternalPath, type IgnoreRules } from '../scan/ignore.js';
import type { RelPath } from '../tree/types.js';

export interface WatcherOptions {
  readonly root: string;
  readonly rules: IgnoreRules;
  readonly logger: Logger;
  readonly onChange: (path: RelPath) => void;
  /** `.cloudreveignore` was written, created or removed: the rules the watcher was started with are out of date. */
  readonly onRulesChanged: () => void;
  /** The system ran out of watches (inotify's limit): the caller falls back to periodic scans. */
  readonly onOverflow: () => void;
  /**
   * The root itself went (renamed away, deleted): the watcher reports nothing from now on, not
   * even the root coming back; a new one is needed once it is there again.
   */
  readonly onRootLost: () => void;
}

/**
 * Folders deeper than this are not watched (the hourly full pass looks at them): an entry in one
 * could be longer than PATH_MAX (4,096 bytes with the terminating NUL) and chokidar, failing to
 * read it, would never get ready. A name has at most 255 bytes.
 */
const deepestWatchedBytes = 4095 - 1 - 255;

/**
 * Watches a local folder and reports changed paths, relative to the root, as they change: the
 * caller debounces, and a pass leaves a file still being written for later. (chokidar's
 * `awaitWriteFinish` would hold each report until the file stood still, but a file deleted and
 * written again within its throttle left it waiting for that path for good, deaf to every later
 * change there.)
 *
 * chokidar watches the folders only: it would give every file an inotify watch and some 3 KB of
 * its own (360 MB for 60,000 files, and a NAS's default limit of 8,192 watches spent on the
 * first few thousand files), while a folder's watch already hears each entry in it created,
 * written, renamed or deleted. Those come as chokidar's raw events, named by the folder watched
 * and the entry; the path is all a pass needs, which looks at it again.
 */
export class LocalWatcher {
  private constructor(
    private readonly watcher: FSWatcher,
    /** Whether it polls (CHOKIDAR_USEPOLLING) rather than hearing events. */
    readonly polls: boolean,
  ) {}

  static async start(options: WatcherOptions): Promise<LocalWatcher> {
    const { root, rules, logger } = options;
    // chokidar, not following links, would watch a root that is a link as a file and hear
    // nothing below it: it watches the folder the link leads to (a change of target is a new
    // folder at the root's path, for which the daemon starts a new watcher).
    const watched = await realpath(root).catch(() => root);
    const rel = (absolute: string): RelPath => relative(watched, absolute).split(sep).join('/');
    // A polled folder (CHOKIDAR_USEPOLLING, set for network mounts in containers) does not see
    // its files change: there, chokidar watches files too, and reports them itself.
    const polling = pollingAsked(process.env.CHOKIDAR_USEPOLLING);
    const watcher = watch(watched, {
      // Every file stat'ed every 0.1 s (chokidar's default) would keep cores busy on a large
      // tree; CHOKIDAR_INTERVAL still sets it.
      ...(polling ? { interval: 2000, binaryInterval: 2000 } : {}),
      ignoreInitial: true,
      followSymlinks: false,
      ignorePermissionErrors: true,
      ignored: (absolute, stats) => {
        const file = stats !== undefined && !stats.isDirectory();
        // Asked for every entry each time a folder changes: files are answered first.
        if (file && !polling) return true;
        const path = rel(absolute);
        if (path === '' || path.startsWith('..') || path === ignoreFileName) return false;
        if (isInternalPath(path) || Buffer.byteLength(absolute) > deepestWatchedBytes) return true;
        // Without stats chokidar asks again once it knows; only then can folder rules match.
        return stats !== undefined && rules.ignores(path, file ? 'file' : 'dir');
      },
    });
    watcher.on('raw', (_event, name: string | null, details: unknown) => {
      const { watchedPath } = details as { watchedPath?: unknown };
      if (typeof watchedPath !== 'string') return;
      const path = rel(name === null ? watchedPath : join(watchedPath, name));
      if (path === ignoreFileName) options.onRulesChanged();
      // Not a file the rules leave out, nor one of ours; a folder the rules leave out is not watched.
      else if (path !== '' && !path.startsWith('..') && !isInternalPath(path) && !rules.ignores(path, 'file')) options.onChange(path);
    });
    // Folders (and polled files) come and go as chokidar's own events, which also watch or unwatch them.
    watcher.on('all', (event, absolute) => {
      const path = rel(absolute);
      if (path === ignoreFileName) options.onRulesChanged();
      else if (path !== '') options.onChange(path);
      else if (event === 'unlinkDir') options.onRootLost();
    });
    let overflowed = false;
    watcher.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EMFILE') {
        // Said once: out of watches, chokidar reports it again for every entry still to watch.
        if (!overflowed) options.onOverflow();
        overflowed = true;
        return;
      }
      logger.warn({ err: (error as Error).message, root }, 'file watcher error');
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    const simulated = process.env.CLOUDREVE_SYNC_FAULT_WATCH;
    // The tests cannot exhaust the machine's inotify watches without hurting everything else on
    // it; this variable makes the watcher report the error inotify would, for two entries.
    if (simulated === 'ENOSPC' || simulated === 'EMFILE') {
      for (let i = 0; i < 2; i++) watcher.emit('error', Object.assign(new Error(`${simulated}: System limit for number of file watchers reached (simulated)`), { code: simulated }));
    }
    return new LocalWatcher(watcher, polling);
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}

/** Whether CHOKIDAR_USEPOLLING asks chokidar to poll, read as chokidar reads it. */
function pollingAsked(value: string | undefined): boolean {
  const lower = value?.toLowerCase() ?? '';
  return lower !== '' && lower !== 'false' && lower !== '0';
}
