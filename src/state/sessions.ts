import type { Db } from './database.js';

/** Persists one login session per server and user, so a restart does not log in again. */
export interface StoredSession {
  load(): string | undefined;
  save(serialized: string | undefined): void;
}

export function sessionStore(db: Db, serverUrl: string, username: string, now: () => number = Date.now): StoredSession {
  const key = `${serverUrl} ${username}`;
  const select = db.prepare<[string], { value: string }>('SELECT value FROM sessions WHERE key = ?');
  const upsert = db.prepare<[string, string, number]>(
    'INSERT INTO sessions (key, value, updated_ms) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms',
  );
  const remove = db.prepare<[string]>('DELETE FROM sessions WHERE key = ?');
  return {
    load: () => select.get(key)?.value,
    save: (serialized) => {
      if (serialized === undefined) remove.run(key);
      else upsert.run(key, serialized, now());
    },
  };
}
