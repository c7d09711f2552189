/**
 * @ferry/admin: the operators' migration console (phases and the fleet, as pages and a JSON API). Operator access
 * never depends on the data being migrated: accounts live in ferry's control table.
 */
export type { Access, RouteAccess } from "./access.ts";
export { type AdminApp, type AdminAppOptions, createAdminApp } from "./app.tsx";
export { type AdminServerOptions, type RunningAdmin, startAdminServer } from "./server.ts";
export { ADMIN_SESSION_COOKIE, ADMIN_SESSION_MAX_AGE_S } from "./session.ts";
export { type ConsoleStores, consoleStores } from "./stores.ts";
