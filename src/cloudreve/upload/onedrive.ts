import { serverUrl, type HttpRequest } from '../http.js';
import { required } from './credential.js';
import { providerFetch } from './provider.js';
import type { ChunkSender, SenderContext } from './types.js';

/**
 * OneDrive policy: chunks go to the Microsoft Graph upload session as byte ranges; the client then
 * asks Cloudreve to check the result and promote the file. Graph refuses empty sessions, so empty
 * files never get here (the client creates them with `POST /file/create`).
 */
export function oneDriveSender(ctx: SenderContext): ChunkSender {
  const endpoint = serverUrl(ctx.baseUrl, required(ctx.credential.uploadURLs?.[0], 'uploadURLs', ctx));
  const sessionId = ctx.credential.sessionID;
  return {
    // Graph accepts a range again as long as the session has not moved past it.
    chunkZeroResendable: true,
    send: async (chunk, onSent) => {
      const request: HttpRequest = {
        method: 'PUT',
        url: endpoint,
        route: 'PUT <onedrive upload session>',
        headers: { 'content-range': `bytes ${chunk.start}-${chunk.end - 1}/${ctx.source.size}` },
        body: { source: ctx.source, start: chunk.start, end: chunk.end },
        signal: ctx.signal,
        target: ctx.target,
        onUploadProgress: onSent,
      };
      await providerFetch(ctx.transport, request);
    },
    finish: () =>
      ctx.api.run({
        method: 'POST',
        route: '/callback/onedrive/finish/:sessionId',
        path: `/callback/onedrive/finish/${encodeURIComponent(sessionId)}`,
        json: {},
        // The callback consumes the upload session: a second call can only fail.
        idempotent: false,
        target: ctx.target,
        signal: ctx.signal,
      }),
  };
}
