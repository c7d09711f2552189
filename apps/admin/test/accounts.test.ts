import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { form, json, PASSWORDS, readable, type TestConsole, testConsole } from "./console.ts";

const stack = useTestStack();

const NAME_RULE = "A name is 2 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter or a digit.";
const PASSWORD_RULE = "A password has at least 12 characters.";
const ROLE_RULE = "Choose a role: viewer or operator.";
const MISMATCH = "The two passwords differ: type the same one twice.";
const NO_ACCOUNT = "There is no operator account of this name.";

/** An instant as the API gives it, and as the page shows it. */
const iso = (ms: number) => new Date(ms).toISOString();
const shown = (ms: number) => `${iso(ms).replace("T", " ").slice(0, 19)} UTC`;

/** The page's success notice, or undefined. */
const notice = (html: string) => /<div class="notice ok">([^<]*)<\/div>/.exec(html)?.[1];
/** The page's refusal notices. */
const refusals = (html: string) =>
  [...html.matchAll(/<div class="notice bad">([^<]*)<\/div>/g)].map((m) => readable(m[1] ?? ""));
/** The messages by the fields, in the page's order. */
const fieldErrors = (html: string) =>
  [...html.matchAll(/<div class="field-error">([^<]*)<\/div>/g)].map((m) => readable(m[1] ?? ""));
/** Where each form of the page posts to. */
const forms = (html: string) => [...html.matchAll(/<form([^>]*)>/g)].map((m) => m[1] ?? "");

/** Logs in through the API with any password: the status, and the session cookie when it was let in. */
async function tryLogIn(console: TestConsole, name: string, password: string, from = "127.0.0.1") {
  const answer = await console.request("/api/session", { ...json({ name, password }), from });
  return { status: answer.status, cookie: answer.headers.get("set-cookie")?.split(";")[0] ?? "" };
}

/** Who changed which account, as the audit trail has it (newest first). */
async function accountEntries(console: TestConsole) {
  return (await console.trail.page({ kind: "account", limit: 100 })).entries.map((e) => [e.who, e.what]);
}

