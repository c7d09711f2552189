export { IdAllocator, IdCounterMissing } from "./allocator.ts";
