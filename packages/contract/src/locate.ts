/** From a path in the contract's value to a line and column in its YAML source. */

import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter, type Node, type Pair } from "yaml";
import type { ContractPath } from "./issues.ts";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** The key of a map pair as the contract's value sees it (keys become strings). */
export function pairKeyName(pair: Pair<unknown, unknown>): string {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function deref(document: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(document) : node;
}

interface Found {
  /** The deepest node reached on the path. */
  node: Node | undefined;
  /** The pair whose value it is, when reached through a map. */
  pair: Pair<unknown, unknown> | undefined;
  /** Whether the whole path was found. */
  complete: boolean;
}

function walk(document: Document, path: ContractPath): Found {
  let node: unknown = deref(document, document.contents);
  let pair: Pair<unknown, unknown> | undefined;
  for (const segment of path) {
    let next: unknown;
    let nextPair: Pair<unknown, unknown> | undefined;
    if (isMap(node)) {
      nextPair = node.items.find((item) => pairKeyName(item) === String(segment));
      next = nextPair?.value;
    } else if (isSeq(node) && typeof segment === "number") {
      next = node.items[segment];
    }
    if (next === undefined && nextPair === undefined)
      return { node: isNode(node) ? node : undefined, pair, complete: false };
    node = deref(document, next);
    pair = nextPair;
  }
  return { node: isNode(node) ? node : undefined, pair, complete: true };
}

/**
 * Where the node at `path` starts (or its key, for target "key"). A missing node points at the nearest map or list
 * that exists on the way, i.e. at its first key. `offset` moves into a single-line string value.
 */
export function locate(
  document: Document,
  lineCounter: LineCounter,
  source: string,
  path: ContractPath,
  target: "value" | "key" = "value",
  offset?: number,
): SourcePosition {
  const { node, pair, complete } = walk(document, path);
  const at = (position: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(position);
    return { line, column: col };
  };
  const keyNode = pair && isNode(pair.key) ? pair.key : undefined;
  if (complete && target === "key" && keyNode?.range) return at(keyNode.range[0]);
  if (!node?.range) return keyNode?.range ? at(keyNode.range[0]) : { line: 1, column: 1 };
  const [start, end] = node.range;
  // An empty value (`key:` and nothing) has no text of its own: point at its key.
  if (complete && start === end && keyNode?.range) return at(keyNode.range[0]);
  if (complete && offset !== undefined && isScalar(node) && typeof node.value === "string") {
    const text = source.slice(start, end);
    if (text === node.value) return at(start + offset);
    if (text === `"${node.value}"` || text === `'${node.value}'`) return at(start + 1 + offset);
  }
  return at(start);
}
