import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConnections } from "../src/connections.ts";
import { StackError } from "../src/errors.ts";
import { formatMysqlUrl, parseMysqlUrl, redactMysqlUrl, withDatabase } from "../src/mysql.ts";
import { writeState } from "../src/state.ts";

describe("MySQL URLs", () => {
  it("parse into their parts, percent-decoded, with defaults", () => {
    expect(parseMysqlUrl("mysql://app:p%40ss%3Aword@db.example:3307/shop")).toEqual({
      host: "db.example",
      port: 3307,
      user: "app",
      password: "p@ss:word",
      database: "shop",
    });
    expect(parseMysqlUrl("mysql://root@127.0.0.1")).toEqual({
      host: "127.0.0.1",
      port: 3306,
      user: "root",
      password: "",
      database: undefined,
    });
  });

  it("round-trip through format, and swap the database", () => {
    const url = "mysql://app:p%40ss@127.0.0.1:3307/shop";
    expect(formatMysqlUrl(parseMysqlUrl(url))).toBe(url);
    expect(withDatabase(url, "other")).toBe("mysql://app:p%40ss@127.0.0.1:3307/other");
    expect(withDatabase(url, undefined)).toBe("mysql://app:p%40ss@127.0.0.1:3307");
  });

  it("hide the password when shown", () => {
    expect(redactMysqlUrl("mysql://app:hunter2@h:1/db")).toBe("mysql://app:***@h:1/db");
    expect(redactMysqlUrl("mysql://root@h:1/db")).toBe("mysql://root@h:1/db");
  });

  it("refuse what is not a MySQL URL, with the expected form", () => {
    for (const [url, scheme] of [
      ["postgres://x@y/z", "postgres:"],
      ["localhost:3306", "localhost:"],
    ]) {
      const error = (() => {
        try {
          parseMysqlUrl(url as string);
        } catch (caught) {
          return caught;
        }
        throw new Error(`expected ${url} to be refused`);
      })();
      expect(error, url).toBeInstanceOf(StackError);
      expect(error, url).toMatchObject({
        message: `not a MySQL URL (scheme ${scheme}): ${url}`,
        hint: "expected mysql://user:password@host:port/database",
      });
    }
  });
});

describe("resolveConnections", () => {
  const saved = {
    MYSQL_URL: process.env.MYSQL_URL,
    DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT,
    AWS_REGION: process.env.AWS_REGION,
    FERRY_TABLE_PREFIX: process.env.FERRY_TABLE_PREFIX,
  };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("prefers flags, then the environment, then the stack state", () => {
    const home = mkdtempSync(join(tmpdir(), "ferry-conn-"));
    try {
      writeState(home, {
        version: 1,
        mysql: { url: "mysql://root@127.0.0.1:1111", startedByFerry: true },
        dynamodb: { url: "http://127.0.0.1:2222", startedByFerry: true },
      });
      for (const name of Object.keys(saved)) delete process.env[name];
      expect(resolveConnections({ home })).toEqual({
        mysqlUrl: "mysql://root@127.0.0.1:1111",
        dynamodbEndpoint: "http://127.0.0.1:2222",
        region: "us-east-1",
        tablePrefix: "",
      });
      process.env.MYSQL_URL = "mysql://env@127.0.0.1:3333/db";
      expect(resolveConnections({ home }).mysqlUrl).toBe("mysql://env@127.0.0.1:3333/db");
      expect(resolveConnections({ home, mysqlUrl: "mysql://flag@h:1/x" }).mysqlUrl).toBe("mysql://flag@h:1/x");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("refuses a half-started stack rather than answer undefined (which means AWS itself)", () => {
    const half = mkdtempSync(join(tmpdir(), "ferry-conn-half-"));
    delete process.env.MYSQL_URL;
    delete process.env.DYNAMODB_ENDPOINT;
    try {
      writeState(half, {
        version: 1,
        mysql: { url: "mysql://root@127.0.0.1:1111", startedByFerry: true, pid: 1 },
        dynamodb: { url: "", startedByFerry: true, pid: 2 },
      });
      expect(() => resolveConnections({ home: half })).toThrow(
        "the local stack is half-started (DynamoDB Local was started but never answered)",
      );
      expect(() => resolveConnections({ home: half })).toThrow(
        expect.objectContaining({ hint: "run `pnpm ferry stack up`" }),
      );
      // An endpoint given outright does not need the stack.
      expect(resolveConnections({ home: half, dynamodbEndpoint: "http://h:1" }).dynamodbEndpoint).toBe("http://h:1");
      writeState(half, { version: 1, mysql: { url: "", startedByFerry: true, pid: 1 } });
      expect(() => resolveConnections({ home: half })).toThrow("the local stack is half-started (MySQL");
      // No DynamoDB part at all still means: no endpoint configured.
      writeState(half, { version: 1, mysql: { url: "mysql://root@127.0.0.1:1111", startedByFerry: true } });
      expect(resolveConnections({ home: half }).dynamodbEndpoint).toBeUndefined();
    } finally {
      rmSync(half, { recursive: true, force: true });
    }
  });

  it("says how to get a MySQL when there is none", () => {
    delete process.env.MYSQL_URL;
    const nowhere = join(tmpdir(), `ferry-conn-missing-${process.pid}-${Date.now()}`);
    expect(() => resolveConnections({ home: nowhere })).toThrow("no MySQL to connect to");
  });
});
