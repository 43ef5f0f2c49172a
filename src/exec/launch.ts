/**
 * Starts `start(item)` for each item in order, with at most `limit` of them unsettled at a time,
 * and resolves once all have settled. Starting every action of a large plan at once would hold a
 * suspended call, a closure and a queue entry per action for the whole run (1.4 KB a file in a
 * 10,000-file upload) where only the few running need one. Order matters: an action may wait
 * for one before it, never for one after it, so a window full of waiting actions still moves.
 *
 * After a rejection nothing more starts; the ones running settle, then the first error is thrown.
 */
export async function launchInOrder<T>(items: readonly T[], limit: number, start: (item: T) => Promise<unknown>): Promise<void> {
  let active = 0;
  let failed: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const settle = (): void => {
    active--;
    wake?.();
  };
  const turn = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  for (const item of items) {
    while (active >= limit) await turn();
    if (failed) break;
    active++;
    start(item).then(settle, (error: unknown) => {
      failed ??= { error };
      settle();
    });
  }
  while (active > 0) await turn();
  if (failed) throw failed.error;
}
