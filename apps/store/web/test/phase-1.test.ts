import { storeSuite } from "./store-suite.ts";

storeSuite(1);
