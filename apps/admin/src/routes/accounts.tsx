/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The operator accounts' routes: the page with its forms, and the same changes as a JSON API. No rule lives here: the
 * rules (names, passwords, roles, the last active operator) are OperatorStore's, which also records every change in
 * the audit trail; this maps its refusals to statuses and form fields. A change to one's own account ends one's session
 * (the store moves the account's session generation on), so it logs out here as well.
 */
import {
  isOperatorRole,
  OPERATOR_NAME,
  OPERATOR_ROLES,
  type Operator,
  OperatorAccountError,
  type OperatorRole,
  type OperatorStore,
  operatorNameProblem,
  operatorPasswordProblem,
} from "@ferry/runtime";
import type { Context } from "hono";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { AdminError } from "../errors.ts";
import { type AdminEnv, logOut } from "../session.ts";
import { type AccountFailure, type AccountForm, AccountsPage } from "../views/accounts.tsx";

/** What a change says once it went through: a code in the redirect, a sentence from the account as it is now. */
type Done = "created" | "role" | "disabled" | "enabled" | "password";
const DONE: Record<Done, (account: Operator) => string | undefined> = {
  created: (a) => `Account ${a.name} created: ${article(a.role)} ${a.role}.`,
  role: (a) => `${a.name} is now ${article(a.role)} ${a.role}; its sessions ended.`,
  disabled: (a) => (a.disabled ? `${a.name} is disabled: its sessions ended and it cannot log in.` : undefined),
  enabled: (a) => (a.disabled ? undefined : `${a.name} is enabled again.`),
  password: (a) => `${a.name} has a new password; its sessions ended.`,
};

/**
 * What the page says after a change: the code's sentence about the account as the store has it now, nothing for a
 * code or an account there is not (a link cannot make the page claim a change, nor put its own words on it).
 */
function saying(code: string | undefined, name: string | undefined, accounts: readonly Operator[]): string | undefined {
  if (code === undefined || !Object.hasOwn(DONE, code)) return undefined;
  const account = accounts.find((a) => a.name === name);
  return account === undefined ? undefined : DONE[code as Done](account);
}

/** Why each form's change was not made (the fields say what to mend). */
const NOT_DONE: Record<AccountForm, string> = {
  create: "The account was not created.",
  role: "The role was not changed.",
  disabled: "The account was not changed.",
  password: "The password was not changed.",
};

function article(role: OperatorRole): string {
  return role === "operator" ? "an" : "a";
}

/** A message of the store's as a sentence: a capital first (unless it starts with a name) and a full stop. */
function sentence(text: string, capital = true): string {
  const start = capital ? `${text.charAt(0).toUpperCase()}${text.slice(1)}` : text;
  return /[.!?]$/.test(start) ? start : `${start}.`;
}

/** An account as the console shows it: never its password hash or its session generation. */
function shown(account: Operator) {
  const { name, role, disabled, createdAt, createdBy, changedAt } = account;
  return { name, role, disabled, createdAt, createdBy, changedAt };
}

/** A store's refusal as the console answers it; anything else as it is. */
function refusal(error: unknown, form: AccountForm): unknown {
  if (!(error instanceof OperatorAccountError)) return error;
  switch (error.reason) {
    case "name":
    case "password":
    case "role":
      return new AdminError(400, "invalid", NOT_DONE[form], { [error.reason]: sentence(error.message) });
    case "exists":
      return new AdminError(409, "name_taken", NOT_DONE[form], { name: sentence(error.message) });
    case "missing":
      return new AdminError(404, "not_found", "There is no operator account of this name.");
    case "last-operator":
      return new AdminError(409, "last_operator", `${NOT_DONE[form]} ${sentence(error.message, false)}`);
  }
}

/** A text field of a form or a JSON body (undefined when it is not text). */
function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A JSON request's body when it is an object; an empty one otherwise (null, an array, a number, bad JSON). */
async function jsonObject(c: Context<AdminEnv>): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => undefined);
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** The problems of a password typed (twice on a form), by field, with the store's rule. */
function passwordFields(password: unknown, confirm: unknown, twice: boolean): Record<string, string> {
  const fields: Record<string, string> = {};
  const typed = text(password) ?? "";
  if (typed === "") fields.password = "Enter a password.";
  else {
    const problem = operatorPasswordProblem(typed);
    if (problem) fields.password = sentence(problem);
  }
  if (twice && typed !== "" && text(confirm) !== typed)
    fields.confirm = "The two passwords differ: type the same one twice.";
  return fields;
}

