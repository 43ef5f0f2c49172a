import type { FolderConfig, ServerConfig } from '../config/load.js';
import { withoutCredentials } from '../cloudreve/index.js';
import type { GuardTrip } from '../plan/types.js';

/** What a folder's Synced tree is recorded between. */
interface Binding {
  readonly server: string;
  readonly username: string;
  readonly local: string;
  readonly remote: string;
}

/**
 * The binding of `folder` as configured now, in the form `FolderState.bind` keeps: spelled so
 * that the same pair written another way (`HTTPS://Host:443`, a capital in the e-mail address,
 * an NFD path) is the same binding.
 */
export function bindingOf(folder: FolderConfig, server: ServerConfig): string {
  const binding: Binding = {
    server: serverOf(server.url),
    username: server.username.toLowerCase(),
    local: folder.localPath.normalize('NFC'),
    remote: folder.remotePath.normalize('NFC'),
  };
  return JSON.stringify(binding);
}

/** The server as a binding names it: credentials in its URL say nothing of which server it is. */
function serverOf(url: string): string {
  return new URL(withoutCredentials(url)).href;
}

/**
 * A Synced tree holds for the two folders it was recorded between. The config can come to pair
 * others under the same name: the same files at a new place (a drive mounted elsewhere, a
 * server behind a new address), or a partial copy, another server folder or another account,
 * against which the tree would take every difference for a delete or an edit made since. Which
 * one it is only the user knows, so the pass stops until told.
 */
export function bindingGuard(name: string, recorded: string | undefined, now: string): GuardTrip | undefined {
  if (recorded === undefined || recorded === now) return undefined;
  const stored = JSON.parse(recorded) as Binding;
  // Recorded before credentials in the URL were left out: the same server.
  const was = { ...stored, server: serverOf(stored.server) };
  const is = JSON.parse(now) as Binding;
  const changes: string[] = [];
  if (was.local !== is.local) changes.push(`local folder ${was.local} -> ${is.local}`);
  if (was.remote !== is.remote) changes.push(`server folder ${was.remote} -> ${is.remote}`);
  if (was.server !== is.server || was.username !== is.username) changes.push(`account ${was.username} on ${was.server} -> ${is.username} on ${is.server}`);
  if (changes.length === 0) return undefined;
  return {
    guard: 'binding',
    side: was.local !== is.local ? 'local' : 'remote',
    to: now,
    reason:
      `the config pairs other folders under this name than at its last sync (${changes.join('; ')}); ` +
      `if they hold the same files (moved or renamed), ${howToGoPast(name)}; ` +
      'if not, give the folder a new name, whose first sync merges both sides and deletes nothing',
  };
}

/** How a user goes past a guard's stop of folder `name`: the daemon holds the lock a --once would need. */
export function howToGoPast(name: string): string {
  return `run "cloudreve-sync resume ${name}" or sync --once --force`;
}
