/** What the codec's test files share: the edge-case contract and a way to catch the CodecError an action throws. */
import { fileURLToPath } from "node:url";
import { CodecError } from "../src/codec/index.ts";

/** fixtures/codec-edges.yaml: entities whose attributes sit at the edges of what the codec converts. */
export const CODEC_EDGES_CONTRACT = fileURLToPath(new URL("./fixtures/codec-edges.yaml", import.meta.url));

/** Runs `action` and returns the CodecError it throws (failing when it throws nothing, or something else). */
export function codecError(action: () => unknown): CodecError {
  try {
    action();
  } catch (error) {
    if (error instanceof CodecError) return error;
    throw error;
  }
  throw new Error("expected a CodecError, and nothing was thrown");
}
