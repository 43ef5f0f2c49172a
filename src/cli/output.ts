import type { Action } from '../plan/types.js';
import type { PassResult } from '../sync/pass.js';
import { formatBytes, formatTable } from './format.js';

/**
 * One line per action, as `--dry-run` shows a plan. `remoteTrash`: whether a server delete goes
 * to a trash folder; without one it cannot be undone, and the line says so.
 */
export function describeAction(action: Action, remoteTrash: boolean): [string, string, string] {
  switch (action.type) {
    case 'mkdir':
      return ['create folder', action.side === 'local' ? 'local' : 'server', action.path];
    case 'upload':
      return [action.replace ? 'upload (replace)' : 'upload', 'server', `${action.localPath} (${formatBytes(action.local.size)})`];
    case 'download':
      return [action.existing ? 'download (replace)' : 'download', 'local', `${action.remotePath} (${formatBytes(action.remote.size)})`];
    case 'move':
      return ['move', action.side === 'local' ? 'local' : 'server', `${action.from} -> ${action.to}`];
    case 'delete':
      if (action.side === 'local') return ['delete (to trash)', 'local', action.path];
      return [remoteTrash ? 'delete (to trash)' : 'delete (final)', 'server', action.path];
    case 'conflict':
      return [`conflict (${action.resolution})`, 'both', `${action.localPath}${action.resolution === 'keep-both' ? ` (copy: ${action.conflictPath})` : ''}`];
    case 'record':
      return ['record', 'state', action.localPath];
    case 'forget':
      return ['forget', 'state', `${action.rows.length} entr${action.rows.length === 1 ? 'y' : 'ies'}`];
  }
}

export function planTable(result: PassResult): string {
  const lines = [`${result.folder.name}: ${result.folder.localPath} <-> ${result.folder.remotePath}`];
  if (result.plan.stopped) lines.push(`  stopped by the ${result.plan.stopped.guard} guard: ${result.plan.stopped.reason}`);
  const rows = result.plan.actions.filter((a) => a.type !== 'record' && a.type !== 'forget').map((a) => describeAction(a, result.folder.remoteTrash !== undefined));
  lines.push(rows.length === 0 ? '  nothing to do' : formatTable(rows.map((r) => [` ${r[0]}`, r[1], r[2]])));
  for (const s of result.skipped) lines.push(`  skipped (${s.side}) ${s.path}: ${s.reason}`);
  return lines.join('\n');
}

export interface Summary {
  readonly uploaded: number;
  readonly downloaded: number;
  readonly moved: number;
  readonly deleted: number;
  readonly conflicts: number;
  readonly skipped: number;
  readonly deferred: number;
  readonly failed: number;
}

/** What a run did, in the words of the summary line. */
export function summarize(result: PassResult): Summary {
  const counts = result.report?.counts ?? {};
  return {
    uploaded: counts.uploaded ?? 0,
    downloaded: counts.downloaded ?? 0,
    moved: counts.moved ?? 0,
    deleted: (counts['deleted locally'] ?? 0) + (counts['deleted on server'] ?? 0),
    conflicts: counts.conflicts ?? 0,
    skipped: result.skipped.length,
    deferred: counts.deferred ?? 0,
    failed: counts.failed ?? 0,
  };
}

export function summaryLine(result: PassResult): string {
  if (result.plan.stopped) return `${result.folder.name}: stopped: ${result.plan.stopped.reason}`;
  if (result.report?.fatal) return `${result.folder.name}: stopped: ${result.report.fatal.message}`;
  const s = summarize(result);
  return `${result.folder.name}: ${Object.entries(s)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')}`;
}
