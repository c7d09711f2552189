/**
 * Shoppers' accounts: register, log in, profile, becoming a seller. Passwords are scrypt hashes in the store's own
 * format (the seed writes the same), and a unique value taken meanwhile by someone else is a field's message.
 */
import { UniqueViolation } from "@ferry/runtime";
import { hashPassword, verifyPassword } from "@ferry/store";
import type { Store, User } from "@ferry/store-data";
import { invalid, type ShopError } from "../http/errors.ts";
import { type Body, FormReader } from "./forms.ts";

const USERNAME = /^[A-Za-z0-9_.-]{3,64}$/;
/** A hash no password matches, checked when the account does not exist, so that both take as long. */
let decoy: Promise<string> | undefined;

/** The unique rules of users and the form field each guards. */
const FIELD_OF_RULE: Record<string, string> = { uq_users_email: "email", uq_users_username: "username" };

function taken(error: unknown): ShopError | undefined {
  if (!(error instanceof UniqueViolation)) return undefined;
  const field = FIELD_OF_RULE[error.rule];
  if (field === undefined) return undefined;
  return invalid({ [field]: field === "email" ? "This email is already registered." : "This username is taken." });
}

export class Accounts {
  constructor(private readonly store: Store) {}

  async register(body: Body): Promise<User> {
    const form = new FormReader(body);
    const username = form.text("username", "Username", {
      min: 3,
      max: 64,
      pattern: USERNAME,
      hint: "Username: 3 to 64 letters, digits, dots, dashes or underscores.",
    });
    const email = form.email("email");
    const password = form.password("password", "Password");
    const firstName = form.text("firstName", "First name", { max: 100 });
    const lastName = form.optionalText("lastName", "Last name", 100);
    form.done();
    const [byName, byEmail] = await Promise.all([
      this.store.users.getUserByUsername({ username }),
      this.store.users.getUserByEmail({ email }),
    ]);
    const fields: Record<string, string> = {};
    if (byName) fields.username = "This username is taken.";
    if (byEmail) fields.email = "This email is already registered.";
    if (Object.keys(fields).length > 0) throw invalid(fields);
    try {
      return await this.store.users.create({
        username,
        email,
        passwordHash: await hashPassword(password),
        firstName,
        lastName: lastName ?? null,
      });
    } catch (error) {
      throw taken(error) ?? error;
    }
  }

  /** The user with this username or email, if any. */
  async find(login: string): Promise<User | undefined> {
    const name = login.trim();
    if (name === "") return undefined;
    return name.includes("@")
      ? this.store.users.getUserByEmail({ email: name.toLowerCase() })
      : this.store.users.getUserByUsername({ username: name });
  }

  /** The user with this username or email and password; undefined otherwise (which of the two is not told). */
  async authenticate(login: string, password: string): Promise<User | undefined> {
    const user = await this.find(login);
    if (user === undefined) {
      decoy ??= hashPassword("no account has this password");
      await verifyPassword(password, await decoy);
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash)) ? user : undefined;
  }

  async user(id: bigint): Promise<User | undefined> {
    return this.store.users.get({ id });
  }

  /** Changes the name and email (the email's unique marker moves with it). */
  async updateProfile(user: User, body: Body): Promise<User> {
    const form = new FormReader(body);
    const email = form.email("email");
    const firstName = form.text("firstName", "First name", { max: 100 });
    const lastName = form.optionalText("lastName", "Last name", 100);
    form.done();
    if (email !== user.email.toLowerCase()) {
      const holder = await this.store.users.getUserByEmail({ email });
      if (holder && holder.id !== user.id) throw invalid({ email: "This email is already registered." });
    }
    try {
      await this.store.users.update({ id: user.id }, { email, firstName, lastName: lastName ?? null });
    } catch (error) {
      throw taken(error) ?? error;
    }
    return { ...user, email, firstName, lastName: lastName ?? null };
  }

  async becomeSeller(user: User): Promise<void> {
    if (!user.isSeller) await this.store.users.update({ id: user.id }, { isSeller: true });
  }
}
