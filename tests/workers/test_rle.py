from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as coco

from workers import rle
from workers.rle import RleError

SAV_MANUAL = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "sav_example"
    / "sav_000001_manual.json"
)


def _block(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((h, w), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_encode_gives_coco_compressed_string_identical_to_pycocotools() -> None:
    mask = _block(7, 5, 1, 4, 2, 5)
    ours = rle.encode(mask)
    reference = coco.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert ours == {"size": [7, 5], "counts": reference["counts"].decode("ascii")}
    assert isinstance(ours["counts"], str)


@pytest.mark.parametrize(("h", "w"), [(1, 1), (3, 17), (720, 1280), (848, 480)])
def test_decode_inverts_encode_for_random_masks(h: int, w: int) -> None:
    rng = np.random.default_rng(h * 1000 + w)
    for density in (0.0, 0.01, 0.5, 1.0):
        mask = rng.random((h, w)) < density
        decoded = rle.decode(rle.encode(mask))
        assert decoded.dtype == np.bool_
        assert decoded.shape == (h, w)
        assert decoded.flags["C_CONTIGUOUS"]
        assert np.array_equal(decoded, mask)


def test_empty_is_the_encoding_of_an_all_false_mask() -> None:
    assert rle.empty(848, 480) == rle.encode(np.zeros((848, 480), dtype=bool))
    assert rle.area(rle.empty(4, 6)) == 0
    assert not rle.decode(rle.empty(4, 6)).any()


def test_area_and_box_of_a_block_use_inclusive_exclusive_pixels() -> None:
    r = rle.encode(_block(10, 12, 2, 5, 3, 7))
    assert rle.area(r) == 12
    assert rle.bbox_xyxy(r) == [3, 2, 7, 5]
    single = rle.encode(_block(10, 12, 5, 6, 3, 4))
    assert rle.bbox_xyxy(single) == [3, 5, 4, 6]


def test_box_of_an_empty_mask_is_none() -> None:
    assert rle.bbox_xyxy(rle.empty(10, 12)) is None


def test_iou_of_overlapping_blocks_is_intersection_over_union() -> None:
    a = rle.encode(_block(6, 6, 0, 2, 0, 2))
    b = rle.encode(_block(6, 6, 1, 3, 1, 3))
    assert rle.iou(a, b) == pytest.approx(1 / 7)
    assert rle.iou(a, a) == 1.0


def test_iou_treats_two_empty_masks_as_agreeing_and_one_empty_as_disjoint() -> None:
    empty = rle.empty(6, 6)
    assert rle.iou(empty, rle.empty(6, 6)) == 1.0
    assert rle.iou(empty, rle.encode(_block(6, 6, 0, 1, 0, 1))) == 0.0


def test_iou_of_masks_of_different_sizes_is_refused() -> None:
    with pytest.raises(RleError, match="sizes"):
        rle.iou(rle.empty(6, 6), rle.empty(6, 7))


def test_validate_accepts_a_well_formed_rle() -> None:
    rle.validate(rle.encode(_block(9, 11, 2, 8, 1, 10)), 9, 11)
    rle.validate(rle.empty(9, 11), 9, 11)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a dict", "must be an object"),
        ({"counts": "0"}, "missing size"),
        ({"size": [2, 2]}, "missing counts"),
        ({"size": "2x2", "counts": "4"}, "two integers"),
        ({"size": [2, 2.0], "counts": "4"}, "two integers"),
        ({"size": [2, 3], "counts": "6"}, "does not match the frame size"),
        ({"size": [2, 2], "counts": b"4"}, "compressed COCO string, got bytes"),
        ({"size": [2, 2], "counts": [4]}, "compressed COCO string, got list"),
        ({"size": [2, 2], "counts": "4 "}, "invalid character"),
        ({"size": [2, 2], "counts": "5"}, "cover 5 pixels but a 2x2 mask has 4"),
        ({"size": [2, 2], "counts": "h"}, "ends in the middle"),
        ({"size": [2, 2], "counts": "0@"}, "negative run length"),
    ],
)
def test_validate_rejects_malformed_rle_with_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(RleError, match=message):
        rle.validate(value, 2, 2)


def test_rle_error_is_a_value_error() -> None:
    assert issubclass(RleError, ValueError)


def test_sav_masks_decode_and_reencode_to_the_same_strings() -> None:
    if not SAV_MANUAL.exists():
        pytest.skip(f"SA-V example {SAV_MANUAL} is absent (the shared data checkout)")
    doc = json.loads(SAV_MANUAL.read_text())
    height, width = int(doc["video_height"]), int(doc["video_width"])
    for frame in doc["masklet"][::20]:
        for mask_rle in frame:
            rle.validate(mask_rle, height, width)
            assert rle.encode(rle.decode(mask_rle)) == mask_rle
