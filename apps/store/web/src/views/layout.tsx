/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The frame of every page: header (logo, cart, account), the page, a footer. */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

export interface Viewer {
  /** The logged-in shopper's username, or undefined for a visitor. */
  username?: string;
  isSeller?: boolean;
  csrf: string;
  cartCount?: number;
}

export function Csrf(props: { viewer: Viewer }) {
  return <input type="hidden" name="_csrf" value={props.viewer.csrf} />;
}

export function Layout(props: { title: string; viewer: Viewer; notice?: Notice; query?: string; children: Child }) {
  const { viewer } = props;
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · Ferry Market`}</title>
          <link rel="stylesheet" href="/assets/app.css" />
        </head>
        <body>
          <header class="top">
            <div class="wrap">
              <a class="logo" href="/">
                Ferry<span>Market</span>
              </a>
              <form class="search" method="get" action="/search" aria-label="Search">
                <input
                  class="search-input"
                  type="search"
                  name="q"
                  value={props.query ?? ""}
                  placeholder="Search products"
                  aria-label="Search products"
                  maxlength={200}
                />
                <button type="submit">Search</button>
              </form>
              <nav class="user">
                <a href="/cart">
                  Cart <span class="badge">{viewer.cartCount ?? 0}</span>
                </a>
                {viewer.username === undefined ? (
                  <>
                    <a href="/login">Log in</a>
                    <a href="/register">Register</a>
                  </>
                ) : (
                  <>
                    <a href="/orders">Orders</a>
                    {viewer.isSeller ? <a href="/seller">Sell</a> : null}
                    <a href="/profile">{viewer.username}</a>
                    <form method="post" action="/logout">
                      <Csrf viewer={viewer} />
                      <button type="submit" class="link">
                        Log out
                      </button>
                    </form>
                  </>
                )}
              </nav>
            </div>
          </header>
          <main>
            <div class="wrap">
              {props.notice ? <p class={`notice ${props.notice.kind}`}>{props.notice.text}</p> : null}
              {props.children}
            </div>
          </main>
          <footer>
            <div class="wrap">
              Ferry Market, a demo shop. Prices in USD. Payments are simulated: no card is charged.
            </div>
          </footer>
          <script src="/assets/app.js" defer></script>
        </body>
      </html>
    </>
  );
}

export interface Notice {
  kind: "ok" | "error";
  text: string;
}
