/** closeHttpServer: a server with a stream that never ends and a request still in flight closes, and the request is answered. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { closeHttpServer } from "../src/index.ts";

describe("closeHttpServer", () => {
  it("answers the request in flight, cuts the endless stream after the grace, and closes", async () => {
    let slowArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      slowArrived = resolve;
    });
    let answer: () => void = () => {};
    const server = createServer((request, response) => {
      if (request.url === "/events") {
        // Server-sent events: a first one, then the stream stays open.
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.write("data: first\n\n");
        return;
      }
      answer = () => response.end("done");
      slowArrived();
    });
    onTestFinished(() => {
      server.closeAllConnections();
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const events = await fetch(`${url}/events`);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: first\n\n");
    const slow = fetch(`${url}/slow`);
    await arrived;
    const closing = closeHttpServer(server, 1_000);
    // The request in flight is answered after the close began.
    answer();
    expect(await (await slow).text()).toBe("done");
    // The stream is cut (an error or its end), and the server has closed: close() would otherwise wait for it forever.
    const end = await reader.read().then(
      (result) => (result.done ? "ended" : "more"),
      () => "cut",
    );
    expect(["ended", "cut"]).toContain(end);
    await closing;
    expect(server.listening).toBe(false);
  });
});
