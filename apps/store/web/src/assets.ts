/** The stylesheet and the little client script, read once at start. */
import { readFileSync } from "node:fs";

export const STYLESHEET = readFileSync(new URL("./assets/app.css", import.meta.url), "utf8");
export const SCRIPT = readFileSync(new URL("./assets/app.js", import.meta.url), "utf8");