describe("the operator accounts", () => {
  it("lists every account: to a viewer as a table only, to an operator with the forms; the API never tells a hash", async () => {
    const console = await testConsole(stack, "accounts_list");
    const adaAt = console.clock.now - 1;
    const valAt = console.clock.now;
    const viewer = await console.logIn("val");

    const asViewer = await console.request("/accounts", { cookie: viewer });
    expect(asViewer.status).toBe(200);
    const viewerPage = await asViewer.text();
    expect(readable(viewerPage)).toContain(
      `Name Role Status Created Last changed ada operator active ${shown(adaAt)} by test ${shown(adaAt)} val (you) viewer active ${shown(valAt)} by ada ${shown(valAt)}`,
    );
    expect(readable(viewerPage)).toContain("Your account is a viewer: an operator manages the accounts.");
    // The log-out button's form only.
    expect(forms(viewerPage)).toEqual([' method="post" action="/logout"']);

    const operator = await console.logIn("ada");
    const operatorPage = await (await console.request("/accounts", { cookie: operator })).text();
    expect(readable(operatorPage)).toContain(
      `ada (you) operator active ${shown(adaAt)} by test ${shown(adaAt)} val viewer active ${shown(valAt)} by ada ${shown(valAt)}`,
    );
    expect(readable(operatorPage)).not.toContain("Your account is a viewer");
    expect(forms(operatorPage)).toEqual([
      ' method="post" action="/logout"',
      ' class="filters" method="post" action="/accounts"',
      ' class="filters" method="post" action="/accounts/ada/role"',
      ' class="filters" method="post" action="/accounts/ada/disabled"',
      ' class="filters" method="post" action="/accounts/ada/password"',
      ' class="filters" method="post" action="/accounts/val/role"',
      ' class="filters" method="post" action="/accounts/val/disabled"',
      ' class="filters" method="post" action="/accounts/val/password"',
    ]);
    expect(readable(operatorPage)).toContain("Disable ada");
    expect(readable(operatorPage)).toContain("Disable val");
    expect(operatorPage).not.toContain("notice ok");
    expect(operatorPage).not.toContain("notice bad");

    const api = await console.request("/api/accounts", { cookie: viewer });
    expect(api.status).toBe(200);
    const body = await api.text();
    expect(JSON.parse(body)).toEqual({
      accounts: [
        {
          name: "ada",
          role: "operator",
          disabled: false,
          createdAt: iso(adaAt),
          createdBy: "test",
          changedAt: iso(adaAt),
        },
        {
          name: "val",
          role: "viewer",
          disabled: false,
          createdAt: iso(valAt),
          createdBy: "ada",
          changedAt: iso(valAt),
        },
      ],
    });
    expect(body).not.toMatch(/sessions|hash|scrypt|password/i);
  });

  it("creates an account through the form and through the API, recorded once each; the new accounts log in", async () => {
    const console = await testConsole(stack, "accounts_create");
    const cookie = await console.logIn("ada");
    console.clock.now += 1_000;
    const created = await console.request("/accounts", {
      ...form({ name: "bob", role: "operator", password: "bob's long password", confirm: "bob's long password" }),
      cookie,
    });
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe("/accounts?done=created&account=bob");
    const page = await (await console.request("/accounts?done=created&account=bob", { cookie })).text();
    expect(notice(page)).toBe("Account bob created: an operator.");
    expect(readable(page)).toContain(
      `bob operator active ${shown(console.clock.now)} by ada ${shown(console.clock.now)}`,
    );
    const bob = await tryLogIn(console, "bob", "bob's long password");
    expect(bob.status).toBe(200);
    expect(await (await console.request("/api/session", { cookie: bob.cookie })).json()).toEqual({
      operator: { name: "bob", role: "operator" },
    });

    console.clock.now += 1_000;
    const api = await console.request("/api/accounts", {
      ...json({ name: "carol", role: "viewer", password: "carol's long password" }),
      cookie,
    });
    expect(api.status).toBe(201);
    expect(await api.json()).toEqual({
      account: {
        name: "carol",
        role: "viewer",
        disabled: false,
        createdAt: iso(console.clock.now),
        createdBy: "ada",
        changedAt: iso(console.clock.now),
      },
    });
    const carol = await tryLogIn(console, "carol", "carol's long password");
    expect(carol.status).toBe(200);
    expect(await (await console.request("/api/session", { cookie: carol.cookie })).json()).toEqual({
      operator: { name: "carol", role: "viewer" },
    });
    // The store records each change; the route does not record it again.
    expect(await accountEntries(console)).toEqual([
      ["ada", "operator carol created (viewer)"],
      ["ada", "operator bob created (operator)"],
      ["ada", "operator val created (viewer)"],
      ["test", "operator ada created (operator)"],
    ]);

    // The notice is the server's sentence about an account that is so: a link cannot make the page claim a change.
    for (const link of [
      "/accounts?done=disabled&account=bob",
      "/accounts?done=enabled&account=nobody",
      "/accounts?done=created&account=%3Cb%3Ebob",
      "/accounts?done=%3Cscript%3E&account=bob",
      "/accounts?done=toString&account=bob",
      "/accounts?done=created",
    ]) {
      const answer = await console.request(link, { cookie });
      expect(answer.status, link).toBe(200);
      expect(notice(await answer.text()), link).toBeUndefined();
    }
    expect(notice(await (await console.request("/accounts?done=enabled&account=carol", { cookie })).text())).toBe(
      "carol is enabled again.",
    );
  });

  it("refuses bad input with a message by each field, keeps what was typed (never a password) and writes nothing", async () => {
    const console = await testConsole(stack, "accounts_bad");
    const cookie = await console.logIn("ada");
    const before = await console.request("/api/accounts", { cookie }).then((r) => r.json());

    const bad = await console.request("/accounts", {
      ...form({ name: "<script>x</script>", role: "admin", password: "tiny-secret", confirm: "other-secret" }),
      cookie,
    });
    expect(bad.status).toBe(400);
    const badPage = await bad.text();
    expect(refusals(badPage)).toEqual(["The account was not created."]);
    expect(fieldErrors(badPage)).toEqual([NAME_RULE, ROLE_RULE, PASSWORD_RULE, MISMATCH]);
    expect(badPage).toContain('value="&lt;script&gt;x&lt;/script&gt;"');
    expect(badPage).not.toContain("<script>x");
    expect(badPage).not.toContain("tiny-secret");
    expect(badPage).not.toContain("other-secret");

    const mismatch = await console.request("/accounts", {
      ...form({ name: "dave", role: "operator", password: "dave's long password", confirm: "dave's long passwore" }),
      cookie,
    });
    expect(mismatch.status).toBe(400);
    const mismatchPage = await mismatch.text();
    expect(fieldErrors(mismatchPage)).toEqual([MISMATCH]);
    expect(mismatchPage).toContain('id="new-name" name="name" value="dave"');
    expect(/<select id="new-role" name="role">(.*?)<\/select>/.exec(mismatchPage)?.[1]).toBe(
      '<option value="viewer">viewer</option><option value="operator" selected="">operator</option>',
    );
    expect(mismatchPage).not.toContain("dave's long passw");

    const empty = await console.request("/accounts", { ...form({}), cookie });
    expect(empty.status).toBe(400);
    expect(fieldErrors(await empty.text())).toEqual(["Enter a name.", ROLE_RULE, "Enter a password."]);

    const taken = await console.request("/accounts", {
      ...form({ name: "val", role: "operator", password: "a new long password", confirm: "a new long password" }),
      cookie,
    });
    expect(taken.status).toBe(409);
    const takenPage = await taken.text();
    expect(refusals(takenPage)).toEqual(["The account was not created."]);
    expect(fieldErrors(takenPage)).toEqual(["There is an operator named val already."]);
    expect(takenPage).toContain('id="new-name" name="name" value="val"');

    const api = await console.request("/api/accounts", {
      ...json({ name: "Eve", role: "boss", password: "short" }),
      cookie,
    });
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({
      error: {
        code: "invalid",
        message: "The account was not created.",
        fields: { name: NAME_RULE, role: ROLE_RULE, password: PASSWORD_RULE },
      },
    });
    const tooLong = await console.request("/api/accounts", {
      ...json({ name: "eve", role: "viewer", password: "x".repeat(1025) }),
      cookie,
    });
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json()).error.fields).toEqual({ password: "A password has at most 1024 characters." });
    for (const body of ["null", "[]", '"eve"', "{"]) {
      const odd = await console.request("/api/accounts", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        cookie,
      });
      expect(odd.status, body).toBe(400);
      expect((await odd.json()).error.fields, body).toEqual({
        name: "Enter a name.",
        role: ROLE_RULE,
        password: "Enter a password.",
      });
    }
    const apiTaken = await console.request("/api/accounts", {
      ...json({ name: "ada", role: "viewer", password: "a new long password" }),
      cookie,
    });
    expect(apiTaken.status).toBe(409);
    expect(await apiTaken.json()).toEqual({
      error: {
        code: "name_taken",
        message: "The account was not created.",
        fields: { name: "There is an operator named ada already." },
      },
    });

    // Changes refused the same way, by the form of the account they were for.
    const short = await console.request("/accounts/val/password", {
      ...form({ password: "short one", confirm: "short one" }),
      cookie,
    });
    expect(short.status).toBe(400);
    const shortPage = await short.text();
    expect(refusals(shortPage)).toEqual(["The password was not changed."]);
    expect(fieldErrors(shortPage)).toEqual([PASSWORD_RULE]);
    expect(shortPage.indexOf("The password was not changed.")).toBeGreaterThan(
      shortPage.indexOf('aria-label="account val"'),
    );
    expect(shortPage).not.toContain("short one");
    const differ = await console.request("/accounts/val/password", {
      ...form({ password: "val's next password", confirm: "val's next passwore" }),
      cookie,
    });
    expect(differ.status).toBe(400);
    expect(fieldErrors(await differ.text())).toEqual([MISMATCH]);
    const role = await console.request("/accounts/ada/role", { ...form({ role: "root" }), cookie });
    expect(role.status).toBe(400);
    const rolePage = await role.text();
    expect(refusals(rolePage)).toEqual(["The role was not changed."]);
    expect(fieldErrors(rolePage)).toEqual([ROLE_RULE]);
    // A role there is not chooses none by accident: the account's own stays chosen.
    expect(/<select id="role-ada" name="role">(.*?)<\/select>/.exec(rolePage)?.[1]).toBe(
      '<option value="viewer">viewer</option><option value="operator" selected="">operator</option>',
    );
    const disabled = await console.request("/accounts/val/disabled", { ...form({ disabled: "maybe" }), cookie });
    expect(disabled.status).toBe(400);
    expect(fieldErrors(await disabled.text())).toEqual(["Say whether to disable: true or false."]);
    for (const [path, body, fields] of [
      ["/api/accounts/val/role", { role: "root" }, { role: ROLE_RULE }],
      ["/api/accounts/val/disabled", { disabled: "true" }, { disabled: "Say whether to disable: true or false." }],
      ["/api/accounts/val/disabled", {}, { disabled: "Say whether to disable: true or false." }],
      ["/api/accounts/val/password", { password: "short" }, { password: PASSWORD_RULE }],
      ["/api/accounts/val/password", { password: 123456789012345 }, { password: "Enter a password." }],
    ] as const) {
      const answer = await console.request(path, { ...json(body), cookie });
      expect(answer.status, path).toBe(400);
      expect((await answer.json()).error.fields, path).toEqual(fields);
    }

    expect(await console.request("/api/accounts", { cookie }).then((r) => r.json())).toEqual(before);
    expect(await accountEntries(console)).toEqual([
      ["ada", "operator val created (viewer)"],
      ["test", "operator ada created (operator)"],
    ]);
    expect((await tryLogIn(console, "val", PASSWORDS.val)).status).toBe(200);
  });

  it("changes a role, disables and enables an account and sets a new password, through the forms and the API", async () => {
    const console = await testConsole(stack, "accounts_change");
    const valAt = console.clock.now;
    const cookie = await console.logIn("ada");
    const first = await console.logIn("val");

    console.clock.now += 1_000;
    const promoted = await console.request("/accounts/val/role", { ...form({ role: "operator" }), cookie });
    expect(promoted.status).toBe(303);
    expect(promoted.headers.get("location")).toBe("/accounts?done=role&account=val");
    const promotedPage = await (await console.request("/accounts?done=role&account=val", { cookie })).text();
    expect(notice(promotedPage)).toBe("val is now an operator; its sessions ended.");
    expect(readable(promotedPage)).toContain(`val operator active ${shown(valAt)} by ada ${shown(console.clock.now)}`);
    expect((await console.request("/api/session", { cookie: first })).status).toBe(401);
    const second = await tryLogIn(console, "val", PASSWORDS.val);
    expect(await (await console.request("/api/session", { cookie: second.cookie })).json()).toEqual({
      operator: { name: "val", role: "operator" },
    });

    console.clock.now += 1_000;
    const disabled = await console.request("/accounts/val/disabled", { ...form({ disabled: "true" }), cookie });
    expect(disabled.status).toBe(303);
    expect(disabled.headers.get("location")).toBe("/accounts?done=disabled&account=val");
    const disabledPage = await (await console.request("/accounts?done=disabled&account=val", { cookie })).text();
    expect(notice(disabledPage)).toBe("val is disabled: its sessions ended and it cannot log in.");
    expect(readable(disabledPage)).toContain("val operator disabled");
    expect(readable(disabledPage)).toContain("Enable val");
    expect(disabledPage).toContain('<input type="hidden" name="disabled" value="false"/>');
    // Its session is over, for the API and for the pages; and it cannot log in.
    expect((await console.request("/api/session", { cookie: second.cookie })).status).toBe(401);
    const stale = await console.request("/accounts", { cookie: second.cookie });
    expect(stale.status).toBe(303);
    expect(stale.headers.get("location")).toBe("/login?next=%2Faccounts");
    expect((await tryLogIn(console, "val", PASSWORDS.val)).status).toBe(401);
    const formLogIn = await console.request("/login", { ...form({ name: "val", password: PASSWORDS.val }) });
    expect(formLogIn.status).toBe(401);

    console.clock.now += 1_000;
    const enabled = await console.request("/accounts/val/disabled", { ...form({ disabled: "false" }), cookie });
    expect(enabled.status).toBe(303);
    expect(enabled.headers.get("location")).toBe("/accounts?done=enabled&account=val");
    expect(notice(await (await console.request("/accounts?done=enabled&account=val", { cookie })).text())).toBe(
      "val is enabled again.",
    );
    const third = await tryLogIn(console, "val", PASSWORDS.val);
    expect(third.status).toBe(200);

    console.clock.now += 1_000;
    const password = await console.request("/accounts/val/password", {
      ...form({ password: "val's second password", confirm: "val's second password" }),
      cookie,
    });
    expect(password.status).toBe(303);
    expect(password.headers.get("location")).toBe("/accounts?done=password&account=val");
    expect(notice(await (await console.request("/accounts?done=password&account=val", { cookie })).text())).toBe(
      "val has a new password; its sessions ended.",
    );
    expect((await console.request("/api/session", { cookie: third.cookie })).status).toBe(401);
    expect((await tryLogIn(console, "val", PASSWORDS.val)).status).toBe(401);
    expect((await tryLogIn(console, "val", "val's second password")).status).toBe(200);

    // The API twins: the account as it is now, and whether the caller's own session ended.
    const account = (changedAt: number, role: string, disabled: boolean) => ({
      account: {
        name: "val",
        role,
        disabled,
        createdAt: iso(valAt),
        createdBy: "ada",
        changedAt: iso(changedAt),
      },
      sessionEnded: false,
    });
    console.clock.now += 1_000;
    const demoted = await console.request("/api/accounts/val/role", { ...json({ role: "viewer" }), cookie });
    expect(demoted.status).toBe(200);
    expect(await demoted.json()).toEqual(account(console.clock.now, "viewer", false));
    console.clock.now += 1_000;
    const off = await console.request("/api/accounts/val/disabled", { ...json({ disabled: true }), cookie });
    expect(await off.json()).toEqual(account(console.clock.now, "viewer", true));
    expect((await tryLogIn(console, "val", "val's second password")).status).toBe(401);
    console.clock.now += 1_000;
    const on = await console.request("/api/accounts/val/disabled", { ...json({ disabled: false }), cookie });
    expect(await on.json()).toEqual(account(console.clock.now, "viewer", false));
    console.clock.now += 1_000;
    const reset = await console.request("/api/accounts/val/password", {
      ...json({ password: "val's third password" }),
      cookie,
    });
    expect(await reset.json()).toEqual(account(console.clock.now, "viewer", false));
    expect((await tryLogIn(console, "val", "val's second password", "10.0.0.2")).status).toBe(401);
    expect((await tryLogIn(console, "val", "val's third password")).status).toBe(200);

    // The operator's own session went on through all of it; each change is in the audit trail once.
    expect((await console.request("/api/session", { cookie })).status).toBe(200);
    expect(await accountEntries(console)).toEqual([
      ["ada", "operator val: new password"],
      ["ada", "operator val enabled"],
      ["ada", "operator val disabled"],
      ["ada", "operator val made viewer"],
      ["ada", "operator val: new password"],
      ["ada", "operator val enabled"],
      ["ada", "operator val disabled"],
      ["ada", "operator val made operator"],
      ["ada", "operator val created (viewer)"],
      ["test", "operator ada created (operator)"],
    ]);
  });

  it("the last active operator cannot be demoted or disabled; with another one, a change to one's own account logs out", async () => {
    const console = await testConsole(stack, "accounts_last");
    const cookie = await console.logIn("ada");
    const ada = await console.operators.get("ada");
    const lastRule = "ada is the last active operator; make another one an operator first.";

    const demote = await console.request("/accounts/ada/role", { ...form({ role: "viewer" }), cookie });
    expect(demote.status).toBe(409);
    const demotePage = await demote.text();
    expect(refusals(demotePage)).toEqual([`The role was not changed. ${lastRule}`]);
    expect(demotePage.indexOf("The role was not changed.")).toBeGreaterThan(
      demotePage.indexOf('aria-label="account ada"'),
    );
    expect(demotePage.indexOf("The role was not changed.")).toBeLessThan(
      demotePage.indexOf('aria-label="account val"'),
    );
    // What was chosen is kept.
    expect(/<select id="role-ada" name="role">(.*?)<\/select>/.exec(demotePage)?.[1]).toBe(
      '<option value="viewer" selected="">viewer</option><option value="operator">operator</option>',
    );
    const disable = await console.request("/accounts/ada/disabled", { ...form({ disabled: "true" }), cookie });
    expect(disable.status).toBe(409);
    expect(refusals(await disable.text())).toEqual([`The account was not changed. ${lastRule}`]);
    const apiDemote = await console.request("/api/accounts/ada/role", { ...json({ role: "viewer" }), cookie });
    expect(apiDemote.status).toBe(409);
    expect(await apiDemote.json()).toEqual({
      error: { code: "last_operator", message: `The role was not changed. ${lastRule}` },
    });
    const apiDisable = await console.request("/api/accounts/ada/disabled", { ...json({ disabled: true }), cookie });
    expect(apiDisable.status).toBe(409);
    expect(await apiDisable.json()).toEqual({
      error: { code: "last_operator", message: `The account was not changed. ${lastRule}` },
    });

    // A disabled operator is not one who can act.
    await console.operators.setRole("val", "operator", "test");
    await console.operators.setDisabled("val", true, "test");
    const stillLast = await console.request("/api/accounts/ada/role", { ...json({ role: "viewer" }), cookie });
    expect(stillLast.status).toBe(409);
    expect(await console.operators.get("ada")).toEqual(ada);
    expect((await console.request("/api/session", { cookie })).status).toBe(200);

    // With val active, ada may make herself a viewer: her session ends, and the page sends her to log in again.
    await console.request("/api/accounts/val/disabled", { ...json({ disabled: false }), cookie });
    const herself = await console.request("/accounts/ada/role", { ...form({ role: "viewer" }), cookie });
    expect(herself.status).toBe(303);
    expect(herself.headers.get("location")).toBe("/login");
    expect(herself.headers.get("set-cookie")).toMatch(/^ferry_admin_session=; Max-Age=0; Path=\//);
    expect((await console.request("/api/session", { cookie })).status).toBe(401);
    const again = await tryLogIn(console, "ada", PASSWORDS.ada);
    expect(await (await console.request("/api/session", { cookie: again.cookie })).json()).toEqual({
      operator: { name: "ada", role: "viewer" },
    });

    // val, now the one active operator, gives herself a new password through the API: her session ends too.
    const val = await console.logIn("val");
    const own = await console.request("/api/accounts/val/password", {
      ...json({ password: "val's own new password" }),
      cookie: val,
    });
    expect(own.status).toBe(200);
    expect((await own.json()).sessionEnded).toBe(true);
    expect(own.headers.get("set-cookie")).toMatch(/^ferry_admin_session=; Max-Age=0; Path=\//);
    expect((await console.request("/api/session", { cookie: val })).status).toBe(401);
    const valAgain = await tryLogIn(console, "val", "val's own new password");
    expect(valAgain.status).toBe(200);
    // And through the form: back to the log-in page.
    const ownForm = await console.request("/accounts/val/password", {
      ...form({ password: "val's newest password", confirm: "val's newest password" }),
      cookie: valAgain.cookie,
    });
    expect(ownForm.status).toBe(303);
    expect(ownForm.headers.get("location")).toBe("/login");
    expect((await console.request("/api/session", { cookie: valAgain.cookie })).status).toBe(401);
    expect((await tryLogIn(console, "val", "val's newest password")).status).toBe(200);
  });

  it("lets viewers and anonymous callers change nothing, and answers 404 for an unknown account", async () => {
    const console = await testConsole(stack, "accounts_access");
    const viewer = await console.logIn("val");
    const cookie = await console.logIn("ada");
    const before = await console.operators.list();
    const attempts: Array<[string, RequestInit]> = [
      [
        "/accounts",
        form({ name: "mallory", role: "operator", password: "mallory's password", confirm: "mallory's password" }),
      ],
      ["/accounts/val/role", form({ role: "operator" })],
      ["/accounts/ada/disabled", form({ disabled: "true" })],
      ["/accounts/ada/password", form({ password: "mallory's password", confirm: "mallory's password" })],
      ["/api/accounts", json({ name: "mallory", role: "operator", password: "mallory's password" })],
      ["/api/accounts/val/role", json({ role: "operator" })],
      ["/api/accounts/ada/disabled", json({ disabled: true })],
      ["/api/accounts/ada/password", json({ password: "mallory's password" })],
    ];
    for (const [path, init] of attempts) {
      const asViewer = await console.request(path, { ...init, cookie: viewer });
      expect(asViewer.status, path).toBe(403);
      const message = "Your account can look but not act: this needs the operator role.";
      if (path.startsWith("/api/")) {
        expect(await asViewer.json(), path).toEqual({ error: { code: "forbidden", message } });
      } else expect(readable(await asViewer.text()), path).toContain(message);
      const anonymous = await console.request(path, init);
      if (path.startsWith("/api/")) {
        expect(anonymous.status, path).toBe(401);
        expect(await anonymous.json(), path).toEqual({ error: { code: "login_needed", message: "Log in first." } });
      } else {
        expect(anonymous.status, path).toBe(303);
        expect(anonymous.headers.get("location"), path).toBe(`/login?next=${encodeURIComponent(path)}`);
      }
    }
    const anonymousPage = await console.request("/accounts");
    expect(anonymousPage.status).toBe(303);
    expect(anonymousPage.headers.get("location")).toBe("/login?next=%2Faccounts");
    const anonymousList = await console.request("/api/accounts");
    expect(anonymousList.status).toBe(401);
    expect(await console.operators.list()).toEqual(before);
    expect((await console.request("/api/session", { cookie: viewer })).status).toBe(200);

    // An account there is not (nor could be): 404, from the API and from the forms.
    for (const name of ["nobody", "x", "%3Cb%3E", "a".repeat(2_000)]) {
      for (const [change, body] of [
        ["role", { role: "viewer" }],
        ["disabled", { disabled: true }],
        ["password", { password: "a long enough password" }],
      ] as const) {
        const api = await console.request(`/api/accounts/${name}/${change}`, { ...json(body), cookie });
        expect(api.status, `${name} ${change}`).toBe(404);
        expect(await api.json()).toEqual({ error: { code: "not_found", message: NO_ACCOUNT } });
        const fields = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
        const page = await console.request(`/accounts/${name}/${change}`, {
          ...form({ ...fields, confirm: "a long enough password" }),
          cookie,
        });
        expect(page.status, `${name} ${change}`).toBe(404);
        expect(readable(await page.text())).toContain(NO_ACCOUNT);
      }
    }
    expect(await console.operators.list()).toEqual(before);
    expect(await accountEntries(console)).toEqual([
      ["ada", "operator val created (viewer)"],
      ["test", "operator ada created (operator)"],
    ]);
  });
});
