import { checkDecisions, distractorBody, hasProblems, initialDecisions } from "./distractorForm";

const imported = ["He stirs twice.", "He stirs four times.", "She stirs three times."];
const answer = "He stirs three times.";

describe("distractor decisions", () => {
  it("start undecided and must each be decided", () => {
    const d = initialDecisions(imported, null);
    const check = checkDecisions(imported, d, answer);
    expect(check.items).toEqual([
      "Distractor 1: choose keep, edit or drop.",
      "Distractor 2: choose keep, edit or drop.",
      "Distractor 3: choose keep, edit or drop.",
    ]);
    expect(check.form).toBeNull();
  });

  it("refuse an edit equal to the answer or repeating a kept distractor", () => {
    const d = [
      { action: "keep" as const, text: imported[0]! },
      { action: "edit" as const, text: " he STIRS three times. " },
      { action: "edit" as const, text: "He stirs twice." },
    ];
    expect(checkDecisions(imported, d, answer).items).toEqual([
      null,
      "Distractor 2 is the same as the correct answer.",
      "Distractor 3 repeats another distractor.",
    ]);
  });

  it("need at least one kept distractor", () => {
    const d = imported.map((text) => ({ action: "drop" as const, text }));
    const check = checkDecisions(imported, d, answer);
    expect(check.form).toMatch(/Keep at least one distractor/);
    expect(hasProblems(check)).toBe(true);
  });

  it("give the body fgqa_distractors_submit takes (an unchanged edit is a keep)", () => {
    const d = [
      { action: "keep" as const, text: imported[0]! },
      { action: "edit" as const, text: "He  stirs five times." },
      { action: "edit" as const, text: imported[2]! },
    ];
    expect(hasProblems(checkDecisions(imported, d, answer))).toBe(false);
    expect(distractorBody(imported, d)).toEqual({
      decisions: [{ action: "keep" }, { action: "edit", text: "He stirs five times." }, { action: "keep" }],
    });
  });

  it("restore from a draft of the same length only", () => {
    const d = [
      { action: "drop" as const, text: imported[0]! },
      { action: null, text: imported[1]! },
      { action: "edit" as const, text: "x" },
    ];
    expect(initialDecisions(imported, { decisions: d })).toEqual(d);
    expect(initialDecisions(imported, { decisions: d.slice(1) })[0]).toEqual({ action: null, text: imported[0] });
  });
});
