/** The journey's shared shapes (journey.ts makes them, report.ts writes them). */

/** How often each store process of the journey reads the phase and writes its heartbeat (its write lease's beat). */
export const STORE_REFRESH_MS = 500;

export interface JourneyOptions {
  users: number;
  products: number;
  orders: number;
  seed: number;
  /** Seconds of load in each phase (phase 3 lasts until the shadow reads have compared enough). */
  phaseSeconds: number;
  /** Store processes in the fleet. */
  stores: number;
  /** Load connections per store process. */
  connections: number;
  /**
   * The load's requests per second, all store processes together (spread evenly over them): a whole number, at least
   * one for each connection (`stores` x `connections`); undefined: as fast as the stores answer.
   */
  rate?: number;
  /** Run the same load without a migration first. */
  control: boolean;
  /**
   * Faults, each at a random moment of its phase (from `seed`): DynamoDB Local killed for 10 s in phase 2, the
   * backfill worker killed (SIGKILL) and run again, a store process restarted during 3 -> 4, MySQL restarted in 4.
   */
  faults: boolean;
  /**
   * Milliseconds the whole journey may take: past it the journey stops everything it started (the load, the fleet,
   * the stack) and reports that it did not finish.
   */
  deadlineMs: number;
  /** Aborted (Ctrl-C, SIGTERM), the journey stops everything it started, as at its deadline, and reports that. */
  signal?: AbortSignal;
  /** The folder the report and the load's files go to. */
  out: string;
  say: (line: string) => void;
}

export interface TimelineEvent {
  /** ms since the epoch. */
  at: number;
  kind: "phase" | "step" | "fault" | "check";
  text: string;
}

export interface ValidationJson {
  clean: boolean;
  totals: { rows: number; items: number; markers: number; differences: number; matched: number };
  entities: Array<{ entity: string; rows: number; items: number; matched: number; missing: number; extra: number }>;
}

export interface OutboxSample {
  at: number;
  depth: number;
  phase: number;
}
