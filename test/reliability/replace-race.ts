import type { RemoteReplace } from './activity.js';

/**
 * Cloudreve v3 has no conditional write: cloudreve-sync looks at a server file (a listing of its
 * folder) just before it replaces it, and a server edit landing in the moment between the look
 * and the replace is overwritten unseen (README, known limitations). The daemon case's server
 * activity runs at full speed beside walks every second, so it meets that moment now and then.
 * A lost server version is excused when the daemon's log shows exactly that: a replace of the
 * same file answered after the edit was asked, whose last look at the folder before it began
 * before the edit was answered. A replace whose look came after the edit saw it, and overwriting
 * that is a bug the check still reports.
 */

interface LoggedRequest {
  readonly route: string;
  readonly target: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

const listingRoute = 'GET /api/v3/directory/*path';
const replaceRoute = 'PUT /api/v3/file/update/:id';

/** The server requests in a daemon's debug log, with when each began and ended. */
function loggedRequests(output: string): LoggedRequest[] {
  const requests: LoggedRequest[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"cloudreve request"')) continue;
    const entry = JSON.parse(line) as { time: number; durationMs: number; route: string; target?: string };
    if (entry.target !== undefined) requests.push({ route: entry.route, target: entry.target, startedAt: entry.time - entry.durationMs, endedAt: entry.time });
  }
  // Logged as they end: several in flight end out of order.
  return requests.sort((a, b) => a.startedAt - b.startedAt);
}

/** The content hashes of the server edits in `replaces` that a replace by the daemon may have overwritten unseen. */
export function racedReplaces(replaces: ReadonlyMap<string, RemoteReplace>, daemonOutput: string): Set<string> {
  const requests = loggedRequests(daemonOutput);
  const raced = new Set<string>();
  for (const [hash, edit] of replaces) {
    const overwrites = requests.filter((r) => r.route === replaceRoute && r.target === edit.id && r.endedAt >= edit.startedAt);
    const unseen = overwrites.some((replace) => {
      const looks = requests.filter((r) => r.route === listingRoute && r.target === edit.folder && r.startedAt <= replace.startedAt);
      const look = looks.at(-1);
      return look !== undefined && look.startedAt <= edit.endedAt;
    });
    if (unseen) raced.add(hash);
  }
  return raced;
}
