/**
 * @ferry/store-web: the store's web app (pages and JSON API) on the generated repositories of @ferry/store-data,
 * and a server that runs it as a member of the migration's fleet.
 */
export { createStoreApp, type Health, type StoreAppOptions } from "./app.tsx";
export { type RunningStore, type StoreServerOptions, startStoreServer } from "./server.ts";
export { APPROVED_TEST_CARD, DECLINING_TEST_CARD } from "./shop/payment.ts";
