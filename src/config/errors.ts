/** A problem with the configuration; the message names the file, the key and what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
