import { useTestStack } from "@ferry/stack/testing";
import type { RowDataPacket } from "mysql2/promise";
import { beforeAll, describe, expect, it } from "vitest";
import { BulkWriter, preferredMethod, tsvCell } from "../src/legacy/bulk-insert.ts";
import type { RowCells } from "../src/legacy/tables.ts";

const stack = useTestStack();
const nasty: RowCells[] = [
  [1, "tab\there", "line\nbreak\r\n", "back\\slash \\N", null],
  [2, "quote ' and \" and `", "NUL \0 byte", "emoji 🚢 and ß, Zoë", "1.50"],
  [3, "", "\\", "NULL", "0.00"],
];

describe("BulkWriter", () => {
  beforeAll(async () => {
    const connection = await stack.mysql();
    await connection.query(
      "CREATE TABLE scratch (id INT PRIMARY KEY, a VARCHAR(100) NOT NULL, b VARCHAR(100) NOT NULL, c VARCHAR(100) NOT NULL, d DECIMAL(10,2) NULL) CHARACTER SET utf8mb4",
    );
  });

  it("uses LOAD DATA on the test server, which allows local_infile", async () => {
    expect(await preferredMethod(await stack.mysql())).toBe("load-data");
  });

  for (const method of ["load-data", "insert"] as const) {
    it(`writes awkward values unchanged with ${method}`, async () => {
      const connection = await stack.mysql();
      await connection.query("DELETE FROM scratch");
      const writer = await BulkWriter.open(stack.mysqlUrl, method);
      try {
        await writer.write("scratch", ["id", "a", "b", "c", "d"], nasty);
        expect(writer.currentMethod).toBe(method);
      } finally {
        await writer.close();
      }
      const [rows] = await connection.query<RowDataPacket[]>({
        sql: "SELECT * FROM scratch ORDER BY id",
        rowsAsArray: true,
      });
      expect(rows).toEqual(nasty);
    });
  }

  it("fails, rather than skipping rows, when LOAD DATA meets a duplicate", async () => {
    const connection = await stack.mysql();
    await connection.query("DELETE FROM scratch");
    const writer = await BulkWriter.open(stack.mysqlUrl, "load-data");
    try {
      await writer.write("scratch", ["id", "a", "b", "c", "d"], [nasty[0] ?? []]);
      await expect(writer.write("scratch", ["id", "a", "b", "c", "d"], nasty)).rejects.toThrow(
        /loading scratch: 2 of 3 rows landed, 1 warnings: Duplicate entry '1'/,
      );
    } finally {
      await writer.close();
    }
  });

  it("escapes TSV cells as LOAD DATA reads them", () => {
    expect(tsvCell(null)).toBe("\\N");
    expect(tsvCell(12)).toBe("12");
    expect(tsvCell("a\tb\\c\nd\re\0")).toBe("a\\tb\\\\c\\nd\\re\\0");
    expect(() => tsvCell(Number.NaN)).toThrow(new RangeError("not a finite number: NaN"));
  });
});
