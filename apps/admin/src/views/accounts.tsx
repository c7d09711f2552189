/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The operator accounts: every account in a table, and for the operator role the forms that create one and change
 * one (role, disabled, password). The rules are OperatorStore's; a refusal comes back here as a message by its form.
 */
import { isOperatorRole, OPERATOR_ROLES, type Operator } from "@ferry/runtime";
import { Layout, utcTime } from "./layout.tsx";

const when = (iso: string) => (iso === "" ? "?" : utcTime(iso));

/** The forms of the page: creating an account, and the three changes to one. */
export type AccountForm = "create" | "role" | "disabled" | "password";

/** A form that was refused: which one (and for which account), why, and what was typed (never a password). */
export interface AccountFailure {
  form: AccountForm;
  /** The account the form changes (not for `create`). */
  account?: string;
  message: string;
  fields?: Record<string, string> | undefined;
  typed?: { name?: string; role?: string };
}

export function accountHref(name: string, change: Exclude<AccountForm, "create">): string {
  return `/accounts/${encodeURIComponent(name)}/${change}`;
}

function FieldError(props: { message?: string | undefined }) {
  return props.message ? <div class="field-error">{props.message}</div> : null;
}

/** The roles to choose from: the one chosen before when it is one, else `otherwise` (never a role by accident). */
function RoleOptions(props: { chosen: string | undefined; otherwise: string }) {
  const selected = isOperatorRole(props.chosen) ? props.chosen : props.otherwise;
  return (
    <>
      {OPERATOR_ROLES.map((role) => (
        <option value={role} selected={selected === role}>
          {role}
        </option>
      ))}
    </>
  );
}

export function AccountsPage(props: {
  operator: Operator;
  accounts: readonly Operator[];
  /** Said after a change that went through. */
  done?: string | undefined;
  failure?: AccountFailure | undefined;
}) {
  const { operator, accounts, done, failure } = props;
  const acts = operator.role === "operator";
  return (
    <Layout title="Accounts" operator={operator}>
      <h1>Operator accounts</h1>
      <p class="muted">
        A viewer reads everything; an operator also acts and manages the accounts. Every change is in the audit log, and
        a change of role or password, or disabling, ends the account's sessions.
      </p>
      {done ? <div class="notice ok">{done}</div> : null}
      <section class="card" aria-label="accounts">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <th>Last changed</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((account) => (
              <tr>
                <td>
                  {account.name}
                  {account.name === operator.name ? <span class="muted"> (you)</span> : null}
                </td>
                <td>{account.role}</td>
                <td class={account.disabled ? "unmet" : "met"}>{account.disabled ? "disabled" : "active"}</td>
                <td>
                  {when(account.createdAt)} <span class="muted">by {account.createdBy || "?"}</span>
                </td>
                <td>{when(account.changedAt)}</td>
              </tr>
            ))}
            {accounts.length === 0 ? (
              <tr>
                <td colspan={5} class="muted">
                  No accounts.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </section>
      {acts ? (
        <>
          <CreateCard failure={failure?.form === "create" ? failure : undefined} />
          <div class="grid">
            {accounts.map((account) => (
              <AccountCard
                account={account}
                self={account.name === operator.name}
                failure={failure?.form !== "create" && failure?.account === account.name ? failure : undefined}
              />
            ))}
          </div>
        </>
      ) : (
        <p class="muted">Your account is a viewer: an operator manages the accounts.</p>
      )}
    </Layout>
  );
}

function CreateCard(props: { failure?: AccountFailure | undefined }) {
  const { failure } = props;
  const fields = failure?.fields ?? {};
  return (
    <section class="card" aria-label="create an account">
      <h2>Create an account</h2>
      {failure ? <div class="notice bad">{failure.message}</div> : null}
      <form class="filters" method="post" action="/accounts">
        <div>
          <label for="new-name">Name</label>
          <input
            type="text"
            id="new-name"
            name="name"
            value={failure?.typed?.name ?? ""}
            maxlength={64}
            autocomplete="off"
            required
          />
          <FieldError message={fields.name} />
        </div>
        <div>
          <label for="new-role">Role</label>
          <select id="new-role" name="role">
            <RoleOptions chosen={failure?.typed?.role} otherwise="viewer" />
          </select>
          <FieldError message={fields.role} />
        </div>
        <div>
          <label for="new-password">Password</label>
          <input type="password" id="new-password" name="password" autocomplete="new-password" required />
          <FieldError message={fields.password} />
        </div>
        <div>
          <label for="new-confirm">Password again</label>
          <input type="password" id="new-confirm" name="confirm" autocomplete="new-password" required />
          <FieldError message={fields.confirm} />
        </div>
        <div class="actions">
          <button class="primary" type="submit">
            Create the account
          </button>
        </div>
      </form>
    </section>
  );
}

function AccountCard(props: { account: Operator; self: boolean; failure?: AccountFailure | undefined }) {
  const { account, self, failure } = props;
  const on = (form: AccountForm) => (failure?.form === form ? failure : undefined);
  const role = on("role");
  const disabled = on("disabled");
  const password = on("password");
  const id = (field: string) => `${field}-${account.name}`;
  return (
    <section class="card" aria-label={`account ${account.name}`}>
      <h2>
        {account.name}
        {self ? <span class="muted"> (you)</span> : null}
      </h2>
      <p class="muted">
        {account.role}, {account.disabled ? "disabled" : "active"}
        {self ? ". A change to your own account ends your session: you log in again." : null}
      </p>
      {role ? <div class="notice bad">{role.message}</div> : null}
      <form class="filters" method="post" action={accountHref(account.name, "role")}>
        <div>
          <label for={id("role")}>Role</label>
          <select id={id("role")} name="role">
            <RoleOptions chosen={role?.typed?.role} otherwise={account.role} />
          </select>
          <FieldError message={role?.fields?.role} />
        </div>
        <div class="actions">
          <button class="primary" type="submit">
            Change the role
          </button>
        </div>
      </form>
      {disabled ? <div class="notice bad">{disabled.message}</div> : null}
      <form class="filters" method="post" action={accountHref(account.name, "disabled")}>
        <input type="hidden" name="disabled" value={account.disabled ? "false" : "true"} />
        <div class="actions">
          <button class={account.disabled ? "primary" : "primary danger"} type="submit">
            {account.disabled ? "Enable" : "Disable"} {account.name}
          </button>
        </div>
        <FieldError message={disabled?.fields?.disabled} />
      </form>
      {password ? <div class="notice bad">{password.message}</div> : null}
      <form class="filters" method="post" action={accountHref(account.name, "password")}>
        <div>
          <label for={id("password")}>New password</label>
          <input type="password" id={id("password")} name="password" autocomplete="new-password" required />
          <FieldError message={password?.fields?.password} />
        </div>
        <div>
          <label for={id("confirm")}>New password again</label>
          <input type="password" id={id("confirm")} name="confirm" autocomplete="new-password" required />
          <FieldError message={password?.fields?.confirm} />
        </div>
        <div class="actions">
          <button class="primary" type="submit">
            Set the password
          </button>
        </div>
      </form>
    </section>
  );
}
