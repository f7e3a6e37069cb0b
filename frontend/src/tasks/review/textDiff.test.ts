import { fromServerOps, wordDiff, wordsChanged, type DiffPart } from "./textDiff";

const render = (parts: DiffPart[]) =>
  parts.map((p) => (p.op === "equal" ? p.text : p.op === "insert" ? `[+${p.text}]` : `[-${p.text}]`)).join(" ");

describe("wordDiff", () => {
  it("returns one equal part for identical text, whitespace ignored", () => {
    expect(wordDiff("the dog  runs", " the dog runs ")).toEqual([{ op: "equal", text: "the dog runs" }]);
  });

  it("marks a replaced word as a deletion followed by an insertion", () => {
    expect(wordDiff("the dog runs left", "the dog walks left")).toEqual([
      { op: "equal", text: "the dog" },
      { op: "delete", text: "runs" },
      { op: "insert", text: "walks" },
      { op: "equal", text: "left" },
    ]);
  });

  it("handles pure insertions and deletions at both ends", () => {
    expect(render(wordDiff("runs away", "a dog runs away quickly"))).toBe("[+a dog] runs away [+quickly]");
    expect(render(wordDiff("a dog runs away quickly", "runs away"))).toBe("[-a dog] runs away [-quickly]");
  });

  it("keeps the longest common subsequence in the middle", () => {
    expect(render(wordDiff("A B C D E", "A X C Y E"))).toBe("A [-B] [+X] C [-D] [+Y] E");
  });

  it("diffs from and to empty text", () => {
    expect(wordDiff("", "new caption")).toEqual([{ op: "insert", text: "new caption" }]);
    expect(wordDiff("old caption", "")).toEqual([{ op: "delete", text: "old caption" }]);
    expect(wordDiff("", "")).toEqual([]);
  });

  it("treats markup as plain words (it is rendered as text)", () => {
    expect(wordDiff("a <b>dog</b>", "a cat")).toEqual([
      { op: "equal", text: "a" },
      { op: "delete", text: "<b>dog</b>" },
      { op: "insert", text: "cat" },
    ]);
  });

  it("reproduces both texts from its parts", () => {
    const before = "the person picks up the cup then drinks from it";
    const after = "the woman picks up a red cup and drinks from it slowly";
    const parts = wordDiff(before, after);
    const side = (skip: DiffPart["op"]) =>
      parts
        .filter((p) => p.op !== skip)
        .map((p) => p.text)
        .join(" ");
    expect(side("insert")).toBe(before);
    expect(side("delete")).toBe(after);
  });
});

describe("fromServerOps", () => {
  it("turns difflib opcodes into parts, a replace into delete + insert", () => {
    expect(
      fromServerOps([
        { op: "equal", from: "the dog", to: "the dog" },
        { op: "replace", from: "runs", to: "walks" },
        { op: "delete", from: "fast", to: "" },
        { op: "insert", from: "", to: "slowly" },
      ]),
    ).toEqual([
      { op: "equal", text: "the dog" },
      { op: "delete", text: "runs fast" },
      { op: "insert", text: "walks slowly" },
    ]);
  });
});

describe("wordsChanged", () => {
  it("ignores whitespace-only differences", () => {
    expect(wordsChanged("a  b", "a b ")).toBe(false);
    expect(wordsChanged("a b", "a c")).toBe(true);
    expect(wordsChanged("a b", "a b c")).toBe(true);
  });
});
