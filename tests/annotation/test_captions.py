import pytest

from annotation.errors import ServiceError
from annotation.models import Project
from annotation.services.captions import Segment, out_of_frame_runs, segments_build

PROJECT = Project(min_caption_chars=5, max_caption_chars=60, out_of_frame_caption="Out of frame.")


def seg(start, end, caption="The ball rolls left."):
    return {"start_frame": start, "end_frame": end, "caption": caption}


def build(typed, visible):
    return segments_build(typed=typed, visible=visible, project=PROJECT)


def test_out_of_frame_runs_are_maximal_inclusive_runs():
    visible = [False, False, True, True, False, True, False]
    assert out_of_frame_runs(visible) == [(0, 1), (4, 4), (6, 6)]
    assert out_of_frame_runs([True] * 3) == []


def test_automatic_out_of_frame_segments_fill_the_gaps():
    visible = [True] * 4 + [False] * 3 + [True] * 3
    built = build([seg(0, 3, "It walks in."), seg(7, 9, "It comes back.")], visible)
    assert built == [
        Segment(0, 3, "It walks in."),
        Segment(4, 6, "Out of frame.", out_of_frame=True),
        Segment(7, 9, "It comes back."),
    ]


def test_captions_are_normalised_for_whitespace():
    assert build([seg(0, 1, "  It   jumps.\n")], [True, True])[0].caption == "It jumps."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ([], "Add at least one segment."),
        ([seg(0, 10)], "Segment 1: frames 0-10 are outside the video (0-9)."),
        ([seg(-1, 3)], "Segment 1: frames -1-3 are outside the video (0-9)."),
        ([seg(5, 3)], "Segment 1: ends (frame 3) before it starts (frame 5)."),
        ([seg(0, 5), seg(5, 9)], "Segments 1 and 2 overlap (frames 5-5)."),
        ([seg(0, 4), seg(6, 9)], "Frames 5-5 are not covered by any segment."),
        ([seg(0, 8)], "Frames 9-9 are not covered by any segment."),
        ([seg(0, 9, "   ")], "Segment 1: the caption is empty."),
        ([seg(0, 9, "Hop")], "Segment 1: the caption is too short (3 characters; at least 5)."),
        ([seg(0, 9, "x" * 61)], "Segment 1: the caption is too long (61 characters; at most 60)."),
        (
            [seg(0, 9, "It <b>jumps</b>.")],
            "Segment 1: captions are plain text; remove the markup tag.",
        ),
        ([seg(0, 9, 42)], "Segment 1: the caption must be text."),
        (
            [{"start_frame": "0", "end_frame": 9, "caption": "abcdef"}],
            "Segment 1: start_frame and end_frame must be whole numbers.",
        ),
    ],
)
def test_bad_segments_get_a_precise_message(typed, message):
    with pytest.raises(ServiceError) as caught:
        build(typed, [True] * 10)
    assert caught.value.message == message


def test_typed_segment_may_not_cover_out_of_frame_frames():
    visible = [True] * 5 + [False] * 5
    with pytest.raises(ServiceError) as caught:
        build([seg(0, 7)], visible)
    assert caught.value.message == (
        "Segment 1 (frames 0-7) overlaps frames 5-9, where the subject is out of frame."
    )


def test_a_subject_never_visible_cannot_be_captioned():
    with pytest.raises(ServiceError, match="never visible"):
        build([], [False] * 4)


def test_segment_order_does_not_matter():
    built = build([seg(5, 9, "Second action."), seg(0, 4, "First action.")], [True] * 10)
    assert [s.start_frame for s in built] == [0, 5]
