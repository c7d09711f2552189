/**
 * A contract transaction turned into writes. The contract's steps (`transactions.<name>.steps`) are resolved
 * against the caller's input one write at a time, so that a step can use what an earlier one created (the order's
 * id in its lines). The same resolved writes are carried out on MySQL (one transaction) and on DynamoDB (one
 * TransactWriteItems), and replayed on the other store.
 */
import {
  parseCondition,
  parseStepValue,
  type StepCondition,
  type StepOperand,
  type StepOperation,
  stepOperation,
  type Transaction,
  type TransactionStep,
} from "@ferry/contract";
import type { Codec, EntityValue } from "../codec/index.ts";
import type { Condition } from "../condition.ts";
import { MAX_TRANSACTION_ITEMS } from "../dynamodb/index.ts";
import { uniqueRules } from "../dynamodb/unique-markers.ts";
import { MAX_WORDS } from "../dynamodb/word-items.ts";
import { TransactionRefused } from "../errors.ts";

/** One resolved write of a transaction. */
export interface TransactionWrite {
  /** 0-based index of the contract step it comes from. */
  step: number;
  /** For a forEach step: the index of the element in the input list. */
  element?: number;
  operation: StepOperation;
  entity: string;
  /** create: the value to create (after the write: as stored, with its id). */
  value?: EntityValue;
  /** update, delete, check: the item's key (identity attributes). */
  key?: EntityValue;
  /** update: attributes set. */
  set?: EntityValue;
  /** update: amounts added. */
  add?: Record<string, number | bigint | string>;
  condition?: Condition[];
}

/** What a transaction returns: each created input's stored value (a list for a list input). */
export type TransactionResult = Record<string, EntityValue | EntityValue[]>;

interface CompiledStep {
  index: number;
  operation: StepOperation;
  entity: string;
  forEach?: string;
  from?: string;
  key?: Array<[string, StepOperand]>;
  set: Array<[string, StepOperand]>;
  add: Array<[string, StepOperand]>;
  condition: StepCondition[];
}

export class TransactionPlan {
  private readonly steps: CompiledStep[];

  constructor(
    private readonly codec: Codec,
    readonly name: string,
    readonly definition: Transaction,
  ) {
    if (!definition.steps || definition.steps.length === 0) {
      throw new TransactionRefused(name, "the contract declares no steps for it");
    }
    this.steps = definition.steps.map((step, index) => compileStep(name, step, index));
  }

  /** Checks the input's shape; TransactionRefused names what is wrong. */
  checkInput(input: Record<string, unknown>): void {
    for (const [inputName, spec] of Object.entries(this.definition.input ?? {})) {
      const given = input[inputName];
      if (spec.list) {
        if (!Array.isArray(given)) this.refuse(`input '${inputName}' must be a list of ${spec.entity}`);
        for (const [i, element] of (given as unknown[]).entries()) {
          if (element === null || typeof element !== "object") this.refuse(`${inputName}[${i}] is not an object`);
        }
      } else if (given === null || typeof given !== "object" || Array.isArray(given)) {
        this.refuse(`input '${inputName}' must be one ${spec.entity}`);
      }
    }
  }

  /**
   * The most DynamoDB items the transaction can need for this input (items, unique markers, word items), so that one too
   * big is refused before either store is written.
   */
  dynamoItems(input: Record<string, unknown>): number {
    let total = 0;
    for (const step of this.steps) {
      const times = step.forEach === undefined ? 1 : this.list(input, step.forEach).length;
      const entity = this.codec.entity(step.entity);
      const definition = entity.definition;
      const rules = uniqueRules(entity).length;
      const words = Object.keys(definition.wordIndexes ?? {}).length * MAX_WORDS;
      const each = 1 + (step.operation === "create" || step.operation === "delete" ? rules + words : 0);
      total += times * each;
    }
    return total;
  }

  /** Refuses an input whose writes cannot fit in one DynamoDB transaction. */
  checkSize(input: Record<string, unknown>): void {
    const items = this.dynamoItems(input);
    if (items > MAX_TRANSACTION_ITEMS) {
      this.refuse(
        `it needs up to ${items} DynamoDB writes (items, unique markers and word items), over DynamoDB's limit of ${MAX_TRANSACTION_ITEMS} per transaction; make it smaller`,
      );
    }
  }

