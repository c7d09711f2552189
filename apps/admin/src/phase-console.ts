/**
 * What the phase page shows and does, from the runtime's own functions (the same PhaseStore, guard rails and outbox
 * count as `ferry phase get | set | fleet`): no rule lives here, only the shape the page and the API answer with.
 */
import {
  type FleetView,
  PHASES,
  type Phase,
  PhaseChangeRefused,
  PhaseConflict,
  PhaseMoveTimedOut,
  type PhaseState,
  type PhaseStore,
  type StoreName,
} from "@ferry/runtime";
import { AdminError } from "./errors.ts";

export interface MoveView {
  to: Phase;
  direction: "forward" | "back";
  /** Each precondition of the move as checked now: met or not, and why. */
  preconditions: Array<{ name: string; met: boolean; reason: string }>;
  /** Every precondition is met (else only a forced move, with a reason, goes). */
  ready: boolean;
  /** 4 -> 5, the point of no return: the phase number must be typed to confirm. */
  typeToConfirm: boolean;
}

export interface PhaseView {
  phase: Phase;
  name: string;
  version: number;
  flags: PhaseState["flags"];
  authoritative: StoreName;
  updatedAt?: string;
  updatedBy?: string;
  pending?: PhaseState["pending"];
  fleet: FleetView;
  moves: MoveView[];
}

/** The moves a step at a time allows from `phase` (nothing leaves 5). */
export function nextPhases(phase: Phase): Phase[] {
  if (phase === 5) return [];
  const moves: Phase[] = [];
  if (phase > 1) moves.push((phase - 1) as Phase);
  moves.push((phase + 1) as Phase);
  return moves;
}

export async function phaseView(store: PhaseStore): Promise<PhaseView> {
  const state = await store.get();
  const [fleet, moves] = await Promise.all([
    store.fleet(),
    Promise.all(
      nextPhases(state.phase).map(async (to): Promise<MoveView> => {
        const checks = await store.preconditions(to, state);
        const preconditions = checks.map(({ name, met, reason }) => ({ name, met, reason }));
        return {
          to,
          direction: to > state.phase ? "forward" : "back",
          preconditions,
          ready: preconditions.every((check) => check.met),
          typeToConfirm: to === 5,
        };
      }),
    ),
  ]);
  return {
    phase: state.phase,
    name: PHASES[state.phase].name,
    version: state.version,
    flags: state.flags,
    authoritative: PHASES[state.phase].authoritative,
    ...(state.updatedAt === undefined ? {} : { updatedAt: state.updatedAt }),
    ...(state.updatedBy === undefined ? {} : { updatedBy: state.updatedBy }),
    ...(state.pending === undefined ? {} : { pending: state.pending }),
    fleet,
    moves,
  };
}

export interface MoveRequest {
  to?: unknown;
  /** The version the operator decided on (compare-and-set). */
  version?: unknown;
  force?: unknown;
  reason?: unknown;
  /** For 4 -> 5: the phase number, typed. */
  confirmPhase?: unknown;
}

/** A whole number from JSON (a number) or a form (digits only); undefined for anything else. */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === "string" && /^[0-9]{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/** Checks a move request's fields: AdminError 400 with a message per field when one will not do. */
export function readMoveRequest(input: MoveRequest): {
  to: Phase;
  version: number;
  force: boolean;
  reason?: string;
  confirmed: boolean;
} {
  const fields: Record<string, string> = {};
  const to = wholeNumber(input.to);
  if (to === undefined || to < 1 || to > 5) fields.to = "Choose a phase from 1 to 5.";
  const version = wholeNumber(input.version);
  if (version === undefined) fields.version = "The phase version you decided on is missing.";
  const force = input.force === true || input.force === "on" || input.force === "true";
  const reason = typeof input.reason === "string" ? input.reason.trim() : "";
  if (force && reason === "") fields.reason = "A forced move needs a reason (it goes into the audit log).";
  if (reason.length > 500) fields.reason = "Keep the reason under 500 characters.";
  const confirmed = String(input.confirmPhase ?? "").trim() === "5";
  if (to === 5 && !confirmed) {
    fields.confirmPhase = "Phase 5 is the point of no return: type 5 to confirm.";
  }
  if (Object.keys(fields).length > 0) throw new AdminError(400, "invalid", "The move was not made.", fields);
  return { to: to as Phase, version: version as number, force, ...(reason === "" ? {} : { reason }), confirmed };
}

/** Makes the move as `who`, under the guard rails; refusals and lost races become AdminErrors (409). */
export async function movePhase(store: PhaseStore, who: string, request: ReturnType<typeof readMoveRequest>) {
  try {
    return await store.set(request.to, {
      who,
      force: request.force,
      confirm: request.confirmed,
      expectedVersion: request.version,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    });
  } catch (error) {
    if (error instanceof PhaseChangeRefused) {
      throw new AdminError(409, "refused", `Phase ${error.from} -> ${error.to} refused: ${error.reasons.join("; ")}.`);
    }
    if (error instanceof PhaseConflict) {
      throw new AdminError(
        409,
        "conflict",
        `Someone else changed the phase first (it is now phase ${error.current.phase}, version ${error.current.version}); nothing was written. Look again and decide.`,
      );
    }
    if (error instanceof PhaseMoveTimedOut) {
      throw new AdminError(
        409,
        "fleet_not_ready",
        error.announced
          ? `Phase ${error.from} -> ${error.to} cancelled: not every process was ready in time (${error.waitingFor.join("; ")}). The phase stays ${error.from}.`
          : `Phase ${error.from} -> ${error.to} not announced: a silent process may still write after the move would have to be committed (${error.waitingFor.join("; ")}). The phase stays ${error.from}.`,
      );
    }
    throw error;
  }
}
