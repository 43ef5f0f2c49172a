import type { Side } from '../tree/types.js';
import type { GuardTrip, PlanInput, PlanOptions, PlanTotals } from './types.js';

/**
 * "I can't see it" is never "the user deleted it": a missing root stops the folder; a root that
 * lists nothing while the Synced tree remembers files stops it unless forced.
 */
export function rootGuard(input: PlanInput, options: PlanOptions): GuardTrip | undefined {
  if (!input.local.rootExists) {
    return { guard: 'root', side: 'local', reason: 'the local folder is missing or not a folder (unmounted drive?)' };
  }
  if (!input.remote.rootExists) return { guard: 'root', side: 'remote', reason: 'the remote folder does not exist on the server' };
  const totals = totalsOf(input);
  if (totals.syncedEntries === 0 || options.force) return undefined;
  const synced = totals.syncedEntries === 1 ? '1 entry was' : `${totals.syncedEntries} entries were`;
  if (totals.localEntries === 0) {
    return { guard: 'root', side: 'local', reason: `the local folder is empty but ${synced} synced before (unmounted drive?); run with --force if you really emptied it` };
  }
  if (totals.remoteEntries === 0) {
    return { guard: 'root', side: 'remote', reason: `the remote folder is empty but ${synced} synced before; run with --force if it was really emptied` };
  }
  return undefined;
}

/** The counts the guards judge by: given, or those of complete trees. */
export function totalsOf(input: PlanInput): PlanTotals {
  return (
    input.totals ?? {
      localEntries: input.local.nodes.length,
      remoteEntries: input.remote.nodes.length,
      syncedEntries: input.synced.length,
      syncedFiles: input.synced.reduce((count, node) => count + (node.kind === 'file' ? 1 : 0), 0),
    }
  );
}

/** Counts deletions after move detection, so a renamed folder never looks like a mass delete. */
export function massDeleteGuard(input: PlanInput, options: PlanOptions, deletes: Readonly<Record<Side, number>>): GuardTrip | undefined {
  if (options.force) return undefined;
  const total = totalsOf(input).syncedFiles;
  const { maxPercent, minCount, maxCount } = options.massDelete;
  for (const side of ['local', 'remote'] as const) {
    const count = deletes[side];
    const percent = total === 0 ? 0 : (count * 100) / total;
    if (count > maxCount || (count >= minCount && percent > maxPercent)) {
      return {
        guard: 'mass-delete',
        side,
        count,
        total,
        reason: `the run would delete ${count} of ${total} synced files on the ${side} side (limits: ${maxPercent}% from ${minCount} files, or ${maxCount} files); run with --force if that is intended`,
      };
    }
  }
  return undefined;
}
