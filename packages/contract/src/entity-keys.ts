/**
 * Which attributes identify an item. MySQL finds a row by its primary key; DynamoDB finds an item by its key
 * templates' placeholders. Where they differ (a cart line is `id` on MySQL and `userId` + `productId` on DynamoDB),
 * a key names both, so that either store can address the item and both address the same one.
 */
import { KeyTemplateError, parseKeyTemplate } from "./key-template.ts";
import type { Loose } from "./loose.ts";
import type { Entity } from "./model.ts";

/** The primary-key attributes of an entity: those whose columns make up the source table's primary key. */
export function primaryKeyAttributes(entity: Loose<Entity>): string[] {
  const columns = (entity.source?.primaryKey ?? []).filter((column): column is string => column !== undefined);
  const attributes = Object.entries(entity.attributes ?? {});
  return columns.map((column) => attributes.find(([, spec]) => spec?.column?.name === column)?.[0] ?? column);
}

/** The attributes that identify an item on both stores: the primary key's, then the key templates' others. */
export function identityAttributes(entity: Loose<Entity>): string[] {
  const names = primaryKeyAttributes(entity);
  for (const template of [entity.key?.partition, entity.key?.sort]) {
    if (template === undefined) continue;
    let parts: ReturnType<typeof parseKeyTemplate>;
    try {
      parts = parseKeyTemplate(template);
    } catch (error) {
      if (error instanceof KeyTemplateError) continue;
      throw error;
    }
    for (const part of parts) {
      if ("placeholder" in part && !names.includes(part.placeholder)) names.push(part.placeholder);
    }
  }
  return names;
}
