import { describe, expect, it } from "vitest";
import {
  formatKeyTemplate,
  KeyTemplateError,
  keyTemplatePlaceholders,
  parseKeyTemplate,
  templatesCanCollide,
} from "../src/index.ts";

describe("parseKeyTemplate", () => {
  it("splits literal text and placeholders, with offsets", () => {
    expect(parseKeyTemplate("USER#{id}")).toEqual([
      { literal: "USER#", offset: 0 },
      { placeholder: "id", offset: 5 },
    ]);
    expect(parseKeyTemplate("{a}{b}")).toEqual([
      { placeholder: "a", offset: 0 },
      { placeholder: "b", offset: 3 },
    ]);
    expect(parseKeyTemplate("PROFILE")).toEqual([{ literal: "PROFILE", offset: 0 }]);
    expect(parseKeyTemplate("ORDER#{createdAt}#{id}")).toEqual([
      { literal: "ORDER#", offset: 0 },
      { placeholder: "createdAt", offset: 6 },
      { literal: "#", offset: 17 },
      { placeholder: "id", offset: 18 },
    ]);
  });

  it("reads {{ and }} as literal braces", () => {
    expect(parseKeyTemplate("{{X}}#{id}")).toEqual([
      { literal: "{X}#", offset: 0 },
      { placeholder: "id", offset: 6 },
    ]);
    expect(parseKeyTemplate("}}")).toEqual([{ literal: "}", offset: 0 }]);
  });

  it.each([
    ["USER#{id", "unclosed '{'", 5],
    ["USER#id}", "unmatched '}'", 7],
    ["A#{}", "empty placeholder '{}'", 2],
    ["A#{a b}", "invalid placeholder '{a b}'", 2],
    ["A#{a{b}", "unclosed '{'", 2],
    ["{1x}", "invalid placeholder '{1x}'", 0],
  ])("rejects %s: %s at %i", (template, message, offset) => {
    let error: unknown;
    try {
      parseKeyTemplate(template);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyTemplateError);
    expect((error as KeyTemplateError).message).toBe(message);
    expect((error as KeyTemplateError).offset).toBe(offset);
  });

  it("lists placeholders once, in order, and formats parts back canonically", () => {
    expect(keyTemplatePlaceholders("{b}#{a}#{b}")).toEqual(["b", "a"]);
    expect(formatKeyTemplate(parseKeyTemplate("{{X}}#{id}"))).toBe("{{X}}#{id}");
  });
});

describe("templatesCanCollide", () => {
  it.each([
    ["USER#{id}", "USER#{id}", true],
    ["USER#{id}", "USER#{userId}", true],
    ["USER#{id}", "ORDER#{id}", false],
    ["A#{x}", "{y}", true],
    ["A#{x}#B", "A#{y}", true], // y can be "…#B"
    ["A#{x}#B", "A#{y}#C", false],
    ["A#{x}", "A#", false], // a placeholder is never empty
    ["{x}", "", false],
    [undefined, undefined, true], // two absent sort keys: both the empty string
    [undefined, "PROFILE", false],
    ["PROFILE", "PROFILE", true],
    ["PROFILE", "PROFILES", false],
    ["CART#{productId}", "PROFILE", false],
    ["{x}#{y}", "A#B", true],
    ["{x}#{y}", "AB", false],
    ["{x}{y}", "A", false], // two placeholders need at least two characters
    ["{x}{y}", "AB", true],
    ["ITEM#{a}", "{kind}", true],
    ["X{{{a}", "X{{Y", true], // literal braces
    ["X{{{a}", "X}}Y", false],
  ])("%s vs %s -> %s", (a, b, expected) => {
    expect(templatesCanCollide(a, b)).toBe(expected);
    expect(templatesCanCollide(b, a)).toBe(expected);
  });
});
