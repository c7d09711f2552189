export { BackgroundCopies, DEFAULT_BACKGROUND_COPIES } from "./background.ts";
export {
  CursorStoreChanged,
  EntityRouter,
  type ListPage,
  type ListRequest,
  matchesValues,
  type RouterOptions,
  type SearchRequest,
  type UpdateRequest,
} from "./router.ts";
