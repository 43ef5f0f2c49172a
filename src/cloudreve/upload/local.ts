import type { ChunkSender, SenderContext } from './types.js';

/** Local policy: chunks go to the Cloudreve server itself, strictly in order; the last one completes the file. */
export function localSender(ctx: SenderContext): ChunkSender {
  const sessionId = ctx.credential.sessionID;
  return {
    chunkZeroResendable: false,
    send: (chunk, onSent) =>
      ctx.api.run({
        method: 'POST',
        route: '/file/upload/:sessionId/:index',
        path: `/file/upload/${encodeURIComponent(sessionId)}/${chunk.index}`,
        headers: { 'content-type': 'application/octet-stream' },
        body: { source: ctx.source, start: chunk.start, end: chunk.end },
        // The upload driver decides about re-sending chunks: only it knows the chunk-0 rule.
        idempotent: false,
        target: ctx.target,
        signal: ctx.signal,
        onUploadProgress: onSent,
      }),
    finish: async () => {},
  };
}
