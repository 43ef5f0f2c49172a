import { protocolError, providerStatusError } from '../failures.js';
import { failureContext, serverUrl, type HttpRequest } from '../http.js';
import { required } from './credential.js';
import { providerFetch } from './provider.js';
import type { ChunkSender, SenderContext } from './types.js';

/**
 * S3 policy: one pre-signed URL per part, the parts' ETags go into the "complete multipart upload"
 * call, then Cloudreve is asked to check the object and promote the file.
 */
export function s3Sender(ctx: SenderContext): ChunkSender {
  const partUrls = required(ctx.credential.uploadURLs, 'uploadURLs', ctx);
  const completeUrl = serverUrl(ctx.baseUrl, required(ctx.credential.completeURL, 'completeURL', ctx));
  const sessionId = ctx.credential.sessionID;
  const etags: string[] = [];
  return {
    chunkZeroResendable: true,
    send: async (chunk, onSent) => {
      const request: HttpRequest = {
        method: 'PUT',
        url: serverUrl(ctx.baseUrl, required(partUrls[chunk.index], `uploadURLs[${chunk.index}]`, ctx)),
        route: 'PUT <s3 part>',
        body: { source: ctx.source, start: chunk.start, end: chunk.end },
        signal: ctx.signal,
        target: ctx.target,
        onUploadProgress: onSent,
      };
      const response = await providerFetch(ctx.transport, request);
      const etag = response.headers.etag;
      if (etag === undefined) throw protocolError('The storage answered a part upload without an ETag', failureContext(request), response.status);
      etags[chunk.index] = etag;
    },
    finish: async () => {
      const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`);
      const request: HttpRequest = {
        method: 'POST',
        url: completeUrl,
        route: 'POST <s3 complete>',
        headers: { 'content-type': 'application/xml' },
        text: `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`,
        signal: ctx.signal,
        target: ctx.target,
      };
      const response = await providerFetch(ctx.transport, request);
      // S3 may report a failed completion inside a 200 answer.
      if (response.body.includes('<Error>')) throw providerStatusError(response.status, response.body, failureContext(request));
      await ctx.api.run({
        method: 'GET',
        route: '/callback/s3/:sessionId',
        path: `/callback/s3/${encodeURIComponent(sessionId)}`,
        idempotent: false,
        target: ctx.target,
        signal: ctx.signal,
      });
    },
  };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
