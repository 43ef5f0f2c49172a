import Database from 'better-sqlite3';
import { migrations } from '../../src/state/migrations.js';

/** A state database at `file` as a release with the first `version` migrations left it. */
export function databaseAtSchema(file: string, version: number): Database.Database {
  const db = new Database(file);
  for (const migration of migrations.slice(0, version)) {
    if (typeof migration === 'string') db.exec(migration);
    else migration(db);
  }
  db.pragma(`user_version = ${version}`);
  return db;
}
