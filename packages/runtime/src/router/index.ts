export {
  CursorStoreChanged,
  EntityRouter,
  type ListPage,
  type ListRequest,
  matchesValues,
  type RouterOptions,
  type UpdateRequest,
} from "./router.ts";
