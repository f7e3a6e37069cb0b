import pytest

from annotation.evaluation.metrics import CaptionSegment, FgqaRow, fgqa_mbacc
from annotation.evaluation.parsing import parse_fgqa, parse_rdcap, parse_rtloc

# --- RTLoc -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[12, 30]", (12, 30)),
        ("The action happens in [12,30].", (12, 30)),
        ("[3.5, 7]", (3.5, 7)),
        ("[4, 9] and later [20, 25]", (4, 9)),  # the first window counts
    ],
)
def test_rtloc_strict_reads_the_bracket_format(text, expected):
    assert parse_rtloc(text) == expected


@pytest.mark.parametrize(
    "text",
    ["From frame 12 to frame 30", "12-30", "", "I cannot tell.", "[12]", "[ 12, 30]", "[-3, 4]"],
)
def test_rtloc_strict_refuses_what_the_released_evaluation_refuses(text):
    assert parse_rtloc(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("From frame 12 to frame 30", (12, 30)),
        ("frames 12-30", (12, 30)),
        ("12\u201330", (12, 30)),  # en dash
        ("start: 4, end: 9", (4, 9)),
        ("[12, 30]", (12, 30)),
    ],
)
def test_rtloc_lenient_reads_free_form_ranges(text, expected):
    assert parse_rtloc(text, lenient=True) == expected


def test_rtloc_lenient_still_fails_on_text_without_a_range():
    assert parse_rtloc("The man never sits down.", lenient=True) is None


# --- RDCap -------------------------------------------------------------------------------------


def test_rdcap_strict_reads_bracketed_items_in_answer_order():
    text = "[0, 12]: The man walks in.\n[13, 31]: He sits down,\n[5,6] Waves."

    assert parse_rdcap(text) == [
        CaptionSegment(0, 12, "The man walks in."),
        CaptionSegment(13, 31, "He sits down"),
        CaptionSegment(5, 6, "Waves."),
    ]


def test_rdcap_strict_drops_a_frame_label_that_introduces_the_next_item():
    text = "Frame [0, 10]: walks in\nFrame [11, 31]: sits"

    assert parse_rdcap(text) == [
        CaptionSegment(0, 10, "walks in"),
        CaptionSegment(11, 31, "sits"),
    ]


@pytest.mark.parametrize(
    "text", ["", "The man walks in and sits down.", "Frame 0-12: The man walks in."]
)
def test_rdcap_strict_unparseable_is_none(text):
    assert parse_rdcap(text) is None


def test_rdcap_lenient_reads_frame_range_lines():
    text = "Frame 0-12: The man walks in.\nFrame 13-31: Out of frame.\nsome trailing remark"

    assert parse_rdcap(text, lenient=True) == [
        CaptionSegment(0, 12, "The man walks in."),
        CaptionSegment(13, 31, "Out of frame."),
    ]


# --- FGQA --------------------------------------------------------------------------------------

OPTIONS = ["picks the cup up", "puts the cup down"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(A) picks the cup up", 0),
        ("A", 0),
        ("a.", 0),
        ("B) puts the cup down", 1),
        ("(B)", 1),
        ("Answer: (B)", 1),
        ("answer: b", 1),
        ("(A)\nBecause the hand rises.", 0),  # the first word is split on spaces only
    ],
)
def test_fgqa_strict_reads_the_option_letter(text, expected):
    assert parse_fgqa(text, OPTIONS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " A",  # the released check takes the empty first word: no answer
        "(",  # the released check would credit this for every option
        ".",
        "(a)/(b)",  # names both options
        "C",  # not an option of a binary question
        "Option B",
        "puts the cup down",
    ],
)
def test_fgqa_strict_unparseable_is_none(text):
    assert parse_fgqa(text, OPTIONS) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Option B", 1),
        ("The answer is (A).", 0),
        ("puts the cup down", 1),
        ("He puts the cup down.", 1),
        ("The correct answer is: B", 1),
        ("  (B) puts the cup down", 1),
    ],
)
def test_fgqa_lenient_reads_option_names_and_texts(text, expected):
    assert parse_fgqa(text, OPTIONS, lenient=True) == expected


def test_fgqa_lenient_refuses_an_answer_matching_both_options():
    options = ["the cup", "the cup and the plate"]

    assert parse_fgqa("the cup and the plate and the cup", options, lenient=True) is None


def test_unparseable_answers_count_as_wrong_in_mbacc_without_aborting():
    answers = {"q1": ["(A)", "garbage"], "q2": ["B", "(B)"]}
    truth = {"q1": [0, 0], "q2": [1, 1]}

    rows = [
        FgqaRow(qa_uid, truth[qa_uid][i], parse_fgqa(text, OPTIONS))
        for qa_uid, texts in answers.items()
        for i, text in enumerate(texts)
    ]
    result = fgqa_mbacc(rows)

    assert result.value == 0.5
    assert result.counts["parse_errors"] == 1
