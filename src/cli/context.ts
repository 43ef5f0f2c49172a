import type { CloudreveV3 } from '../cloudreve/index.js';
import { loadConfig, type Config } from '../config/load.js';
import type { LogLevel } from '../config/schema.js';
import { createLogger, type Logger } from '../log/logger.js';
import { openDatabase, type Db } from '../state/database.js';
import { createClient } from '../sync/client.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly logLevel?: LogLevel;
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
    this.#config ??= this.reloadConfig();
    return this.#config;
  }

  /** Reads the config file again, as at start (for SIGHUP). */
  reloadConfig(): Config {
    return loadConfig(this.options.config === undefined ? {} : { path: this.options.config });
  }

  get logger(): Logger {
    if (this.#logger === undefined) {
      const { log } = this.config;
      this.#logger = createLogger({ level: this.options.logLevel ?? log.level, ...(log.format === 'auto' ? {} : { pretty: log.format === 'pretty' }) });
    }
    return this.#logger;
  }

  /** Logs a failure with its stack at debug level, when there is a config to log by (it may be what failed). */
  logFailure(error: Error): void {
    try {
      this.logger.debug({ err: error }, 'the command failed');
    } catch {
      // Without a config there is no log: the one line on stderr is all there is.
    }
  }

  get db(): Db {
    this.#db ??= openDatabase(this.config.stateDir);
    return this.#db;
  }

  get client(): CloudreveV3 {
    this.#client ??= createClient(this.config.server, this.db, this.logger);
    return this.#client;
  }

  close(): void {
    this.#client?.close();
    this.#db?.close();
  }
}