  /** How many values of each entity the steps create without an id of their own (for id allocation). */
  creates(input: Record<string, unknown>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const step of this.steps) {
      if (step.operation !== "create") continue;
      const id = this.codec.entity(step.entity).definition.id;
      if (id?.strategy !== "auto-increment") continue;
      const source = step.forEach ?? step.from ?? "";
      const values = step.forEach === undefined ? [input[source]] : this.list(input, source);
      const needing = values.filter((value) => {
        const given = (value as EntityValue | undefined)?.[id.attribute];
        return given === undefined || given === null;
      }).length;
      counts.set(step.entity, (counts.get(step.entity) ?? 0) + needing);
    }
    return counts;
  }

  /**
   * Resolves the steps in order and hands each write to `perform`, which carries it out (or collects it) and, for a
   * create, returns the value as stored; later steps see it. Returns the writes as performed and the created values.
   */
  async resolve(
    input: Record<string, unknown>,
    perform: (write: TransactionWrite) => Promise<EntityValue | undefined>,
  ): Promise<{ writes: TransactionWrite[]; result: TransactionResult }> {
    const created = new Map<string, EntityValue | EntityValue[]>();
    const writes: TransactionWrite[] = [];
    const touched = new Set<string>();
    for (const step of this.steps) {
      const elements: Array<EntityValue | undefined> =
        step.forEach === undefined ? [undefined] : (this.list(input, step.forEach) as EntityValue[]);
      const createdHere: EntityValue[] = [];
      for (const [i, element] of elements.entries()) {
        const at = step.forEach === undefined ? undefined : i;
        const resolve = (operand: StepOperand): unknown => this.operand(operand, element, input, created, step);
        const write: TransactionWrite = {
          step: step.index,
          ...(at === undefined ? {} : { element: at }),
          operation: step.operation,
          entity: step.entity,
        };
        if (step.operation === "create") {
          const base = (element ?? input[step.from ?? ""]) as EntityValue;
          write.value = { ...base, ...Object.fromEntries(step.set.map(([name, operand]) => [name, resolve(operand)])) };
        } else {
          write.key = step.key
            ? Object.fromEntries(step.key.map(([name, operand]) => [name, resolve(operand)]))
            : this.keyOf(step.entity, element ?? {});
          if (step.set.length > 0) write.set = Object.fromEntries(step.set.map(([name, o]) => [name, resolve(o)]));
          if (step.add.length > 0) {
            write.add = Object.fromEntries(step.add.map(([name, o]) => [name, amount(this.name, name, resolve(o))]));
          }
          if (step.condition.length > 0) {
            write.condition = step.condition.map(({ attribute, op, value }) => ({
              attribute,
              op,
              value: resolve(value),
            }));
          }
          const identity = `${step.entity}\u0000${JSON.stringify(this.codec.entity(step.entity).key(write.key))}`;
          if (touched.has(identity)) {
            this.refuse(
              `step ${step.index + 1}${at === undefined ? "" : ` (element ${at})`} writes a ${step.entity} that an earlier write of the transaction already writes (one transaction writes each item once)`,
            );
          }
          touched.add(identity);
        }
        const stored = await perform(write);
        if (step.operation === "create") {
          write.value = stored ?? write.value;
          createdHere.push(write.value as EntityValue);
        }
        writes.push(write);
      }
      if (step.operation === "create") {
        const source = step.forEach ?? step.from ?? "";
        created.set(source, step.forEach === undefined ? (createdHere[0] as EntityValue) : createdHere);
      }
    }
    return { writes, result: Object.fromEntries(created) };
  }

  private list(input: Record<string, unknown>, name: string): unknown[] {
    const list = input[name];
    if (!Array.isArray(list)) this.refuse(`input '${name}' must be a list`);
    return list as unknown[];
  }

  /** The identity attributes of an element that is a key of the entity. */
  private keyOf(entity: string, element: EntityValue): EntityValue {
    return Object.fromEntries(this.codec.entity(entity).identity.map((name) => [name, element[name]]));
  }

  private operand(
    operand: StepOperand,
    element: EntityValue | undefined,
    input: Record<string, unknown>,
    created: ReadonlyMap<string, EntityValue | EntityValue[]>,
    step: CompiledStep,
  ): unknown {
    if (operand.kind === "literal") return operand.value;
    let source: EntityValue | undefined;
    if (operand.input === undefined) source = element;
    else {
      const made = created.get(operand.input);
      source = (made ?? input[operand.input]) as EntityValue | undefined;
    }
    const value = source?.[operand.field];
    if (value === undefined) {
      const where = operand.input === undefined ? "the element" : `input '${operand.input}'`;
      this.refuse(`step ${step.index + 1} needs ${operand.field} of ${where}, and it has none`);
    }
    return operand.negate ? negate(this.name, value) : value;
  }

  private refuse(message: string): never {
    throw new TransactionRefused(this.name, message);
  }
}

function compileStep(name: string, step: TransactionStep, index: number): CompiledStep {
  const what = stepOperation(step);
  if (!what) throw new TransactionRefused(name, `step ${index + 1} says neither create, update, delete nor check`);
  const values = (record: Record<string, unknown> | undefined): Array<[string, StepOperand]> =>
    Object.entries(record ?? {}).map(([attribute, value]) => [
      attribute,
      parseStepValue(value as string | number | boolean | null),
    ]);
  return {
    index,
    operation: what.operation,
    entity: what.entity,
    ...(step.forEach === undefined ? {} : { forEach: step.forEach }),
    ...(step.from === undefined ? {} : { from: step.from }),
    ...(step.key === undefined ? {} : { key: values(step.key) }),
    set: values(step.set),
    add: values(step.add),
    condition: (step.condition ?? []).map(parseCondition),
  };
}

function negate(transaction: string, value: unknown): unknown {
  if (typeof value === "number" || typeof value === "bigint") return -value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) {
    return value.startsWith("-") ? value.slice(1) : `-${value}`;
  }
  throw new TransactionRefused(transaction, `cannot negate ${String(value)}: it is not a number`);
}

function amount(transaction: string, attribute: string, value: unknown): number | bigint | string {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return value;
  throw new TransactionRefused(transaction, `the amount added to ${attribute} is not a number: ${String(value)}`);
}
