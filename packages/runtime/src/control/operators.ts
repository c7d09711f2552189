/**
 * The admin console's operators: accounts in the control table (never in the data being migrated, so no phase locks
 * anyone out), with scrypt password hashes and one of two roles: `viewer` reads everything, `operator` also acts
 * (phases, backfill, validation, repair, the outbox) and manages the accounts.
 *
 * Items: pk `OPERATOR`, sk the operator's name: `role`, `passwordHash`, `createdAt`, `createdBy`, `disabled` (BOOL),
 * `sessions` (N: the account's session generation; a session carries the one it was issued in and is valid while it
 * is the account's; a new password, a change of role, disabling and log-out add one, atomically, so no clock is
 * compared; a new account starts at its creation time in milliseconds, so that sessions of an earlier account of
 * the same name never match) and `changedAt`. One partition: a console has a handful of operators.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { AuditTrail } from "./audit-trail.ts";
import { hashOperatorPassword, operatorPasswordMatches } from "./passwords.ts";
import { CONTROL_KEY, type ControlItem, controlKey, ensureControlTable } from "./table.ts";

/** The partition of the operator accounts (sort key: the name). */
export const OPERATOR_PARTITION = "OPERATOR";

export const OPERATOR_ROLES = ["viewer", "operator"] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** What a name may be: lowercase letters, digits, `.`, `_` and `-`, 2 to 32 characters, starting with a letter or digit. */
export const OPERATOR_NAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;

/** The shortest password an operator may have. */
export const MIN_OPERATOR_PASSWORD = 12;
/** The longest (scrypt takes any length; this keeps a request from making it work on megabytes). */
export const MAX_OPERATOR_PASSWORD = 1024;

export interface Operator {
  name: string;
  role: OperatorRole;
  disabled: boolean;
  /** ISO-8601. */
  createdAt: string;
  createdBy: string;
  /** ISO-8601, of the last change to the account. */
  changedAt: string;
  /** The session generation: sessions issued in another one are over. */
  sessions: number;
}

/** A request about operator accounts that cannot be done as asked (the message says why). */
export class OperatorAccountError extends Error {
  override readonly name = "OperatorAccountError";
  constructor(
    readonly reason: "name" | "password" | "role" | "exists" | "missing" | "last-operator",
    message: string,
  ) {
    super(message);
  }
}

export interface OperatorStoreOptions {
  /** Put in front of the control table's name (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** The problem with a name, or undefined when it is a good one. */
export function operatorNameProblem(name: string): string | undefined {
  return OPERATOR_NAME.test(name)
    ? undefined
    : "a name is 2 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit";
}

/** The problem with a password, or undefined when it is long enough (and not absurdly long). */
export function operatorPasswordProblem(password: string): string | undefined {
  if (password.length < MIN_OPERATOR_PASSWORD) return `a password has at least ${MIN_OPERATOR_PASSWORD} characters`;
  if (password.length > MAX_OPERATOR_PASSWORD) return `a password has at most ${MAX_OPERATOR_PASSWORD} characters`;
  return undefined;
}

export function isOperatorRole(role: unknown): role is OperatorRole {
  return OPERATOR_ROLES.includes(role as OperatorRole);
}

/** The operator accounts of one control table. */
export class OperatorStore {
  private readonly now: () => number;
  /** Compared with when a name has no account, so that a wrong name takes as long as a wrong password. */
  private decoy: Promise<string> | undefined;
  /** Where account changes are recorded (who changed what, before and after). */
  private readonly trail: AuditTrail;

  constructor(
    readonly client: DynamoDBClient,
    private readonly options: OperatorStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.trail = new AuditTrail(client, { tablePrefix: options.tablePrefix, now: this.now });
  }

  private table(): Promise<string> {
    return ensureControlTable(this.client, this.options.tablePrefix);
  }

