/**
 * The backfill's live progress, read once per tick for every open event stream: one poller runs while at least one
 * stream listens, however many tabs are open, and stops when the last one goes.
 */
import type { BackfillLedger, RunReport } from "@ferry/runtime";

/** What a tick read: the open run, and the run that was open at the tick before and is not any more (with its end). */
export interface ProgressSnapshot {
  current?: RunReport;
  ended?: RunReport;
}

type Listener = (snapshot: ProgressSnapshot) => void;

export class ProgressFeed {
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private lastOpen: string | undefined;

  constructor(
    private readonly backfill: BackfillLedger,
    private readonly everyMs: number,
    private readonly log: (message: string, error?: unknown) => void,
  ) {}

  /** How many streams listen now. */
  get listening(): number {
    return this.listeners.size;
  }

  /** Calls `listener` with every tick's snapshot until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.running) {
      this.running = true;
      void this.tick();
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  private async tick(): Promise<void> {
    if (this.listeners.size === 0) {
      this.running = false;
      this.lastOpen = undefined;
      return;
    }
    try {
      const current = await this.backfill.current();
      let ended: RunReport | undefined;
      if (this.lastOpen !== undefined && current?.id !== this.lastOpen) {
        ended = await this.backfill.progress(this.lastOpen);
      }
      this.lastOpen = current?.id;
      const snapshot: ProgressSnapshot = {
        ...(current === undefined ? {} : { current }),
        ...(ended === undefined ? {} : { ended }),
      };
      for (const listener of [...this.listeners]) listener(snapshot);
    } catch (error) {
      this.log("the backfill's progress could not be read", error);
    }
    this.timer = setTimeout(() => void this.tick(), this.everyMs);
    this.timer.unref?.();
  }

  /** Stops polling (the listeners get nothing more). */
  close(): void {
    clearTimeout(this.timer);
    this.listeners.clear();
    this.running = false;
  }
}
