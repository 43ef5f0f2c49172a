/**
 * Turns "bytes sent so far" reports of possibly repeated requests into the deltas of the
 * TransferOptions contract: bytes re-sent by a retry are not counted twice, and the sum of all
 * deltas is the source size once the transfer succeeded.
 */
export class ProgressTracker {
  private reported = 0;

  constructor(private readonly onProgress: ((bytes: number) => void) | undefined) {}

  /** Everything before `position` of the source has been transferred. */
  reach(position: number): void {
    if (position <= this.reported) return;
    const delta = position - this.reported;
    this.reported = position;
    this.onProgress?.(delta);
  }
}