  /** Creates an account; OperatorAccountError when the name, password or role will not do or the name is taken. */
  async create(input: { name: string; password: string; role: OperatorRole; by: string }): Promise<Operator> {
    const nameProblem = operatorNameProblem(input.name);
    if (nameProblem) throw new OperatorAccountError("name", nameProblem);
    const passwordProblem = operatorPasswordProblem(input.password);
    if (passwordProblem) throw new OperatorAccountError("password", passwordProblem);
    if (!isOperatorRole(input.role)) {
      throw new OperatorAccountError("role", `a role is one of ${OPERATOR_ROLES.join(", ")}`);
    }
    const now = this.now();
    const at = new Date(now).toISOString();
    const operator: Operator = {
      name: input.name,
      role: input.role,
      disabled: false,
      createdAt: at,
      createdBy: input.by,
      changedAt: at,
      // Sessions signed for an earlier account of the same name (deleted by hand) are not this one's.
      sessions: now,
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: await this.table(),
          Item: { ...toItem(operator), passwordHash: { S: await hashOperatorPassword(input.password) } },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new OperatorAccountError("exists", `there is an operator named ${input.name} already`);
      }
      throw error;
    }
    await this.recorded({
      who: input.by,
      kind: "account",
      what: `operator ${operator.name} created (${operator.role})`,
      after: describe(operator),
    });
    return operator;
  }

  /** The account of this name, undefined when there is none. */
  async get(name: string): Promise<Operator | undefined> {
    const item = await this.item(name);
    return item === undefined ? undefined : fromItem(item);
  }

