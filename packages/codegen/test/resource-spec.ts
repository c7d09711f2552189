/**
 * A CloudFormation resource's properties checked against AWS's own specification of the resource type (the npm
 * package @aws-cdk/aws-service-spec carries the CloudFormation resource specification AWS publishes): every property
 * known to the type, every required one there, every value of the type the specification gives, down through its
 * nested types. Values that are intrinsic functions ({ Ref }, { "Fn::Sub" }, ...) stand for a value of any type.
 * Stricter than CloudFormation in one way: where the specification also allows free JSON beside a typed shape, the
 * typed shape is required.
 */
import { loadAwsServiceSpec } from "@aws-cdk/aws-service-spec";
import type { PropertyType, ResourceProperties, SpecDatabase } from "@aws-cdk/service-spec-types";

let database: Promise<SpecDatabase> | undefined;

/** The problems of `properties` as a `cloudFormationType` resource's (empty: it conforms), each with its path. */
export async function resourceProblems(cloudFormationType: string, properties: unknown): Promise<string[]> {
  database ??= loadAwsServiceSpec();
  const db = await database;
  const [resource] = db.lookup("resource", "cloudFormationType", "equals", cloudFormationType);
  if (resource === undefined) return [`${cloudFormationType} is not a resource type of the specification`];
  const problems: string[] = [];
  checkObject(db, resource.properties, properties, cloudFormationType, problems);
  return problems;
}

function isIntrinsic(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "Ref" || (keys[0]?.startsWith("Fn::") ?? false));
}

function checkObject(
  db: SpecDatabase,
  properties: ResourceProperties,
  value: unknown,
  path: string,
  problems: string[],
): void {
  if (isIntrinsic(value)) return;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${path}: an object was expected, got ${JSON.stringify(value)}`);
    return;
  }
  const given = value as Record<string, unknown>;
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && !(name in given)) problems.push(`${path}.${name}: required, and missing`);
  }
  for (const [name, inner] of Object.entries(given)) {
    const property = properties[name];
    if (property === undefined) {
      problems.push(`${path}.${name}: not a property of this type (it has ${Object.keys(properties).join(", ")})`);
      continue;
    }
    check(db, property.type, inner, `${path}.${name}`, problems);
  }
}

function check(db: SpecDatabase, type: PropertyType, value: unknown, path: string, problems: string[]): void {
  if (isIntrinsic(value)) return;
  const wrong = (expected: string) => problems.push(`${path}: ${expected} was expected, got ${JSON.stringify(value)}`);
  switch (type.type) {
    case "string":
    case "date-time":
      if (typeof value !== "string") wrong("a string");
      return;
    case "integer":
      if (!(Number.isInteger(value) || (typeof value === "string" && /^-?\d+$/.test(value)))) wrong("an integer");
      return;
    case "number":
      if (
        !(
          typeof value === "number" ||
          (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)))
        )
      )
        wrong("a number");
      return;
    case "boolean":
      if (!(typeof value === "boolean" || value === "true" || value === "false")) wrong("a boolean");
      return;
    case "null":
      if (value !== null) wrong("null");
      return;
    case "json":
      if (typeof value !== "object" || value === null) wrong("a JSON object");
      return;
    case "tag":
      checkObject(
        db,
        { Key: { type: { type: "string" }, required: true }, Value: { type: { type: "string" }, required: true } },
        value,
        path,
        problems,
      );
      return;
    case "array":
      if (!Array.isArray(value)) return void wrong("a list");
      for (const [i, element] of value.entries()) check(db, type.element, element, `${path}[${i}]`, problems);
      return;
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) return void wrong("a map");
      for (const [key, element] of Object.entries(value)) check(db, type.element, element, `${path}.${key}`, problems);
      return;
    case "ref": {
      const definition = db.get("typeDefinition", type.reference.$ref);
      checkObject(db, definition.properties, value, `${path} (${definition.name})`, problems);
      return;
    }
    case "union": {
      // Conforms when one of the types takes it; otherwise the first type's problems are told. A union that offers a
      // typed shape beside free JSON (KeySchema: a list of KeySchema, or any JSON, for old templates) is held to the
      // typed shape: free JSON would take anything, and this check is for what ferry means to write.
      const typed = type.types.filter((option) => option.type !== "json");
      const tries = (typed.length > 0 ? typed : type.types).map((option) => {
        const found: string[] = [];
        check(db, option, value, path, found);
        return found;
      });
      if (!tries.some((found) => found.length === 0)) problems.push(...(tries[0] ?? []));
      return;
    }
    default:
      problems.push(`${path}: the specification's type ${JSON.stringify(type)} is not known to this check`);
  }
}
