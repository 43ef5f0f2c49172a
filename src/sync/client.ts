import { readFileSync } from 'node:fs';
import { CloudreveV3, withoutCredentials, type RequestEvent } from '../cloudreve/index.js';
import { ConfigError } from '../config/errors.js';
import type { ServerConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Db } from '../state/database.js';
import { sessionStore } from '../state/sessions.js';

/** The Cloudreve client for the configured server, keeping its session in the state database. */
export function createClient(server: ServerConfig, db: Db, logger: Logger, onRequest?: (event: RequestEvent) => void): CloudreveV3 {
  return new CloudreveV3({
    url: server.url,
    username: server.username,
    password: server.password,
    ...(server.totpSecret === undefined ? {} : { totpSecret: server.totpSecret }),
    timeouts: server.timeouts,
    tls: { insecureSkipVerify: server.tls.insecureSkipVerify, ...(server.tls.ca === undefined ? {} : { ca: readCa(server.tls.ca) }) },
    // Keyed without a proxy's user and password, which would be stored with it.
    sessionStore: sessionStore(db, withoutCredentials(server.url), server.username),
    logger,
    ...(onRequest ? { onRequest } : {}),
  });
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`server.tls.ca: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
