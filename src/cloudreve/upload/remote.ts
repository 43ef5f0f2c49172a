import { codeError } from '../failures.js';
import { failureContext, serverUrl, type HttpRequest } from '../http.js';
import { required } from './credential.js';
import type { ChunkSender, SenderContext } from './types.js';

/**
 * Remote (slave node) policy: chunks go straight to the slave, authorised by the credential of the
 * session. The slave reports completion to the master itself.
 */
export function slaveSender(ctx: SenderContext): ChunkSender {
  const endpoint = required(ctx.credential.uploadURLs?.[0], 'uploadURLs', ctx);
  const authorization = required(ctx.credential.credential, 'credential', ctx);
  return {
    chunkZeroResendable: false,
    send: async (chunk, onSent) => {
      const url = serverUrl(ctx.baseUrl, endpoint);
      url.searchParams.set('chunk', String(chunk.index));
      // No X-Cr-* headers: the slave would count them into the signature it checks.
      const request = {
        method: 'POST' as const,
        url,
        route: 'POST /api/v3/slave/upload/:sessionId',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        body: { source: ctx.source, start: chunk.start, end: chunk.end },
        signal: ctx.signal,
        target: ctx.target,
        onUploadProgress: onSent,
      } satisfies HttpRequest;
      const { envelope, status } = await ctx.transport.envelope(request);
      if (envelope.code !== 0) throw codeError(envelope, failureContext(request), { status });
    },
    finish: async () => {},
  };
}
