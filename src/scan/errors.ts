/** The `code` of a failed system call (ENOENT, EACCES, ...), or undefined for other errors. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A path that names nothing: missing, or below something that is not a folder. */
export function isNotThere(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function isPermissionDenied(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'EACCES' || code === 'EPERM';
}

/** A short description of a failed system call for a skip reason; the path is already known there. */
export function describeFsError(error: unknown): string {
  if (isPermissionDenied(error)) return 'permission denied';
  return errnoCode(error) ?? messageOf(error);
}

/** What a thrown value says, for a log line or a reason: its message, or the value itself. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Thrown when a scan stops because its AbortSignal fired; `cause` holds the signal's reason. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new AbortError(`the ${what} was aborted`, { cause: signal.reason });
}
