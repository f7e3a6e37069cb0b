import { render } from "@testing-library/react";

import { wordDiff } from "./textDiff";
import { WordDiffText } from "./WordDiffText";

describe("WordDiffText", () => {
  it("renders markup in captions as text inside ins/del, never as HTML", () => {
    const { container } = render(<WordDiffText parts={wordDiff("a <b>dog</b> runs", "a <img src=x onerror=alert(1)> runs")} testId="d" />);
    expect(container.querySelector("b")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("del")?.textContent).toBe("<b>dog</b>");
    expect(container.querySelector("ins")?.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(container.textContent).toBe("a <b>dog</b> <img src=x onerror=alert(1)> runs");
  });
});
