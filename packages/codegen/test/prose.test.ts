import { describe, expect, it } from "vitest";
import { article, docText, LINE_WIDTH, listOf, pluralOf, withArticle, wrap } from "../src/generate/prose.ts";

describe("article", () => {
  it("is 'an' before a vowel sound and 'a' before a consonant sound, as the name is said", () => {
    const cases: Record<string, "a" | "an"> = {
      OrderItem: "an",
      Order: "an",
      Item: "an",
      Event: "an",
      Account: "an",
      Upgrade: "an",
      Umbrella: "an",
      UnorderedList: "an",
      User: "a",
      Unit: "a",
      UniqueCode: "a",
      Usage: "a",
      Utility: "a",
      EuroPrice: "a",
      OneTimeCode: "a",
      Category: "a",
      Product: "a",
      ShoppingCart: "a",
      Sample: "a",
      Tenant: "a",
      Hour: "an",
      HonestBroker: "an",
      House: "a",
      SKU: "an",
      HTTPRequest: "an",
      FAQEntry: "an",
      URLAlias: "a",
      UUIDMapping: "a",
      "8Ball": "an",
      "1Thing": "a",
    };
    expect(Object.fromEntries(Object.keys(cases).map((name) => [name, article(name)]))).toEqual(cases);
    expect(withArticle("OrderItem")).toBe("an OrderItem");
    expect(withArticle("User")).toBe("a User");
  });
});

describe("lists and plurals", () => {
  it("joins with commas and a final 'and'", () => {
    expect(listOf([])).toBe("");
    expect(listOf(["id"])).toBe("id");
    expect(listOf(["orderId", "productId"])).toBe("orderId and productId");
    expect(listOf(["a", "b", "c"])).toBe("a, b and c");
  });

  it("makes English plurals of entity names", () => {
    expect(["OrderItem", "Category", "Box", "Address", "Day", "Batch"].map(pluralOf)).toEqual([
      "OrderItems",
      "Categories",
      "Boxes",
      "Addresses",
      "Days",
      "Batches",
    ]);
  });
});

describe("wrap", () => {
  it("cuts long lines at spaces, keeps lines and paragraphs, and continues a list item under its text", () => {
    expect(wrap("one two three four", 9)).toBe("one two\nthree\nfour");
    expect(wrap("short\n\nlines stay", 20)).toBe("short\n\nlines stay");
    expect(wrap("- an item that goes on and on", 14)).toBe("- an item that\n  goes on and\n  on");
    expect(wrap("1. a step that goes on", 12)).toBe("1. a step\n   that goes\n   on");
    expect(wrap("averyveryverylongword fits", 10)).toBe("averyveryverylongword\nfits");
  });

  it("leaves room for the comment around doc text at its indentation", () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    for (const indent of [0, 2, 4]) {
      const lines = docText(words, indent).split("\n");
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines)
        expect(indent + "/** ".length + line.length + " */".length).toBeLessThanOrEqual(LINE_WIDTH);
    }
  });
});
