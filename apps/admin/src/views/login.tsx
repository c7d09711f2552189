/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout } from "./layout.tsx";

export function LoginPage(props: { name?: string; error?: string; next?: string }) {
  return (
    <Layout title="Log in">
      <div class="card login">
        <h1>Operators' log-in</h1>
        <p class="muted">
          Accounts are made with <code>pnpm ferry admin create-operator</code>.
        </p>
        {props.error ? <div class="notice bad">{props.error}</div> : null}
        <form method="post" action="/login">
          <input type="hidden" name="next" value={props.next ?? "/"} />
          <label for="name">Name</label>
          <input type="text" id="name" name="name" value={props.name ?? ""} autocomplete="username" required />
          <label for="password">Password</label>
          <input type="password" id="password" name="password" autocomplete="current-password" required />
          <div>
            <button class="primary" type="submit">
              Log in
            </button>
          </div>
        </form>
      </div>
    </Layout>
  );
}
