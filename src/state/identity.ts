import { prepared, type Db } from './database.js';

/**
 * A random ID the state database got when it was created. A daemon names it in its status
 * server's answers, so that the CLI acts on its own daemon only: two installs on one machine
 * may share the default status address, where one of them answers while the other's status
 * server is off.
 */
export function stateIdentity(db: Db): string {
  const row = prepared<[], { id: string }>(db, 'SELECT id FROM identity').get();
  if (row === undefined) throw new Error('the state database has no identity row');
  return row.id;
}
