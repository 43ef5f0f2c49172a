import { createHmac } from 'node:crypto';

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(secret: string): Buffer | null {
  const clean = secret.trim().toUpperCase().replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = base32Alphabet.indexOf(ch);
    if (index < 0) return null;
    // Only the bits not yet emitted matter; keep the accumulator small.
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function hotp(key: Buffer, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** pquerna/otp `totp.Validate`: SHA1, 6 digits, 30 s period, one step of skew either way. */
export function verifyTotp(secret: string, code: string, nowMs: number): boolean {
  const key = base32Decode(secret);
  if (key === null || !/^\d{6}$/.test(code)) return false;
  const counter = Math.floor(nowMs / 30_000);
  return [counter - 1, counter, counter + 1].some((c) => hotp(key, c) === code);
}
