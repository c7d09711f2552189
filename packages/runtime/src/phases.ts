/**
 * The five migration phases (docs/architecture.md, "Phases") and the flags each one implies.
 * Everything that routes reads and writes derives its behaviour from this one table.
 */

export type Phase = 1 | 2 | 3 | 4 | 5;
/** The two stores a migration moves between. */
export type StoreName = "mysql" | "dynamodb";

export interface PhaseFlags {
  WRITE_MYSQL: boolean;
  WRITE_DDB: boolean;
  READ_MYSQL: boolean;
  READ_DDB: boolean;
}

export interface PhaseDefinition {
  phase: Phase;
  name: string;
  flags: PhaseFlags;
  /** Written first and served to the user; the other store is secondary. */
  authoritative: StoreName;
  /** Phase 3: the non-authoritative store is read too, and compared, never served. */
  shadowRead: boolean;
}

export const PHASES: Readonly<Record<Phase, PhaseDefinition>> = {
  1: {
    phase: 1,
    name: "MySQL only",
    flags: { WRITE_MYSQL: true, WRITE_DDB: false, READ_MYSQL: true, READ_DDB: false },
    authoritative: "mysql",
    shadowRead: false,
  },
  2: {
    phase: 2,
    name: "dual write, MySQL read",
    flags: { WRITE_MYSQL: true, WRITE_DDB: true, READ_MYSQL: true, READ_DDB: false },
    authoritative: "mysql",
    shadowRead: false,
  },
  3: {
    phase: 3,
    name: "dual write, shadow read",
    flags: { WRITE_MYSQL: true, WRITE_DDB: true, READ_MYSQL: true, READ_DDB: true },
    authoritative: "mysql",
    shadowRead: true,
  },
  4: {
    phase: 4,
    name: "dual write, DynamoDB read",
    flags: { WRITE_MYSQL: true, WRITE_DDB: true, READ_MYSQL: false, READ_DDB: true },
    authoritative: "dynamodb",
    shadowRead: false,
  },
  5: {
    phase: 5,
    name: "DynamoDB only",
    flags: { WRITE_MYSQL: false, WRITE_DDB: true, READ_MYSQL: false, READ_DDB: true },
    authoritative: "dynamodb",
    shadowRead: false,
  },
};

export function isPhase(value: unknown): value is Phase {
  return value === 1 || value === 2 || value === 3 || value === 4 || value === 5;
}

/** The other store of the two. */
export function otherStore(store: StoreName): StoreName {
  return store === "mysql" ? "dynamodb" : "mysql";
}

/** The store written second in this phase (the outbox's target), or undefined when only one is written. */
export function secondaryStore(phase: Phase): StoreName | undefined {
  return writeTargets(phase)[1];
}

/** The stores a write goes to in this phase, authoritative first. */
export function writeTargets(phase: Phase): StoreName[] {
  const { flags, authoritative } = PHASES[phase];
  const targets: StoreName[] = [];
  if (flags.WRITE_MYSQL) targets.push("mysql");
  if (flags.WRITE_DDB) targets.push("dynamodb");
  return targets.sort((a, b) => Number(b === authoritative) - Number(a === authoritative));
}

/** One write as its phase source let it start: the phase it runs under, and the call that says it has finished. */
export interface WriteTicket {
  readonly phase: Phase;
  /** Called once, when the write has finished on every store it writes (or its secondary write is on record). */
  done(): void;
}

/** Where the router reads the current phase from: the shared, cached phase (CachedPhase) or a fixed one. */
export interface PhaseSource {
  phase(): Phase;
  /**
   * Called by the router before each write; resolves with the phase the write runs under. The write calls done() when
   * it has finished. A source may hold writes back (a move that changes the authoritative store waits until the writes
   * started under the old phase have finished) or refuse them (a process that lost touch with the control table).
   * Without it, a write runs under phase() and nothing waits for it.
   */
  beginWrite?(): Promise<WriteTicket>;
  /**
   * Called by the outbox before it replays a key: the phase the replay runs under, counted like a write in flight (a
   * move waits for it) but never held (the move waits for the outbox to drain, which takes these replays). Throws when
   * the process must not write.
   */
  beginReplay?(): WriteTicket;
}

/** A phase that never changes (tests, scripts, a repository over one store). */
export class FixedPhase implements PhaseSource {
  constructor(private readonly value: Phase) {}
  phase(): Phase {
    return this.value;
  }
}
