export { IdAllocator, IdCounterMissing } from "./allocator.ts";
export { IdFence, type IdFenceOptions } from "./fence.ts";