const ROLE_FIELD = `Choose a role: ${OPERATOR_ROLES.join(" or ")}.`;

/** A new account's fields, every problem at once (the store's rules): AdminError 400 with a message per field. */
function readNewAccount(
  body: Record<string, unknown>,
  twice: boolean,
): { name: string; role: OperatorRole; password: string } {
  const fields: Record<string, string> = {};
  const name = (text(body.name) ?? "").trim();
  if (name === "") fields.name = "Enter a name.";
  else {
    const problem = operatorNameProblem(name);
    if (problem) fields.name = sentence(problem);
  }
  if (!isOperatorRole(body.role)) fields.role = ROLE_FIELD;
  Object.assign(fields, passwordFields(body.password, body.confirm, twice));
  if (Object.keys(fields).length > 0) throw new AdminError(400, "invalid", NOT_DONE.create, fields);
  return { name, role: body.role as OperatorRole, password: text(body.password) as string };
}

function readRole(body: Record<string, unknown>): OperatorRole {
  if (!isOperatorRole(body.role)) throw new AdminError(400, "invalid", NOT_DONE.role, { role: ROLE_FIELD });
  return body.role;
}

/** `disabled`: a boolean from JSON, "true" or "false" from a form (its hidden field). */
function readDisabled(value: unknown, fromForm: boolean): boolean {
  if (value === true || (fromForm && value === "true")) return true;
  if (value === false || (fromForm && value === "false")) return false;
  throw new AdminError(400, "invalid", NOT_DONE.disabled, { disabled: "Say whether to disable: true or false." });
}

function readPassword(body: Record<string, unknown>, twice: boolean): string {
  const fields = passwordFields(body.password, body.confirm, twice);
  if (Object.keys(fields).length > 0) throw new AdminError(400, "invalid", NOT_DONE.password, fields);
  return text(body.password) as string;
}

