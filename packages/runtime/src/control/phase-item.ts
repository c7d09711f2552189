/**
 * The phase item of the control table (`PHASE` / `CURRENT`: the phase, its settings, its version and who changed it
 * last), written and read.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { isPhase, PHASES, type Phase } from "../phases.ts";
import { PhaseControlError } from "./phase-errors.ts";
import { DEFAULT_PHASE_SETTINGS, type PhaseSettings, type PhaseState } from "./phase-state.ts";
import { type ControlItem, type ControlKey, controlKey } from "./table.ts";

/** The item holding the current phase, its settings and its version. */
export const PHASE_ITEM_KEY: ControlKey = { pk: "PHASE", sk: "CURRENT" };

export function stateToItem(state: PhaseState): ControlItem {
  const item: ControlItem = {
    ...controlKey(PHASE_ITEM_KEY),
    phase: { N: String(state.phase) },
    version: { N: String(state.version) },
    shadowSampleRate: { N: String(state.shadowSampleRate) },
    mismatchThreshold: { N: String(state.mismatchThreshold) },
    minComparisons: { N: String(state.minComparisons) },
  };
  if (state.updatedAt !== undefined) item.updatedAt = { S: state.updatedAt };
  if (state.updatedBy !== undefined) item.updatedBy = { S: state.updatedBy };
  if (state.dualWriteSince !== undefined) item.dualWriteSince = { N: String(state.dualWriteSince) };
  if (state.pending !== undefined) {
    const pending: ControlItem = {
      to: { N: String(state.pending.to) },
      deadline: { S: state.pending.deadline },
      by: { S: state.pending.by },
      forced: { BOOL: state.pending.forced },
    };
    if (state.pending.reason !== undefined) pending.reason = { S: state.pending.reason };
    item.pending = { M: pending };
  }
  return item;
}

export function stateFromItem(item: ControlItem): PhaseState {
  const phase = storedPhase(item.phase);
  const state: PhaseState = {
    phase,
    flags: { ...PHASES[phase].flags },
    ...storedSettings(item),
    version: Number(item.version?.N ?? 0),
  };
  if (item.updatedAt?.S !== undefined) state.updatedAt = item.updatedAt.S;
  if (item.updatedBy?.S !== undefined) state.updatedBy = item.updatedBy.S;
  if (item.dualWriteSince?.N !== undefined) state.dualWriteSince = Number(item.dualWriteSince.N);
  const pending = item.pending?.M;
  if (pending !== undefined) {
    state.pending = {
      to: storedPhase(pending.to),
      deadline: pending.deadline?.S ?? "",
      by: pending.by?.S ?? "",
      forced: pending.forced?.BOOL === true,
    };
    if (pending.reason?.S !== undefined) state.pending.reason = pending.reason.S;
  }
  return state;
}

/** A stored phase number; an error (not a guess) when it is not one. */
export function storedPhase(value: AttributeValue | undefined): Phase {
  const phase = Number(value?.N);
  if (!isPhase(phase)) {
    throw new PhaseControlError(`the control table holds phase ${String(value?.N)}, which is not a phase`);
  }
  return phase;
}

/** Stored settings, each one absent taking its default. */
export function storedSettings(item: ControlItem): PhaseSettings {
  const number = (value: AttributeValue | undefined, fallback: number) =>
    value?.N === undefined ? fallback : Number(value.N);
  return {
    shadowSampleRate: number(item.shadowSampleRate, DEFAULT_PHASE_SETTINGS.shadowSampleRate),
    mismatchThreshold: number(item.mismatchThreshold, DEFAULT_PHASE_SETTINGS.mismatchThreshold),
    minComparisons: number(item.minComparisons, DEFAULT_PHASE_SETTINGS.minComparisons),
  };
}
