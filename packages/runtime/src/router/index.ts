export {
  CursorStoreChanged,
  EntityRouter,
  FixedPhase,
  type ListPage,
  type ListRequest,
  matchesValues,
  type PhaseSource,
  type RouterOptions,
  type SecondaryFailure,
  type UpdateRequest,
} from "./router.ts";
