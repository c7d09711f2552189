/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Log-in, registration and the profile. */
import type { User } from "@ferry/store-data";
import { Csrf, Layout, type Notice, type Viewer } from "./layout.tsx";
import { EMPTY_FORM, Field, type FormState } from "./parts.tsx";

export function LoginPage(props: { viewer: Viewer; form?: FormState; next?: string; notice?: Notice }) {
  const form = props.form ?? EMPTY_FORM;
  return (
    <Layout title="Log in" viewer={props.viewer} notice={props.notice}>
      <div class="narrow panel">
        <h1>Log in</h1>
        <form method="post" action="/login">
          <Csrf viewer={props.viewer} />
          <input type="hidden" name="next" value={props.next ?? "/"} />
          <Field form={form} name="login" label="Username or email" autocomplete="username" required />
          <Field
            form={form}
            name="password"
            label="Password"
            type="password"
            autocomplete="current-password"
            required
          />
          <button type="submit">Log in</button>
        </form>
        <p class="muted small">
          New here? <a href="/register">Create an account</a>.
        </p>
      </div>
    </Layout>
  );
}

export function RegisterPage(props: { viewer: Viewer; form?: FormState; notice?: Notice }) {
  const form = props.form ?? EMPTY_FORM;
  return (
    <Layout title="Create an account" viewer={props.viewer} notice={props.notice}>
      <div class="narrow panel">
        <h1>Create an account</h1>
        <form method="post" action="/register">
          <Csrf viewer={props.viewer} />
          <Field form={form} name="username" label="Username" autocomplete="username" required />
          <Field form={form} name="email" label="Email" type="email" autocomplete="email" required />
          <Field form={form} name="firstName" label="First name" autocomplete="given-name" required />
          <Field form={form} name="lastName" label="Last name (optional)" autocomplete="family-name" />
          <Field
            form={form}
            name="password"
            label="Password (8 characters or more)"
            type="password"
            autocomplete="new-password"
            required
          />
          <button type="submit">Create account</button>
        </form>
      </div>
    </Layout>
  );
}

export function ProfilePage(props: { viewer: Viewer; user: User; form?: FormState; notice?: Notice }) {
  const form = props.form ?? EMPTY_FORM;
  const { user } = props;
  return (
    <Layout title="Your profile" viewer={props.viewer} notice={props.notice}>
      <div class="narrow">
        <div class="panel">
          <h1>Your profile</h1>
          <p class="muted">Username: {user.username}</p>
          <form method="post" action="/profile">
            <Csrf viewer={props.viewer} />
            <Field
              form={form}
              name="email"
              label="Email"
              type="email"
              value={user.email}
              autocomplete="email"
              required
            />
            <Field form={form} name="firstName" label="First name" value={user.firstName} required />
            <Field form={form} name="lastName" label="Last name" value={user.lastName ?? ""} />
            <button type="submit">Save</button>
          </form>
        </div>
        <div class="panel" style="margin-top:16px">
          <h2>Selling</h2>
          {user.isSeller ? (
            <p>
              You are a seller. <a href="/seller">Go to your dashboard</a>.
            </p>
          ) : (
            <form method="post" action="/profile/seller">
              <Csrf viewer={props.viewer} />
              <p class="muted">Sell your own products on Ferry Market.</p>
              <button type="submit" class="secondary">
                Become a seller
              </button>
            </form>
          )}
        </div>
      </div>
    </Layout>
  );
}
