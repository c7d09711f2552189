/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Operator } from "@ferry/runtime";
import type { Child } from "hono/jsx";

/** An ISO-8601 instant as the console shows it: `2025-01-02 03:04:05 UTC`. */
export function utcTime(iso: string): string {
  return `${iso.replace("T", " ").slice(0, 19)} UTC`;
}

export function Layout(props: { title: string; operator?: Operator | undefined; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ferry admin`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/admin.css" />
      </head>
      <body>
        <header>
          <div class="bar">
            <a class="brand" href="/">
              ferry · migration console
            </a>
            {props.operator ? (
              <>
                <span class="who">
                  {props.operator.name} ({props.operator.role})
                </span>
                <form method="post" action="/logout">
                  <button type="submit">Log out</button>
                </form>
              </>
            ) : null}
          </div>
          {props.operator ? (
            <nav class="bar" aria-label="console">
              <a href="/">Phase</a>
              <a href="/backfill">Backfill</a>
              <a href="/validation">Validation</a>
              <a href="/shadow">Shadow reads</a>
              <a href="/outbox">Outbox</a>
              <a href="/inspect">Inspect</a>
              <a href="/audit">Audit log</a>
              <a href="/accounts">Accounts</a>
            </nav>
          ) : null}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

export function ErrorPage(props: { status: number; message: string; operator?: Operator | undefined }) {
  return (
    <Layout title={`Error ${props.status}`} operator={props.operator}>
      <div class="card">
        <h1>{props.status === 404 ? "Not found" : "Something is not right"}</h1>
        <p>{props.message}</p>
        <p>
          <a href="/">Back to the phase page</a>
        </p>
      </div>
    </Layout>
  );
}
