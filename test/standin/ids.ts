import Hashids from 'hashids';

/** Type codes of pkg/hashid/hash.go; every id encodes [databaseId, typeCode]. */
export const IdType = { share: 0, user: 1, file: 2, folder: 3, tag: 4, policy: 5, sourceLink: 6 } as const;
export type IdType = (typeof IdType)[keyof typeof IdType];

/** hashids with the default alphabet and MinLength 0, as go-hashids is configured by Cloudreve. */
export class IdCodec {
  readonly #hashids: Hashids;

  constructor(salt: string) {
    this.#hashids = new Hashids(salt, 0);
  }

  encode(id: number, type: IdType): string {
    return this.#hashids.encode([id, type]);
  }

  /** `hashid.DecodeHashID`: exactly two numbers and the expected type, else null. */
  decode(hash: string, type: IdType): number | null {
    let parts: unknown[];
    try {
      parts = this.#hashids.decode(hash);
    } catch {
      return null;
    }
    const [id, kind] = parts;
    if (parts.length !== 2 || kind !== type || typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
    return id;
  }
}
