/** The shared phase and the settings that come with it, as the whole fleet sees them. */
import { PHASES, type Phase, type PhaseFlags } from "../phases.ts";

/** The settings that come with the phase. */
export interface PhaseSettings {
  /** The share of phase-3 reads that are also read from the other store and compared, 0..1. */
  shadowSampleRate: number;
  /** 3 -> 4 needs the shadow mismatch rate (mismatches / comparisons) below this, 0..1. */
  mismatchThreshold: number;
  /** 3 -> 4 needs at least this many shadow comparisons. */
  minComparisons: number;
}

export const DEFAULT_PHASE_SETTINGS: Readonly<PhaseSettings> = Object.freeze({
  shadowSampleRate: 1,
  mismatchThreshold: 0.001,
  minComparisons: 1000,
});

/** The shared phase as stored: phase 1, version 0 and the default settings when nothing was ever stored. */
export interface PhaseState extends PhaseSettings {
  phase: Phase;
  flags: PhaseFlags;
  /** Grows by one with every change (phase or settings); 0 when nothing was ever stored. */
  version: number;
  /** ISO-8601, of the last change. */
  updatedAt?: string;
  /** Who made the last change. */
  updatedBy?: string;
  /**
   * The version at which the current run of dual writes began (the move out of phase 1); absent in phase 1. A backfill
   * or validation counts only when made in this run: after 2 -> 1 -> 2 the stores have drifted apart again.
   */
  dualWriteSince?: number;
  /** A move that changes the authoritative store, announced and not yet committed or cancelled. */
  pending?: PendingMove;
}

/**
 * A move announced on the phase item (docs/architecture.md, "Phases"): every process holds new writes and acks in its
 * heartbeat; the mover commits once all have, before `deadline`, or the move is cancelled.
 */
export interface PendingMove {
  /** The phase the move goes to. */
  to: Phase;
  /** ISO-8601. After it, the move is off: a process still holding writes cancels it (compare-and-set) and resumes. */
  deadline: string;
  /** Who moves. */
  by: string;
  forced: boolean;
  reason?: string;
}

/** What the phase is before anything was ever stored. */
export function initialState(): PhaseState {
  return { phase: 1, flags: { ...PHASES[1].flags }, ...DEFAULT_PHASE_SETTINGS, version: 0 };
}

export function settingsOf(state: PhaseSettings): PhaseSettings {
  return {
    shadowSampleRate: state.shadowSampleRate,
    mismatchThreshold: state.mismatchThreshold,
    minComparisons: state.minComparisons,
  };
}

export function sameSettings(a: PhaseSettings, b: PhaseSettings): boolean {
  return (
    a.shadowSampleRate === b.shadowSampleRate &&
    a.mismatchThreshold === b.mismatchThreshold &&
    a.minComparisons === b.minComparisons
  );
}

/** Why a value is not acceptable for a setting, or undefined. */
export function settingProblem(name: keyof PhaseSettings, value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a number, got ${String(value)}`;
  if (name === "minComparisons") {
    return Number.isSafeInteger(value) && value >= 0
      ? undefined
      : `minComparisons must be a whole number of 0 or more, got ${value}`;
  }
  return value >= 0 && value <= 1 ? undefined : `${name} must be from 0 to 1, got ${value}`;
}
