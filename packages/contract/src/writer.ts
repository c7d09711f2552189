/**
 * Writing contracts back without losing what people wrote: applyToDocument changes a parsed YAML document into a
 * new value while keeping comments, key order and the style of unchanged scalars; createContractDocument starts a
 * new file; stringifyContract prints either the same way every time.
 */

import {
  Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Node,
  Pair,
  Scalar,
  visit,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { pairKeyName } from "./locate.ts";
import type { Contract } from "./model.ts";

/** A comment to put on the lines before the key (or list item) at `path`. */
export interface ContractComment {
  path: Array<string | number>;
  /** One or more lines, without the leading `#`. */
  text: string;
}

export interface CreateContractOptions {
  /** Where the JSON Schema is, relative to the contract file (for editors' completion). */
  schemaPath: string;
  comments?: ContractComment[];
}

/** Top-level sections and the named things in these sections get a blank line before them. */
const SPACED_SECTIONS = new Set(["tables", "entities", "accessPatterns", "transactions"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A fresh node for `value`: short lists of names and numbers in flow style ([a, b]), everything else in block style. */
function createNode(document: Document, value: unknown): Node {
  const node = document.createNode(value, { aliasDuplicateObjects: false });
  flowShortLists(node);
  return node;
}

const FLOW_LIST_WIDTH = 60;

function flowShortLists(node: unknown): void {
  if (isSeq(node)) {
    const words = node.items.map((item) =>
      isScalar(item) && (typeof item.value !== "string" || /^[^\s,[\]{}]+$/.test(item.value))
        ? String(item.value)
        : undefined,
    );
    const width = words.reduce((sum, word) => sum + (word?.length ?? FLOW_LIST_WIDTH) + 2, 0);
    if (words.length > 0 && width <= FLOW_LIST_WIDTH) node.flow = true;
    else for (const item of node.items) flowShortLists(item);
  } else if (isMap(node)) {
    for (const pair of node.items) flowShortLists(pair.value);
  }
}

function carryComments(from: unknown, to: Node): Node {
  if (!isNode(from)) return to;
  if (from.commentBefore) to.commentBefore = from.commentBefore;
  if (from.comment) to.comment = from.comment;
  if (from.spaceBefore) to.spaceBefore = from.spaceBefore;
  return to;
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  return Object.is(a, b) || (a === 0 && b === 0);
}

/** Makes `node` hold `next`, reusing it (and its comments) where it can; returns the node to put in its place. */
function applyNode(document: Document, node: unknown, next: unknown): Node {
  if (isPlainObject(next) && isMap(node)) {
    applyMap(document, node as YAMLMap<unknown, unknown>, next);
    return node;
  }
  if (Array.isArray(next) && isSeq(node)) {
    applySeq(document, node as YAMLSeq<unknown>, next);
    return node;
  }
  const isCollection = isPlainObject(next) || Array.isArray(next);
  if (!isCollection && isScalar(node)) {
    if (sameScalar(node.value, next)) return node;
    if (typeof node.value === typeof next && (typeof next === "string" || typeof next === "number")) {
      node.value = next;
      // A number keeps its source format only when the value is unchanged.
      if (typeof next === "number") {
        node.format = undefined;
        node.minFractionDigits = undefined;
      }
      return node;
    }
  }
  return carryComments(node, createNode(document, next));
}

function applyMap(document: Document, map: YAMLMap<unknown, unknown>, next: Record<string, unknown>): void {
  const wanted = Object.entries(next).filter(([, value]) => value !== undefined);
  const keys = new Set(wanted.map(([key]) => key));
  const present = new Set<string>();
  map.items = map.items.filter((pair) => {
    const name = pairKeyName(pair);
    if (!keys.has(name) || present.has(name)) return false;
    present.add(name);
    return true;
  });
  for (const pair of map.items) pair.value = applyNode(document, pair.value, next[pairKeyName(pair)]);
  const last = map.items[map.items.length - 1];
  const spaced = isNode(last?.key) && last.key.spaceBefore === true;
  for (const [key, value] of wanted) {
    if (present.has(key)) continue;
    const keyNode = new Scalar(key);
    if (spaced) keyNode.spaceBefore = true;
    map.items.push(new Pair(keyNode, createNode(document, value)));
  }
}

function applySeq(document: Document, seq: YAMLSeq<unknown>, next: unknown[]): void {
  const items = next.map((value, i) =>
    i < seq.items.length ? applyNode(document, seq.items[i], value) : createNode(document, value),
  );
  seq.items = items;
}

/**
 * Changes `document` so that it holds `next` (compared deeply), keeping comments on the nodes that stay, the order of
 * the keys that stay, and the style of scalars that do not change. New keys go to the end of their map, in `next`'s
 * order; keys absent from `next` (or undefined in it) are removed.
 */
export function applyToDocument(document: Document, next: unknown): void {
  document.contents = applyNode(document, document.contents, next) as Document["contents"];
}

/** The node at `path` in a map/list tree, with the pair it is the value of when reached through a map. */
function nodeAt(document: Document, path: ReadonlyArray<string | number>): { node: unknown; keyNode?: Scalar } {
  let node: unknown = document.contents;
  let keyNode: Scalar | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => pairKeyName(item) === String(segment));
      if (!pair) return { node: undefined };
      keyNode = isScalar(pair.key) ? pair.key : undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      keyNode = undefined;
    } else {
      return { node: undefined };
    }
  }
  return keyNode ? { node, keyNode } : { node };
}

