import type { DiffPart } from "./textDiff";

/** A word diff as text: removed words struck through, added words highlighted (never HTML). */
export function WordDiffText({ parts, testId }: { parts: readonly DiffPart[]; testId?: string }) {
  return (
    <span className="rv-diff" data-testid={testId}>
      {parts.map((p, k) => {
        const space = k > 0 ? " " : "";
        if (p.op === "insert") {
          return (
            <span key={k}>
              {space}
              <ins className="rv-ins">{p.text}</ins>
            </span>
          );
        }
        if (p.op === "delete") {
          return (
            <span key={k}>
              {space}
              <del className="rv-del">{p.text}</del>
            </span>
          );
        }
        return (
          <span key={k}>
            {space}
            {p.text}
          </span>
        );
      })}
    </span>
  );
}
