import { describe, expect, it } from "vitest";
import { parseCondition, parseStepValue, StepSyntaxError } from "../src/index.ts";

describe("step values and conditions", () => {
  it("reads references, negations and literals", () => {
    expect(parseStepValue("{quantity}")).toEqual({ kind: "ref", field: "quantity", negate: false });
    expect(parseStepValue("-{line.quantity}")).toEqual({ kind: "ref", input: "line", field: "quantity", negate: true });
    expect(parseStepValue("pending")).toEqual({ kind: "literal", value: "pending" });
    expect(parseStepValue(3)).toEqual({ kind: "literal", value: 3 });
    const error = (() => {
      try {
        parseStepValue("{open");
      } catch (caught) {
        return caught;
      }
      throw new Error("expected a StepSyntaxError, and nothing was thrown");
    })();
    expect(error).toBeInstanceOf(StepSyntaxError);
    expect(error).toMatchObject({
      message: "'{open' is neither a reference nor a plain value",
      offset: 0,
      hint: "a reference is the whole value: {field} (of the forEach element), {input.field}, or -{...} to negate",
    });
  });

  it("keeps numbers exact: decimals and integers beyond 2^53 as text", () => {
    expect(parseCondition("inventoryQuantity >= 2").value).toEqual({ kind: "literal", value: 2 });
    expect(parseCondition("price = 19.99").value).toEqual({ kind: "literal", value: "19.99" });
    expect(parseCondition("id > 18446744073709551615").value).toEqual({
      kind: "literal",
      value: "18446744073709551615",
    });
    expect(parseCondition("status != 'paid'")).toEqual({
      attribute: "status",
      op: "<>",
      value: { kind: "literal", value: "paid" },
    });
    expect(parseCondition("name = 'a\\'b'").value).toEqual({ kind: "literal", value: "a'b" });
  });
});
