/**
 * The rules of `transactions`: inputs and steps name entities, attributes and inputs that exist; keys are whole
 * primary keys; references resolve, and a created value is referenced only after the step that creates it.
 */
import { identityAttributes } from "./entity-keys.ts";
import type { ContractPath } from "./issues.ts";
import type { Loose } from "./loose.ts";
import type { Entity, Transaction, TransactionInput, TransactionStep } from "./model.ts";
import {
  parseCondition,
  parseStepValue,
  STEP_OPERATIONS,
  type StepOperand,
  StepSyntaxError,
  stepOperation,
} from "./transaction-steps.ts";

const NUMERIC = new Set(["integer", "bigint", "decimal", "float"]);

/** What the transaction rules need from the contract check they run in. */
export interface TransactionRuleContext {
  report(
    path: ContractPath,
    message: string,
    extra?: { hint?: string; target?: "value" | "key"; offset?: number },
  ): void;
  entityRef(name: string, path: ContractPath): Loose<Entity> | undefined;
  attributeRef(entityName: string, entity: Loose<Entity>, attribute: string, path: ContractPath): boolean;
}

export function checkTransaction(context: TransactionRuleContext, name: string, transaction: Loose<Transaction>): void {
  const base = ["transactions", name];
  const declared = new Set((transaction.entities ?? []).filter((entity): entity is string => entity !== undefined));
  const inputs = new Map<string, { input: Loose<TransactionInput>; entity?: Loose<Entity> }>();
  for (const [inputName, input] of Object.entries(transaction.input ?? {})) {
    if (!input) continue;
    const entity =
      input.entity === undefined ? undefined : context.entityRef(input.entity, [...base, "input", inputName, "entity"]);
    inputs.set(inputName, { input, ...(entity ? { entity } : {}) });
  }
  const steps = transaction.steps ?? [];
  if (steps.length === 0) return;

  // Which step creates each single `new` input: references to it are only valid after that step.
  const createdAt = new Map<string, number>();
  steps.forEach((step, i) => {
    if (!step || typeof step.create !== "string") return;
    const from = step.from ?? step.forEach;
    if (from !== undefined && !createdAt.has(from)) createdAt.set(from, i);
  });
  const used = new Set<string>();

  steps.forEach((step, i) => {
    if (!step) return;
    const path = [...base, "steps", i];
    const what = stepOperation(step as Partial<TransactionStep>);
    if (!what) {
      const present = STEP_OPERATIONS.filter((operation) => step[operation] !== undefined);
      context.report(
        path,
        present.length === 0
          ? `step ${i + 1} of transaction '${name}' says neither create, update, delete nor check`
          : `step ${i + 1} of transaction '${name}' says ${present.join(" and ")}: one step does one thing`,
        { hint: "write one of create: Entity, update: Entity, delete: Entity, check: Entity" },
      );
      return;
    }
    const { operation, entity: entityName } = what;
    const entity = context.entityRef(entityName, [...path, operation]);
    if (entity && declared.size > 0 && !declared.has(entityName)) {
      context.report(
        [...path, operation],
        `step ${i + 1} writes ${entityName}, which transaction '${name}' does not list in entities`,
        {
          hint: `add ${entityName} to transactions.${name}.entities`,
        },
      );
    }

    // The element a forEach step goes over.
    let element: { name: string; entity?: Loose<Entity>; input: Loose<TransactionInput> } | undefined;
    if (step.forEach !== undefined) {
      used.add(step.forEach);
      const found = inputs.get(step.forEach);
      if (!found) {
        context.report(
          [...path, "forEach"],
          `forEach names '${step.forEach}', which is not an input of transaction '${name}'`,
          {
            hint: `inputs: ${[...inputs.keys()].join(", ") || "none"}`,
          },
        );
      } else if (!found.input.list) {
        context.report([...path, "forEach"], `forEach needs a list input, and '${step.forEach}' is a single value`, {
          hint: `add list: true to transactions.${name}.input.${step.forEach}`,
        });
      } else {
        element = { name: step.forEach, input: found.input, ...(found.entity ? { entity: found.entity } : {}) };
      }
    }

    const checkOperand = (operand: StepOperand, at: ContractPath, allowNegate: boolean, offset?: number): void => {
      if (operand.kind !== "ref") return;
      const extra = offset === undefined ? {} : { offset };
      if (operand.negate && !allowNegate) {
        context.report(at, "only an `add` amount can be negated", extra);
      }
      if (operand.input === undefined) {
        if (!element) {
          context.report(
            at,
            `{${operand.field}} names a field of the forEach element, and step ${i + 1} has no forEach`,
            {
              ...extra,
              hint: "use {input.field} for a field of a single input",
            },
          );
        } else if (element.entity && element.input.entity !== undefined) {
          context.attributeRef(element.input.entity, element.entity, operand.field, at);
        }
        return;
      }
      used.add(operand.input);
      const found = inputs.get(operand.input);
      if (!found) {
        context.report(
          at,
          `{${operand.input}.${operand.field}} names '${operand.input}', which is not an input of transaction '${name}'`,
          {
            ...extra,
            hint: `inputs: ${[...inputs.keys()].join(", ") || "none"}`,
          },
        );
        return;
      }
      if (found.input.list) {
        context.report(at, `'${operand.input}' is a list: go over it with forEach and write {${operand.field}}`, extra);
        return;
      }
      if (found.entity && found.input.entity !== undefined)
        context.attributeRef(found.input.entity, found.entity, operand.field, at);
      const creator = createdAt.get(operand.input);
      if (creator !== undefined && creator >= i) {
        context.report(
          at,
          `{${operand.input}.${operand.field}} is known only after step ${creator + 1} creates '${operand.input}'`,
          {
            ...extra,
            hint: "move this step after the one that creates it",
          },
        );
      }
    };

    const checkValues = (field: "key" | "set" | "add", values: Loose<Record<string, unknown>> | undefined): void => {
      for (const [attribute, raw] of Object.entries(values ?? {})) {
        const at = [...path, field, attribute];
        if (entity) context.attributeRef(entityName, entity, attribute, [...path, field, attribute]);
        if (field === "add" && entity) {
          const type = entity.attributes?.[attribute]?.type;
          if (type !== undefined && !NUMERIC.has(type)) {
            context.report(at, `${entityName}.${attribute} is ${type}: only numeric attributes can be added to`);
          }
        }
        let operand: StepOperand;
        try {
          operand = parseStepValue(raw as string | number | boolean | null);
        } catch (error) {
          if (!(error instanceof StepSyntaxError)) throw error;
          context.report(at, error.message, { offset: error.offset, ...(error.hint ? { hint: error.hint } : {}) });
          continue;
        }
        checkOperand(operand, at, field === "add");
      }
    };

    const keyAttributes = entity ? identityAttributes(entity) : [];
    if (operation === "create") {
      const from = step.from ?? step.forEach;
      if (step.key !== undefined || step.add !== undefined || step.condition !== undefined) {
        const extra = ["key", "add", "condition"].filter((field) => step[field as keyof TransactionStep] !== undefined);
        context.report(path, `a create step takes from, forEach and set, not ${extra.join(", ")}`);
      }
      if (from === undefined) {
        context.report(path, `step ${i + 1} creates ${entityName} from nothing`, {
          hint: "name the input to create with from: (or forEach: for a list)",
        });
      } else {
        used.add(from);
        const found = inputs.get(from);
        if (!found) {
          context.report(
            [...path, step.from === undefined ? "forEach" : "from"],
            `'${from}' is not an input of transaction '${name}'`,
          );
        } else if (found.input.kind !== "new" || found.input.entity !== entityName) {
          context.report(
            [...path, step.from === undefined ? "forEach" : "from"],
            `step ${i + 1} creates ${entityName}, so '${from}' must be an input of kind new of entity ${entityName}`,
          );
        } else if (step.forEach !== undefined && step.from !== undefined && step.from !== step.forEach) {
          context.report([...path, "from"], "with forEach, a create step creates the elements: leave from out");
        } else if (step.forEach === undefined && found.input.list) {
          context.report([...path, "from"], `'${from}' is a list: create its elements with forEach: ${from}`);
        }
      }
      checkValues("set", step.set);
    } else {
      if (step.from !== undefined)
        context.report([...path, "from"], `from is for create steps, not ${operation}`, { target: "key" });
      if (operation !== "update" && (step.set !== undefined || step.add !== undefined)) {
        context.report(path, `a ${operation} step changes nothing: set and add are for update steps`);
      }
      const overKeys = element?.input.kind === "key" && element.input.entity === entityName;
      if (step.key === undefined) {
        if (!overKeys) {
          context.report(
            path,
            `step ${i + 1} needs the key of the ${entityName} it ${operation === "check" ? "checks" : `${operation}s`}`,
            {
              hint: `key: { ${keyAttributes.map((attribute) => `${attribute}: "{...}"`).join(", ")} }`,
            },
          );
        }
      } else {
        const given = Object.keys(step.key);
        const missing = keyAttributes.filter((attribute) => !given.includes(attribute));
        const extra = given.filter((attribute) => !keyAttributes.includes(attribute));
        if (entity && (missing.length > 0 || extra.length > 0)) {
          context.report(
            [...path, "key"],
            `the key of ${entityName} is ${keyAttributes.join(", ")}${missing.length ? `; missing ${missing.join(", ")}` : ""}${extra.length ? `; not key attributes: ${extra.join(", ")}` : ""}`,
          );
        }
        checkValues("key", step.key);
      }
      checkValues("set", step.set);
      checkValues("add", step.add);
      const worded = new Set(Object.values(entity?.wordIndexes ?? {}).map((index) => index?.attribute));
      for (const attribute of [...Object.keys(step.set ?? {}), ...Object.keys(step.add ?? {})]) {
        const at = [...path, step.set?.[attribute] !== undefined ? "set" : "add", attribute];
        if (keyAttributes.includes(attribute)) {
          context.report(at, `${entityName}.${attribute} is in the primary key and cannot change in a transaction`, {
            target: "key",
          });
        } else if (worded.has(attribute)) {
          context.report(at, `${entityName}.${attribute} has a word index and cannot change in a transaction`, {
            target: "key",
            hint: "its word items are swapped by the repository's update(), one item at a time",
          });
        }
      }
      if (operation === "check" && (step.condition ?? []).length === 0) {
        context.report(path, `a check step needs at least one condition`, {
          hint: "e.g. condition: [\"status = 'active'\"]",
        });
      }
      (step.condition ?? []).forEach((text, c) => {
        if (text === undefined) return;
        const at = [...path, "condition", c];
        try {
          const condition = parseCondition(text);
          if (entity) context.attributeRef(entityName, entity, condition.attribute, at);
          checkOperand(condition.value, at, false, text.indexOf("{") >= 0 ? text.indexOf("{") : undefined);
        } catch (error) {
          if (!(error instanceof StepSyntaxError)) throw error;
          context.report(at, error.message, { offset: error.offset, ...(error.hint ? { hint: error.hint } : {}) });
        }
      });
    }
  });

  for (const inputName of inputs.keys()) {
    if (!used.has(inputName)) {
      context.report(
        [...base, "input", inputName],
        `input '${inputName}' of transaction '${name}' is used by no step`,
        { target: "key" },
      );
    }
  }
}
