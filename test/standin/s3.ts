import { createHash, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import type { App } from './app.js';
import { completeUpload, takeCallbackSession } from './callbacks.js';
import { AppError, ok, type Reply } from './envelope.js';
import type { Ctx } from './route.js';
import type { Provider, SessionDraft } from './upload.js';

interface Part {
  readonly blob: string;
  readonly etag: string;
}

interface MultipartUpload {
  readonly key: string;
  readonly parts: Map<number, Part>;
}

const storagePrefix = '/__storage/s3/';

function s3Error(status: number, code: string, message: string): Reply {
  return {
    kind: 'plain',
    status,
    headers: { 'Content-Type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

const xmlEntities: Readonly<Record<string, string>> = { '&quot;': '"', '&apos;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };
const unescapeXml = (text: string): string => text.replace(/&(quot|apos|lt|gt|amp);/g, (entity) => xmlEntities[entity] ?? entity);

/** The `<Part>` list of a CompleteMultipartUpload body, or null when it is not one. */
function parseCompletion(xml: string): Array<{ number: number; etag: string }> | null {
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) return null;
  const parts: Array<{ number: number; etag: string }> = [];
  for (const [, inner = ''] of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const number = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (number === undefined || etag === undefined) return null;
    parts.push({ number: Number(number), etag: unescapeXml(etag).trim().replace(/^"|"$/g, '') });
  }
  return parts;
}

/**
 * The `s3` policy: one pre-signed UploadPart URL per chunk and a pre-signed
 * CompleteMultipartUpload URL, all hosted by the stand-in and checked like S3 checks them
 * (signature and expiry, Content-Length, part order and ETags); then the client's callback
 * compares the object's size with the session.
 */
export function s3Provider(app: App): Provider {
  const uploads = new Map<string, MultipartUpload>();

  const signed = (method: string, key: string, uploadId: string, partNumber: string): string =>
    `${method}\n${storagePrefix}${key}\n${uploadId}\n${partNumber}`;

  function presign(method: string, key: string, uploadId: string, partNumber: string, draft: SessionDraft): string {
    const query = new URLSearchParams(partNumber === '' ? { uploadId } : { partNumber, uploadId });
    query.set('X-Amz-Signature', app.signer.sign(signed(method, key, uploadId, partNumber), Math.floor(draft.expiresAt / 1000)));
    return `${app.siteUrl()}${storagePrefix}${key}?${query.toString()}`;
  }

  /** Signature, expiry and upload id, as S3 checks a pre-signed request. */
  function authorize(ctx: Ctx, method: string): { upload: MultipartUpload; uploadId: string } | Reply {
    const key = (ctx.params.key ?? '').slice(1);
    const uploadId = ctx.query.get('uploadId') ?? '';
    try {
      app.signer.check(signed(method, key, uploadId, ctx.query.get('partNumber') ?? ''), ctx.query.get('X-Amz-Signature') ?? '');
    } catch (error) {
      if (error instanceof AppError && error.code === 40005) return s3Error(403, 'AccessDenied', 'Request has expired');
      return s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    const upload = uploads.get(uploadId);
    if (upload?.key !== key) return s3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return { upload, uploadId };
  }

  async function uploadPart(ctx: Ctx): Promise<Reply> {
    const auth = authorize(ctx, 'PUT');
    if ('kind' in auth) return auth;
    const partNumber = Number(ctx.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      return s3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    }
    if (ctx.req.headers['content-length'] === undefined) return s3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    const blob = `${auth.upload.key}.part${partNumber}`;
    const hash = createHash('md5');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await app.blobs.write(blob, ctx.body(), false, [tap]);
    } catch {
      await app.blobs.discard(blob);
      return s3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    }
    const etag = hash.digest('hex');
    auth.upload.parts.set(partNumber, { blob, etag });
    return { kind: 'plain', status: 200, headers: { ETag: `"${etag}"` }, body: '' };
  }

  async function complete(ctx: Ctx): Promise<Reply> {
    const auth = authorize(ctx, 'POST');
    if ('kind' in auth) return auth;
    const listed = parseCompletion(await ctx.text());
    if (listed === null || listed.length === 0) {
      return s3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    if (listed.some((p, i) => i > 0 && p.number <= (listed[i - 1]?.number ?? 0))) {
      return s3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    }
    const parts = listed.map((p) => auth.upload.parts.get(p.number));
    if (parts.some((part, i) => part?.etag !== listed[i]?.etag)) {
      return s3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.');
    }
    const used = parts.flatMap((p) => p ?? []);
    await app.blobs.concat(auth.upload.key, used.map((p) => p.blob));
    await abort(auth.uploadId);
    const etag = createHash('md5').update(Buffer.concat(used.map((p) => Buffer.from(p.etag, 'hex')))).digest('hex');
    return {
      kind: 'plain',
      status: 200,
      headers: { 'Content-Type': 'application/xml' },
      body:
        '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>' +
        `<Location>${app.siteUrl()}${storagePrefix}${auth.upload.key}</Location><Bucket>cloudreve</Bucket>` +
        `<Key>${auth.upload.key}</Key><ETag>"${etag}-${used.length}"</ETag></CompleteMultipartUploadResult>`,
    };
  }

  function serialized(ctx: Ctx, handler: (ctx: Ctx) => Promise<Reply>): Promise<Reply> {
    return app.locks.run(`s3:${ctx.query.get('uploadId') ?? ''}`, () => handler(ctx));
  }

  async function abort(uploadId: string): Promise<void> {
    const upload = uploads.get(uploadId);
    uploads.delete(uploadId);
    for (const part of upload?.parts.values() ?? []) await app.blobs.discard(part.blob);
  }

  return {
    placeholderWithSize: false,
    token: (draft) => {
      const uploadId = randomBytes(16).toString('hex');
      uploads.set(uploadId, { key: draft.blob, parts: new Map() });
      const { chunkSize } = draft.policy;
      // `chunk.NewChunkGroup`: at least one part, even for an empty file.
      const count = chunkSize === 0 ? 1 : Math.max(1, Math.ceil(draft.size / chunkSize));
      return Promise.resolve({
        extras: {
          uploadURLs: Array.from({ length: count }, (_, i) => presign('PUT', draft.blob, uploadId, String(i + 1), draft)),
          uploadID: uploadId,
          completeURL: presign('POST', draft.blob, uploadId, '', draft),
        },
        cancel: () => abort(uploadId),
      });
    },
    routes: [
      // One request per multipart upload at a time, so a broken part's clean-up precedes its retry.
      { method: 'PUT', pattern: `${storagePrefix}*key`, scope: 'bare', chunk: true, handle: (ctx) => serialized(ctx, uploadPart) },
      { method: 'POST', pattern: `${storagePrefix}*key`, scope: 'bare', handle: (ctx) => serialized(ctx, complete) },
      {
        method: 'GET',
        pattern: '/api/v3/callback/s3/:sessionID',
        scope: 'api',
        handle: async (ctx) => {
          const session = takeCallbackSession(app, ctx.params.sessionID ?? '', 's3');
          if ((await app.blobs.size(session.blob)) !== session.size) throw new AppError(40055, '');
          await completeUpload(app, session, false);
          return ok();
        },
      },
    ],
  };
}
