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
