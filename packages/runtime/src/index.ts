/**
 * @ferry/runtime: what runs under the generated repositories: the codec, phases and flag routing,
 * dual write/read, shadow compare, outbox, ETL and validation (one folder per concern as they land).
 */
export {
  isPhase,
  PHASES,
  type Phase,
  type PhaseDefinition,
  type PhaseFlags,
  type Store,
  writeTargets,
} from "./phases.ts";