  /** Every account, by name. */
  async list(): Promise<Operator[]> {
    const table = await this.table();
    const operators: Operator[] = [];
    let start: ControlItem | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
          ExpressionAttributeValues: { ":pk": { S: OPERATOR_PARTITION } },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) operators.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return operators;
  }

  /**
   * The account when `password` is its password and it is not disabled; undefined otherwise (which of these is not
   * told, and an unknown name takes as long as a wrong password).
   */
  async authenticate(name: string, password: string): Promise<Operator | undefined> {
    const item = OPERATOR_NAME.test(name) ? await this.item(name) : undefined;
    const hash = item?.passwordHash?.S;
    if (item === undefined || hash === undefined || password.length > MAX_OPERATOR_PASSWORD) {
      this.decoy ??= hashOperatorPassword("no operator has this password");
      await operatorPasswordMatches(password.slice(0, MAX_OPERATOR_PASSWORD), await this.decoy);
      return undefined;
    }
    const operator = fromItem(item);
    return (await operatorPasswordMatches(password, hash)) && !operator.disabled ? operator : undefined;
  }

  /** Gives an account another role (its sessions end). The last active operator cannot become a viewer. */
  async setRole(name: string, role: OperatorRole, by: string): Promise<Operator> {
    if (!isOperatorRole(role)) throw new OperatorAccountError("role", `a role is one of ${OPERATOR_ROLES.join(", ")}`);
    if (role !== "operator") await this.keepAnOperator(name);
    return this.changed(by, `operator ${name} made ${role}`, name, () =>
      this.update(name, "SET #role = :role", { "#role": "role" }, { ":role": { S: role } }),
    );
  }

  /** Disables or enables an account (disabling ends its sessions). The last active operator cannot be disabled. */
  async setDisabled(name: string, disabled: boolean, by: string): Promise<Operator> {
    if (disabled) await this.keepAnOperator(name);
    return this.changed(by, `operator ${name} ${disabled ? "disabled" : "enabled"}`, name, () =>
      this.update(name, "SET #disabled = :disabled", { "#disabled": "disabled" }, { ":disabled": { BOOL: disabled } }),
    );
  }

  /** Sets a new password (the account's sessions end). */
  async setPassword(name: string, password: string, by: string): Promise<Operator> {
    const problem = operatorPasswordProblem(password);
    if (problem) throw new OperatorAccountError("password", problem);
    const hash = await hashOperatorPassword(password);
    return this.changed(by, `operator ${name}: new password`, name, () =>
      this.update(name, "SET #hash = :hash", { "#hash": "passwordHash" }, { ":hash": { S: hash } }),
    );
  }

  /** Makes a change to an account and records it in the audit trail, with the account before and after. */
  private async changed(by: string, what: string, name: string, change: () => Promise<Operator>): Promise<Operator> {
    const before = await this.get(name);
    const after = await change();
    await this.recorded({
      who: by,
      kind: "account",
      what,
      ...(before === undefined ? {} : { before: describe(before) }),
      after: describe(after),
    });
    return after;
  }

  /**
   * Records an account change made already: a trail that cannot be written is told on stderr, and the change (which
   * stands) is not reported as failed.
   */
  private async recorded(entry: Parameters<AuditTrail["record"]>[0]): Promise<void> {
    try {
      await this.trail.record(entry);
    } catch (error) {
      console.error(`ferry: the audit trail could not record "${entry.what}"`, error);
    }
  }

  /** Ends every session of the account issued up to now (log-out). */
  async endSessions(name: string): Promise<Operator> {
    return this.update(name, undefined, {}, {});
  }

  private async item(name: string): Promise<ControlItem | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: await this.table(),
        Key: controlKey({ pk: OPERATOR_PARTITION, sk: name }),
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  /**
   * Refuses when `name` is the only active operator (someone must be able to act and to manage accounts). Two
   * operators demoting each other at the same instant can both pass; `ferry admin create-operator`, which needs
   * access to the control table and not to the console, makes a new one then.
   */
  private async keepAnOperator(name: string): Promise<void> {
    const others = (await this.list()).filter((o) => o.name !== name && o.role === "operator" && !o.disabled);
    if (others.length === 0) {
      throw new OperatorAccountError(
        "last-operator",
        `${name} is the last active operator; make another one an operator first`,
      );
    }
  }

  /** One change to an existing account, which also ends its sessions (the next session generation). */
  private async update(
    name: string,
    /** A SET clause of the change (its names and values follow), or undefined when only the sessions end. */
    set: string | undefined,
    names: Record<string, string>,
    values: ControlItem,
  ): Promise<Operator> {
    const now = this.now();
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: await this.table(),
          Key: controlKey({ pk: OPERATOR_PARTITION, sk: name }),
          // A change to the account is dated; a log-out (no SET clause of its own) only ends the sessions.
          UpdateExpression: `${set === undefined ? "" : `${set}, #changedAt = :changedAt `}ADD #sessions :one`,
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: {
            ...names,
            "#pk": CONTROL_KEY.partition,
            ...(set === undefined ? {} : { "#changedAt": "changedAt" }),
            "#sessions": "sessions",
          },
          ExpressionAttributeValues: {
            ...values,
            ...(set === undefined ? {} : { ":changedAt": { S: new Date(now).toISOString() } }),
            ":one": { N: "1" },
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return fromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new OperatorAccountError("missing", `there is no operator named ${name}`);
      }
      throw error;
    }
  }
}

/** An account as the audit trail shows it (never its hash). */
function describe(operator: Operator): string {
  return `${operator.name}: ${operator.role}, ${operator.disabled ? "disabled" : "active"}`;
}

function toItem(operator: Operator): ControlItem {
  return {
    ...controlKey({ pk: OPERATOR_PARTITION, sk: operator.name }),
    role: { S: operator.role },
    disabled: { BOOL: operator.disabled },
    createdAt: { S: operator.createdAt },
    createdBy: { S: operator.createdBy },
    changedAt: { S: operator.changedAt },
    sessions: { N: String(operator.sessions) },
  };
}

function fromItem(item: ControlItem): Operator {
  const role = item.role?.S;
  return {
    name: item[CONTROL_KEY.sort]?.S ?? "",
    // An account whose role cannot be read can read, never act.
    role: isOperatorRole(role) ? role : "viewer",
    disabled: item.disabled?.BOOL === true,
    createdAt: item.createdAt?.S ?? "",
    createdBy: item.createdBy?.S ?? "",
    changedAt: item.changedAt?.S ?? "",
    sessions: Number(item.sessions?.N ?? "0"),
  };
}
