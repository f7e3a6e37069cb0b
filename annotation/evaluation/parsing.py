"""Read model answers the way PLM-VideoBench's released evaluation (lmms-eval) reads them.

Every parser returns ``None`` for an answer it cannot read — never raises on model text — so a
bad answer is scored as wrong and counted, and never aborts a run.

``lenient=False`` (the default, and what benchmark numbers must use) accepts what the released
evaluation accepts:

- RTLoc: the first ``[start, end]`` (integers or decimals; the prompt asks for that format).
- RDCap: every ``[start, end]`` (integers) followed by its caption text up to the next ``[``.
- FGQA: the first space-separated word of the answer (after removing "answer:") names the
  option: "(A)", "A", "A.", "a)"… or contains "(a)".

``lenient=True`` additionally reads common free-form variants ("From frame 12 to frame 30",
"12-30", "Frame 0-12: caption", an option's text quoted verbatim). Numbers from it are not
comparable with published ones; use it to inspect models that ignore the format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from annotation.evaluation.metrics import CaptionSegment

_NUM = r"\d+(?:\.\d+)?"
_DASH = "\\-\u2013\u2014"  # for character classes: hyphen (escaped), en dash, em dash
_RTLOC_STRICT = re.compile(rf"\[({_NUM}),\s*({_NUM})\]")
_RTLOC_LENIENT = (
    re.compile(rf"start\D{{0,20}}?({_NUM})\D{{1,30}}?end\D{{0,20}}?({_NUM})", re.IGNORECASE),
    re.compile(
        rf"(?:frames?\s*)?({_NUM})\s*(?:[{_DASH}]|to|until|through|and|,)\s*(?:frames?\s*)?({_NUM})",
        re.IGNORECASE,
    ),
)
_RDCAP_STRICT = re.compile(r"\[(\d+),\s*(\d+)\]([^\[]*)")
_RDCAP_LENIENT_LINE = re.compile(
    rf"^\W*(?:frames?\s*)?\[?(\d+)\s*(?:[{_DASH}]|to|,)\s*(\d+)\]?\s*[:{_DASH})]?\s*(.*)$",
    re.IGNORECASE,
)


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def parse_rtloc(text: str, *, lenient: bool = False) -> tuple[float, float] | None:
    """→ (start, end) on the scale the model was asked to answer in, or None."""
    match = _RTLOC_STRICT.search(text)
    if match is None and lenient:
        for pattern in _RTLOC_LENIENT:
            match = pattern.search(text)
            if match is not None:
                break
    if match is None:
        return None
    return _number(match.group(1)), _number(match.group(2))


def _clean_caption(raw: str) -> str:
    # The released evaluation turns ':' into spaces and drops a "\nFrame " that introduces the
    # next item; what is left is the caption plus separators.
    text = raw.replace("\nFrame ", "").replace(":", " ").strip()
    text = text.removesuffix(",").strip()
    return " ".join(text.split())


def parse_rdcap(text: str, *, lenient: bool = False) -> list[CaptionSegment] | None:
    """→ [(start, end, caption), …] in answer order, or None when no segment is found."""
    segments = [
        CaptionSegment(int(m.group(1)), int(m.group(2)), _clean_caption(m.group(3)))
        for m in _RDCAP_STRICT.finditer(text)
    ]
    if not segments and lenient:
        for line in text.splitlines():
            m = _RDCAP_LENIENT_LINE.match(line)
            if m is not None:
                segments.append(
                    CaptionSegment(int(m.group(1)), int(m.group(2)), _clean_caption(m.group(3)))
                )
    return segments or None


_BARE_PAREN = frozenset({"(", ")"})


def option_label(index: int) -> str:
    return f"({chr(ord('a') + index)})"


def parse_fgqa(text: str, options: Sequence[str], *, lenient: bool = False) -> int | None:
    """→ index into ``options`` of the chosen answer, or None.

    Strict mode follows the released check: the first space-separated word (dots removed) must
    be part of an option label "(x)", or contain the label. Where the released check would
    accept a word for *every* option — a bare "(", ")", "." or a word naming two options such
    as "(a)/(b)" — we return None (wrong) instead of crediting it for each binary row.
    """
    labels = [option_label(i) for i in range(len(options))]
    lowered = text.lower()
    # As released: surrounding whitespace is only stripped along with an "answer:" prefix, so
    # " A" has an empty first word and is wrong.
    if "answer:" in lowered:
        lowered = lowered.replace("answer:", "").strip()
    chosen = _labels_in_first_word(lowered, labels)
    if len(chosen) == 1:
        return chosen.pop()
    if not lenient or chosen:
        return None
    lowered = lowered.strip()
    chosen = _labels_in_first_word(lowered, labels)
    if len(chosen) == 1:
        return chosen.pop()
    return None if chosen else _fgqa_lenient(lowered, options, labels)


def _labels_in_first_word(lowered: str, labels: Sequence[str]) -> set[int]:
    word = lowered.split(" ")[0]
    bare = word.replace(".", "")
    return {
        i
        for i, label in enumerate(labels)
        if (bare and bare not in _BARE_PAREN and bare in label) or label in word
    }


_ARTICLE = re.compile(r"\b(?:option|answer|choice)\s*(?:is\s*)?:?\s*\(?([a-z])\)?(?![a-z])")


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _fgqa_lenient(lowered: str, options: Sequence[str], labels: Sequence[str]) -> int | None:
    found = {i for i, label in enumerate(labels) if label in lowered}
    if len(found) == 1:
        return found.pop()
    named = {ord(m.group(1)) - ord("a") for m in _ARTICLE.finditer(lowered)}
    named &= set(range(len(options)))
    if len(named) == 1:
        return named.pop()
    answer = _normalise(lowered)
    exact = [i for i, option in enumerate(options) if _normalise(option) == answer]
    if len(exact) == 1:
        return exact[0]
    # Binary options differ in one detail, so one option's text is often inside the other's;
    # only accept containment when exactly one option is contained.
    contained = [i for i, option in enumerate(options) if _normalise(option) in answer]
    if len(contained) == 1:
        return contained[0]
    return None
