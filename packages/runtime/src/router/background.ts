/**
 * Secondary copies that run after their write has answered. A dual write's request waits for the authoritative write
 * only; its copy to the other store (with the check that makes it converge, ./converge.ts) goes on in the background,
 * since the write's intent, recorded durably with the authoritative write (outbox/intents.ts), already covers a process
 * that dies before the copy lands: any process replays it after the intent's grace. The write's ticket stays open
 * until the copy has finished, so a phase move and a stopping process wait for it as for any write in flight.
 *
 * At most `limit` copies run so; a write beyond that waits for its own copy before it answers, as without them: a
 * secondary store slower than the traffic slows the requests down instead of piling copies up in memory.
 */

/** The default number of copies a FleetMember lets run after their writes have answered. */
export const DEFAULT_BACKGROUND_COPIES = 64;

export class BackgroundCopies {
  private readonly running = new Set<Promise<void>>();

  /** `limit` copies at most in the background (0: every write waits for its copy). */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`the background copies' limit must be a whole number >= 0, got ${limit}`);
    }
  }

  /** Copies running in the background now. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Runs `copy` in the background and returns its promise, which never rejects (`copy` hands its own failures to the
   * outbox; anything else is told on the console), or undefined when `limit` copies already run (the caller then copies
   * before it answers).
   */
  start(copy: () => Promise<void>): Promise<void> | undefined {
    if (this.running.size >= this.limit) return undefined;
    const running = copy()
      .catch((error: unknown) => {
        console.error("ferry: a secondary copy running in the background failed", error);
      })
      .finally(() => {
        this.running.delete(running);
      });
    this.running.add(running);
    return running;
  }

  /** Resolves once every copy running in the background now (and any started meanwhile) has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