function commentLines(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? "" : ` ${line}`))
    .join("\n");
}

/**
 * A new contract document: a `# yaml-language-server: $schema=...` line, then the contract, with a blank line
 * between sections and between the tables, entities, access patterns and transactions, and `comments` on the lines
 * before their keys.
 */
export function createContractDocument(contract: Contract, options: CreateContractOptions): Document {
  const document = new Document();
  document.contents = createNode(document, contract) as Document["contents"];
  document.commentBefore = ` yaml-language-server: $schema=${options.schemaPath}`;
  const root = document.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      const name = pairKeyName(pair);
      if (name !== "version" && name !== "name" && isNode(pair.key)) pair.key.spaceBefore = true;
      if (SPACED_SECTIONS.has(name) && isMap(pair.value)) {
        for (const [j, entry] of pair.value.items.entries()) {
          if (j > 0 && isNode(entry.key)) entry.key.spaceBefore = true;
        }
      }
    }
  }
  for (const comment of options.comments ?? []) {
    if (comment.path.length === 0) {
      document.commentBefore = `${document.commentBefore}\n${commentLines(comment.text)}`;
      continue;
    }
    const { node, keyNode } = nodeAt(document, comment.path);
    const target = keyNode ?? (isNode(node) ? node : undefined);
    if (!target) throw new Error(`no node at ${comment.path.join(".")} to comment on`);
    // A comment on a list item needs the list in block style.
    const list =
      typeof comment.path[comment.path.length - 1] === "number"
        ? nodeAt(document, comment.path.slice(0, -1)).node
        : undefined;
    if (isSeq(list)) list.flow = false;
    target.commentBefore = target.commentBefore
      ? `${target.commentBefore}\n${commentLines(comment.text)}`
      : commentLines(comment.text);
  }
  return document;
}

type Collection = YAMLMap<unknown, unknown> | YAMLSeq<unknown>;
type Context = Parameters<Collection["toString"]>[0];

/**
 * Flow maps padded, flow lists not: `{ name: id, nullable: false }` and `[user_id, product_id]`, the way people (and
 * prettier) write them. yaml has one switch for both, so each collection sets its own while the document prints.
 */
function withFlowPadding(document: Document, print: () => string): string {
  const patched: Collection[] = [];
  visit(document, {
    Collection(_key, node) {
      const padding = isMap(node) ? " " : "";
      const print = node.toString;
      Object.defineProperty(node, "toString", {
        configurable: true,
        value: (ctx?: Context, onComment?: () => void, onChompKeep?: () => void) =>
          print.call(node, ctx && { ...ctx, flowCollectionPadding: padding }, onComment, onChompKeep),
      });
      patched.push(node);
    },
  });
  try {
    return print();
  } finally {
    for (const node of patched) delete (node as { toString?: unknown }).toString;
  }
}

/** Biome formats the repository's YAML with this line width; flow collections that would not fit are written as blocks. */
const LINE_WIDTH = 120;

const TO_STRING_OPTIONS = {
  indent: 2,
  indentSeq: true,
  lineWidth: 0,
  minContentWidth: 0,
  defaultStringType: "PLAIN",
  defaultKeyType: "PLAIN",
} as const;

/** How wide a flow collection is on one line. */
function flowWidth(node: Collection): number {
  const text = new Document(node).toString(TO_STRING_OPTIONS).trimEnd();
  return text.includes("\n") ? Number.POSITIVE_INFINITY : text.length;
}

/**
 * Turns flow collections that would end past LINE_WIDTH into block style (which formatters leave alone), top down:
 * `node` starts at `column` when it is a flow collection, its block lines are indented by `indent`. Returns the
 * collections it changed.
 */
function unflowWide(node: unknown, indent: number, column: number, changed: Collection[]): void {
  if (!isMap(node) && !isSeq(node)) return;
  if (node.flow) {
    if (column + flowWidth(node) <= LINE_WIDTH) return;
    node.flow = false;
    changed.push(node);
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pairKeyName(pair);
      const keyWidth = /^[A-Za-z0-9_$./-]+$/.test(key) ? key.length : key.length + 2;
      const value = pair.value;
      if (isSeq(value) && !value.flow) unflowWide(value, indent + 2, indent + 2, changed);
      else unflowWide(value, indent + 2, indent + keyWidth + 2, changed);
    }
  } else {
    // Items start after "- "; a map item's keys line up with its first key.
    for (const item of node.items) unflowWide(item, indent + 2, indent + 2, changed);
  }
}

/**
 * The document as text, the same way every time: 2-space indent, no line folding, plain strings unless quoting is
 * needed, `{ a: b }` and `[a, b]` for flow collections, and block style for flow collections that would end past
 * column 120 (so that Biome, which formats this repository's YAML, leaves the file as it is).
 */
export function stringifyContract(document: Document): string {
  return withFlowPadding(document, () => {
    const changed: Collection[] = [];
    try {
      unflowWide(document.contents, 0, 0, changed);
      return document.toString(TO_STRING_OPTIONS);
    } finally {
      for (const node of changed) node.flow = true;
    }
  });
}
