/**
 * Word-level caption diffs, as plain data for the UI to render as text (<ins>/<del> elements,
 * never HTML strings).
 *
 * Two sources: the server's word diff of a changed segment between two caption revisions
 * (annotation/selectors/history.py word_diff: difflib opcodes over whitespace-split words), and
 * a diff computed here between the stored caption and the reviewer's edit before it is saved.
 */

export type DiffOp = "equal" | "insert" | "delete";

/** A run of words that both sides share, or that only the new (insert) / old (delete) side has. */
export type DiffPart = { op: DiffOp; text: string };

/** One opcode of the server's word diff. */
export type ServerWordOp = { op: "equal" | "replace" | "delete" | "insert"; from: string; to: string };

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/** Adjacent parts of the same kind merged, empty parts dropped. */
function compact(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  for (const part of parts) {
    if (!part.text) continue;
    const last = out[out.length - 1];
    if (last && last.op === part.op) last.text = `${last.text} ${part.text}`;
    else out.push({ ...part });
  }
  return out;
}

/**
 * The word diff of `before` → `after` by longest common subsequence of words (whitespace
 * differences are not changes). Within a changed stretch, deletions come before insertions.
 */
export function wordDiff(before: string, after: string): DiffPart[] {
  const a = words(before);
  const b = words(after);
  // Common prefix and suffix first: captions usually differ in a few words.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  // lcs[i][j]: LCS length of midA[i:] and midB[j:]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const below = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) {
      row[j] =
        midA[i] === midB[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number);
    }
  }
  const parts: DiffPart[] = [{ op: "equal", text: a.slice(0, start).join(" ") }];
  let dels: string[] = [];
  let ins: string[] = [];
  const flush = () => {
    parts.push({ op: "delete", text: dels.join(" ") }, { op: "insert", text: ins.join(" ") });
    dels = [];
    ins = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      flush();
      parts.push({ op: "equal", text: midA[i] as string });
      i++;
      j++;
    } else if (j >= m || (i < n && (lcs[i + 1] as Uint32Array)[j]! >= (lcs[i] as Uint32Array)[j + 1]!)) {
      dels.push(midA[i] as string);
      i++;
    } else {
      ins.push(midB[j] as string);
      j++;
    }
  }
  flush();
  parts.push({ op: "equal", text: a.slice(endA).join(" ") });
  return compact(parts);
}

/** The server's opcodes as parts: each run of changes between equal words becomes one
 * deletion followed by one insertion (a replace is both). */
export function fromServerOps(ops: readonly ServerWordOp[]): DiffPart[] {
  const parts: DiffPart[] = [];
  let dels: string[] = [];
  let ins: string[] = [];
  const flush = () => {
    parts.push({ op: "delete", text: dels.join(" ") }, { op: "insert", text: ins.join(" ") });
    dels = [];
    ins = [];
  };
  for (const op of ops) {
    if (op.op === "equal") {
      flush();
      parts.push({ op: "equal", text: op.from });
    } else {
      if (op.op !== "insert" && op.from) dels.push(op.from);
      if (op.op !== "delete" && op.to) ins.push(op.to);
    }
  }
  flush();
  return compact(parts);
}

/** True when the two texts differ in words (not only in whitespace). */
export function wordsChanged(before: string, after: string): boolean {
  const a = words(before);
  const b = words(after);
  return a.length !== b.length || a.some((w, k) => w !== b[k]);
}
