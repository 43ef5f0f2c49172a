import { randomInt } from 'node:crypto';

const alphanumeric = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Like Cloudreve's `util.RandStringRunes`: `length` characters from [0-9a-zA-Z]. */
export function randomString(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphanumeric[randomInt(alphanumeric.length)];
  return out;
}
