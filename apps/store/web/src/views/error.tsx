/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The page a browser gets for an error: the status and a message, never a stack trace. */
import { Layout, type Viewer } from "./layout.tsx";

export function ErrorPage(props: { viewer: Viewer; status: number; message: string }) {
  const title = props.status === 404 ? "Not found" : props.status >= 500 ? "Something went wrong" : "Cannot do that";
  return (
    <Layout title={title} viewer={props.viewer}>
      <div class="narrow panel">
        <h1>{title}</h1>
        <p>{props.message}</p>
        <p>
          <a href="/">Back to the shop</a>
        </p>
      </div>
    </Layout>
  );
}
