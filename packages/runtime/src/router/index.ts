export {
  CursorStoreChanged,
  EntityRouter,
  type ListPage,
  type ListRequest,
  matchesValues,
  type RouterOptions,
  type SecondaryFailure,
  type UpdateRequest,
} from "./router.ts";
