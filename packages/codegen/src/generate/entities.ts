/**
 * Entity types: one interface per entity, built as ts-morph structures (never glued strings), with the
 * attribute's column and value format in each property's doc comment.
 */
import type { Contract } from "@ferry/contract";
import {
  type InterfaceDeclarationStructure,
  type OptionalKind,
  type PropertySignatureStructure,
  StructureKind,
  type TypeAliasDeclarationStructure,
} from "ts-morph";
import { docText } from "./prose.ts";
import { valueDoc, valueType } from "./ts-types.ts";

export const JSON_VALUE: TypeAliasDeclarationStructure = {
  kind: StructureKind.TypeAlias,
  name: "JsonValue",
  isExported: true,
  docs: ["A JSON value, as stored in a JSON column."],
  type: "string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }",
};

export function entityInterfaces(contract: Contract): InterfaceDeclarationStructure[] {
  return Object.entries(contract.entities).map(([name, entity]) => {
    const properties: OptionalKind<PropertySignatureStructure>[] = Object.entries(entity.attributes).map(
      ([attribute, spec]) => ({
        name: attribute,
        type: spec.column.nullable ? `${valueType(spec)} | null` : valueType(spec),
        docs: [docText(valueDoc(spec), 2)],
      }),
    );
    for (const [attribute, copy] of Object.entries(entity.denormalized ?? {})) {
      const source = contract.entities[copy.from]?.attributes[copy.attribute];
      if (!source) continue;
      properties.push({
        name: attribute,
        hasQuestionToken: true,
        type: source.column.nullable ? `${valueType(source)} | null` : valueType(source),
        docs: [docText(`A copy of ${copy.from}.${copy.attribute} (through ${copy.via}) kept on DynamoDB items.`, 2)],
      });
    }
    const docs = [
      `${name}: a row of \`${entity.source.table}\`; on DynamoDB an item keyed ${entity.key.partition}${entity.key.sort ? ` / ${entity.key.sort}` : ""}.`,
    ];
    if (entity.notes) docs.push(entity.notes);
    return { kind: StructureKind.Interface, name, isExported: true, docs: [docText(docs.join("\n\n"), 0)], properties };
  });
}