export function accountRoutes(routes: AccessRoutes, operators: OperatorStore): void {
  const me = operatorOf;

  /** The account named in the path, or a 404 (a name the store could never have is not looked up). */
  const named = async (c: Context<AdminEnv>): Promise<Operator> => {
    const name = c.req.param("name") ?? "";
    const account = OPERATOR_NAME.test(name) ? await operators.get(name) : undefined;
    if (account === undefined) throw new AdminError(404, "not_found", "There is no operator account of this name.");
    return account;
  };

  /** Makes a change through the store, its refusals as AdminErrors. */
  const change = async (form: AccountForm, act: () => Promise<Operator>): Promise<Operator> => {
    try {
      return await act();
    } catch (error) {
      throw refusal(error, form);
    }
  };

  /** A change to the caller's own account ended its session (the store moved the generation on): log out here too. */
  const endedOwnSession = (c: Context<AdminEnv>, changed: Operator): boolean => {
    if (changed.name !== me(c).name) return false;
    logOut(c);
    return true;
  };

  const page = async (c: Context<AdminEnv>, failure?: AccountFailure, status: 200 | 400 | 409 = 200) => {
    const accounts = await operators.list();
    const done = failure === undefined ? saying(c.req.query("done"), c.req.query("account"), accounts) : undefined;
    return c.html(<AccountsPage operator={me(c)} accounts={accounts} done={done} failure={failure} />, status);
  };

  /**
   * A form's post: the change, then a redirect to the page saying it (or to the log-in page when the caller's own
   * session ended); a refusal shows the page again with the message by the form and what was typed.
   */
  const formPost =
    (
      form: AccountForm,
      act: (c: Context<AdminEnv>, body: Record<string, unknown>) => Promise<{ account: Operator; done: Done }>,
      typed: (body: Record<string, unknown>) => AccountFailure["typed"],
    ) =>
    async (c: Context<AdminEnv>) => {
      const body: Record<string, unknown> = await c.req.parseBody();
      try {
        const { account, done } = await act(c, body);
        if (endedOwnSession(c, account)) return c.redirect("/login", 303);
        return c.redirect(`/accounts?done=${done}&account=${encodeURIComponent(account.name)}`, 303);
      } catch (error) {
        if (!(error instanceof AdminError) || (error.status !== 400 && error.status !== 409)) throw error;
        const name = c.req.param("name");
        return page(
          c,
          {
            form,
            ...(form === "create" || name === undefined ? {} : { account: name }),
            message: error.message,
            fields: error.fields,
            typed: typed(body),
          },
          error.status,
        );
      }
    };

  // From a form, a password is typed twice and `disabled` is text; from the API, once, and a boolean.
  const create = (c: Context<AdminEnv>, body: Record<string, unknown>, fromForm: boolean) => {
    const input = readNewAccount(body, fromForm);
    return change("create", () => operators.create({ ...input, by: me(c).name }));
  };
  const setRole = async (c: Context<AdminEnv>, body: Record<string, unknown>) => {
    const { name } = await named(c);
    const role = readRole(body);
    return change("role", () => operators.setRole(name, role, me(c).name));
  };
  const setDisabled = async (c: Context<AdminEnv>, body: Record<string, unknown>, fromForm: boolean) => {
    const { name } = await named(c);
    const disabled = readDisabled(body.disabled, fromForm);
    return change("disabled", () => operators.setDisabled(name, disabled, me(c).name));
  };
  const setPassword = async (c: Context<AdminEnv>, body: Record<string, unknown>, fromForm: boolean) => {
    const { name } = await named(c);
    const password = readPassword(body, fromForm);
    return change("password", () => operators.setPassword(name, password, me(c).name));
  };

  // The page: every account; the forms for the operator role.
  routes.get("/accounts", "viewer", (c) => page(c));
  routes.post(
    "/accounts",
    "operator",
    formPost(
      "create",
      async (c, body) => ({ account: await create(c, body, true), done: "created" }),
      (body) => ({ name: text(body.name) ?? "", role: text(body.role) ?? "" }),
    ),
  );
  routes.post(
    "/accounts/:name/role",
    "operator",
    formPost(
      "role",
      async (c, body) => ({ account: await setRole(c, body), done: "role" }),
      (body) => ({ role: text(body.role) ?? "" }),
    ),
  );
  routes.post(
    "/accounts/:name/disabled",
    "operator",
    formPost(
      "disabled",
      async (c, body) => {
        const account = await setDisabled(c, body, true);
        return { account, done: account.disabled ? "disabled" : "enabled" };
      },
      () => ({}),
    ),
  );
  routes.post(
    "/accounts/:name/password",
    "operator",
    formPost(
      "password",
      async (c, body) => ({ account: await setPassword(c, body, true), done: "password" }),
      () => ({}),
    ),
  );

  // The API: the same, as JSON.
  routes.get("/api/accounts", "viewer", async (c) => c.json({ accounts: (await operators.list()).map(shown) }));
  routes.post("/api/accounts", "operator", async (c) => {
    const account = await create(c, await jsonObject(c), false);
    return c.json({ account: shown(account) }, 201);
  });
  const answer = (c: Context<AdminEnv>, account: Operator) =>
    c.json({ account: shown(account), sessionEnded: endedOwnSession(c, account) });
  routes.post("/api/accounts/:name/role", "operator", async (c) => answer(c, await setRole(c, await jsonObject(c))));
  routes.post("/api/accounts/:name/disabled", "operator", async (c) =>
    answer(c, await setDisabled(c, await jsonObject(c), false)),
  );
  routes.post("/api/accounts/:name/password", "operator", async (c) =>
    answer(c, await setPassword(c, await jsonObject(c), false)),
  );
}
