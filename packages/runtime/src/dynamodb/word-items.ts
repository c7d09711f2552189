/**
 * Word indexes (the contract's `wordIndexes`): searching a text attribute by its words, which DynamoDB cannot do by
 * key. Each distinct word of the value has one small item, partition `WORDS#<Entity>#<index>#<word>`, sort key the
 * owner's primary key as key text (so a word's items come in primary-key order), with the owner's item key
 * (`owner<PK>`, `owner<SK>`). They are written, swapped and deleted in the same transaction as their item, and
 * written by the backfill with it. A search reads one word's partition and checks every word on the owners it reads,
 * so a word item left behind by an older value (a backfill that overwrote a live item) never shows a wrong result.
 *
 * Words are the text folded as its `_ci` collation compares it (foldForCollation: case, accents, ß -> ss), split on
 * everything that is not a letter or a digit; distinct, in order of appearance, at most MAX_WORDS of at most
 * MAX_WORD_LENGTH characters. MySQL's side of a search (mysql/store.ts) keeps the rows whose text has those words.
 */
import { foldForCollation } from "../codec/collation.ts";
import type { EntityCodec, EntityValue, Item } from "../codec/index.ts";
import { StoreError } from "../errors.ts";

/** The most words of one value that are indexed (each is one item of the value's transaction). */
export const MAX_WORDS = 20;
/** Longer words are left out of the index (and out of a search's words). */
export const MAX_WORD_LENGTH = 64;

/**
 * The most word items (DynamoDB) or rows (MySQL) one page of a search looks at before it answers with what it has
 * and a cursor: a common word searched with a rare one costs a bounded amount per request.
 */
export const SEARCH_EXAMINED = 1_000;

export interface WordIndex {
  name: string;
  attribute: string;
}

export function wordIndexes(codec: EntityCodec): WordIndex[] {
  return Object.entries(codec.definition.wordIndexes ?? {}).map(([name, index]) => ({
    name,
    attribute: index.attribute,
  }));
}

/** The attributes some word index reads. */
export function wordIndexedAttributes(codec: EntityCodec): Set<string> {
  return new Set(wordIndexes(codec).map((index) => index.attribute));
}

/** The words of a text, as the index keeps them (see the file's comment); none for null or undefined. */
export function wordsOf(text: unknown): string[] {
  if (typeof text !== "string") return [];
  const words: string[] = [];
  for (const word of foldForCollation(text).split(/[^\p{L}\p{N}]+/u)) {
    if (word === "" || word.length > MAX_WORD_LENGTH || words.includes(word)) continue;
    words.push(word);
    if (words.length === MAX_WORDS) break;
  }
  return words;
}

/** Whether a text has every one of `words` (words as wordsOf gives them). */
export function hasWords(text: unknown, words: readonly string[]): boolean {
  const own = wordsOf(text);
  return words.every((word) => own.includes(word));
}

/** The partition of one word of one index. */
export function wordPartition(codec: EntityCodec, index: string, word: string): string {
  return `WORDS#${codec.name}#${index}#${word}`;
}

/** The one primary-key attribute of an entity with word indexes (the contract check makes sure there is one). */
export function wordOrderAttribute(codec: EntityCodec): string {
  const column = codec.definition.source.primaryKey[0];
  const attribute = codec.attributes.find((a) => a.column !== undefined && a.column === column);
  if (codec.definition.source.primaryKey.length !== 1 || attribute === undefined) {
    throw new StoreError("dynamodb", codec.name, "a word index needs a one-column primary key");
  }
  return attribute.name;
}

/** A word item's sort key: its owner's primary key as key text (integers padded: they sort as numbers). */
export function wordSortKey(codec: EntityCodec, value: EntityValue): string {
  const attribute = wordOrderAttribute(codec);
  return codec.attribute(attribute).keyText(value[attribute]);
}

/** The word items of a value: one per index and distinct word, naming `owner` (the value's item key). */
export function wordItems(codec: EntityCodec, value: EntityValue, owner: Item): Item[] {
  const indexes = wordIndexes(codec);
  if (indexes.length === 0) return [];
  const sortName = codec.keyNames.sort;
  if (sortName === undefined) {
    throw new StoreError("dynamodb", codec.name, "a word index needs a table with a sort key");
  }
  const sort = wordSortKey(codec, value);
  const items: Item[] = [];
  for (const index of indexes) {
    for (const word of wordsOf(value[index.attribute])) {
      const item: Item = {
        [codec.keyNames.partition]: { S: wordPartition(codec, index.name, word) },
        [sortName]: { S: sort },
      };
      for (const [name, attribute] of Object.entries(owner)) item[`owner${name}`] = attribute;
      items.push(item);
    }
  }
  return items;
}
