import { readFileSync } from 'node:fs';
import { CloudreveV3 } from '../cloudreve/index.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import { createLogger, type Logger } from '../log/logger.js';
import { openDatabase, type Db } from '../state/database.js';
import { sessionStore } from '../state/sessions.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly logLevel?: string;
}

/**
 * What a command needs, built on first use so that `--help` or a config error never opens a
 * database or a connection.
 */
export class CommandContext {
  #config: Config | undefined;
  #logger: Logger | undefined;
  #db: Db | undefined;
  #client: CloudreveV3 | undefined;

  constructor(private readonly options: GlobalOptions) {}

  get config(): Config {
    this.#config ??= loadConfig(this.options.config === undefined ? {} : { path: this.options.config });
    return this.#config;
  }

  get logger(): Logger {
    if (this.#logger === undefined) {
      const { log } = this.config;
      const level = (this.options.logLevel ?? log.level) as Config['log']['level'];
      this.#logger = createLogger({ level, ...(log.format === 'auto' ? {} : { pretty: log.format === 'pretty' }) });
    }
    return this.#logger;
  }

  get db(): Db {
    this.#db ??= openDatabase(this.config.stateDir);
    return this.#db;
  }

  get client(): CloudreveV3 {
    if (this.#client === undefined) {
      const { server } = this.config;
      this.#client = new CloudreveV3({
        url: server.url,
        username: server.username,
        password: server.password,
        ...(server.totpSecret === undefined ? {} : { totpSecret: server.totpSecret }),
        timeouts: server.timeouts,
        tls: { insecureSkipVerify: server.tls.insecureSkipVerify, ...(server.tls.ca === undefined ? {} : { ca: readCa(server.tls.ca) }) },
        sessionStore: sessionStore(this.db, server.url, server.username),
        logger: this.logger,
      });
    }
    return this.#client;
  }

  close(): void {
    this.#client?.close();
    this.#db?.close();
  }
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`server.tls.ca: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
