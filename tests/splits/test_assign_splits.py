"""assign_splits: by video group, balanced by category x captions per masklet, frozen once given,
deny/hold-out lists, a SplitRun per run, and clear CLI errors."""

import pytest
from django.core.management import CommandError, call_command

from annotation.models import Role, SplitRun, Video
from tests.conftest import client_for
from tests.export_data import captioned_masklet, clip, stc_project
from tests.factories import UserFactory, VideoFactory, member

pytestmark = pytest.mark.django_db

FRAMES = 6


def spans(n):
    """n captions over FRAMES frames."""
    bounds = [round(i * FRAMES / n) for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1] - 1, f"Caption number {i} here.") for i in range(n)]


def video_with(project, name, category, captions, **kw):
    video = clip(project, name, frames=FRAMES, **kw)
    captioned_masklet(video, spans(captions), category=category)
    return video


def splits(project):
    return dict(Video.objects.filter(project=project).values_list("name", "split"))


def assign(project, *args):
    call_command("assign_splits", "--project", project.name, *args)


@pytest.fixture
def hundred():
    """100 single-video groups: 40 person/1 caption, 40 animal/3, 20 object/6."""
    project = stc_project()
    for i in range(100):
        category, captions = ("person", 1) if i < 40 else ("animal", 3) if i < 80 else ("object", 6)
        video_with(project, f"v{i:03d}.mp4", category, captions)
    return project


def cells(project, split):
    out = {}
    for video in Video.objects.filter(project=project, split=split).prefetch_related("masklets"):
        for masklet in video.masklets.all():
            n = len(masklet.caption_revisions.get().segments)
            key = f"{masklet.category}/{'5+' if n >= 5 else n}"
            out[key] = out.get(key, 0) + 1
    return out


def test_val_and_test_are_balanced_by_category_and_captions_per_masklet(hundred):
    assign(hundred, "--val", "0.1", "--test", "0.2", "--seed", "7")

    assert cells(hundred, "test") == {"person/1": 8, "animal/3": 8, "object/5+": 4}
    assert cells(hundred, "val") == {"person/1": 4, "animal/3": 4, "object/5+": 2}
    assert cells(hundred, "train") == {"person/1": 28, "animal/3": 28, "object/5+": 14}
    assert Video.objects.filter(project=hundred, split="").count() == 0
    assert Video.objects.filter(project=hundred, split_assigned_at__isnull=True).count() == 0


def test_same_seed_gives_the_same_assignment(hundred):
    assign(hundred, "--val", "0.1", "--test", "0.2", "--seed", "7")
    first = splits(hundred)
    Video.objects.filter(project=hundred).update(split="", split_assigned_at=None)

    assign(hundred, "--val", "0.1", "--test", "0.2", "--seed", "7")

    assert splits(hundred) == first


def test_clips_of_one_source_video_stay_together():
    project = stc_project()
    for group in range(12):
        for part in range(3):
            video_with(project, f"g{group:02d}_clip{part}.mp4", "person", 2,
                       split_group=f"source-{group:02d}")  # fmt: skip

    assign(project, "--val", "0.25", "--test", "0.25")

    by_group = {}
    for video in Video.objects.filter(project=project):
        by_group.setdefault(video.split_group, set()).add(video.split)
    assert all(len(found) == 1 for found in by_group.values())
    totals = {
        s: sum(1 for v in splits(project).values() if v == s) for s in ("train", "val", "test")
    }
    assert totals == {"train": 18, "val": 9, "test": 9}


def test_assigned_videos_never_move_and_new_clips_join_their_group(hundred):
    assign(hundred, "--val", "0.1", "--test", "0.2")
    first = splits(hundred)
    test_video = Video.objects.filter(project=hundred, split="test").first()
    Video.objects.filter(pk=test_video.pk).update(split_group="shared")
    late_clip = video_with(hundred, "late_clip.mp4", "person", 1, split_group="shared")
    for i in range(10):
        video_with(hundred, f"new{i}.mp4", "animal", 3)

    assign(hundred, "--val", "0.5", "--test", "0.4", "--seed", "3")

    after = splits(hundred)
    assert {name: after[name] for name in first} == first
    late_clip.refresh_from_db()
    assert late_clip.split == "test"
    assert [r.version for r in SplitRun.objects.filter(project=hundred).order_by("pk")] == [1, 2]


def test_quotas_count_what_val_and_test_already_hold(hundred):
    assign(hundred, "--val", "0.1", "--test", "0.2")
    for i in range(10):
        video_with(hundred, f"new{i:02d}.mp4", "animal", 3)

    assign(hundred, "--val", "0.1", "--test", "0.2")

    counts = {s: list(splits(hundred).values()).count(s) for s in ("train", "val", "test")}
    assert counts == {"train": 77, "val": 11, "test": 22}


def test_denied_videos_stay_out_of_val_and_test(tmp_path):
    project = stc_project()
    for i in range(10):
        video_with(project, f"sav_{i:06d}.mp4", "person", 2, source_video_id=f"src{i}",
                   split_group=f"grp{i}")  # fmt: skip
    deny = tmp_path / "deny.txt"
    deny.write_text("# SA-V test videos\nsav_000000.mp4\nsav_000001\nsrc2\ngrp3  # a group\n\n"
                    "sav_999999\n")  # fmt: skip

    assign(project, "--val", "0.2", "--test", "0.5", "--deny", str(deny))

    found = splits(project)
    assert [found[f"sav_{i:06d}.mp4"] for i in range(4)] == ["train"] * 4
    assert sorted(found.values()).count("test") == 5
    assert sorted(found.values()).count("val") == 1
    run = SplitRun.objects.get(project=project)
    assert run.deny_list == ["grp3", "sav_000000.mp4", "sav_000001", "sav_999999", "src2"]


def test_hold_out_videos_stay_out_of_train(tmp_path):
    project = stc_project()
    for i in range(10):
        video_with(project, f"sav_{i:06d}.mp4", "person", 2)
    hold = tmp_path / "hold.txt"
    hold.write_text("sav_000000\nsav_000001\n")

    assign(project, "--val", "0", "--test", "0.1", "--hold-out", str(hold))

    found = splits(project)
    assert (found["sav_000000.mp4"], found["sav_000001.mp4"]) == ("test", "test")
    assert sorted(found.values()) == ["test"] * 2 + ["train"] * 8


def test_counts_table_is_printed_and_recorded(capsys):
    project = stc_project()
    for i in range(4):
        video_with(project, f"p{i}.mp4", "person", 1)
    for i in range(4):
        video_with(project, f"a{i}.mp4", "animal", 2)

    assign(project, "--val", "0.25", "--test", "0.25", "--seed", "1")

    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["split", "videos", "groups", "new", "masklets", "captions",
                              "person", "animal", "object"]  # fmt: skip
    assert [line.split() for line in out[2:5]] == [
        ["train", "4", "4", "4", "4", "6", "2", "2", "0"],
        ["val", "2", "2", "2", "2", "3", "1", "1", "0"],
        ["test", "2", "2", "2", "2", "3", "1", "1", "0"],
    ]
    assert out[7].split() == ["animal/2", "50.0%", "50.0%", "50.0%"]
    assert out[-1].startswith("split version 1 recorded (seed 1, val 0.25, test 0.25")
    run = SplitRun.objects.get(project=project)
    assert run.counts["splits"]["val"]["by_cell"] == {"animal/2": 1, "person/1": 1}
    assert run.counts["assigned"] == {"train": 4, "val": 2, "test": 2}


def test_videos_without_masklets_are_split_by_count():
    project = stc_project()
    VideoFactory.create_batch(20, project=project)

    assign(project, "--val", "0.1", "--test", "0.1")

    values = list(splits(project).values())
    assert (values.count("train"), values.count("val"), values.count("test")) == (16, 2, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--val", "-0.1", "--test", "0.1"], r"--val must be a fraction in \[0, 1\), got -0.1"),
        (["--val", "0.1", "--test", "1.5"], r"--test must be a fraction in \[0, 1\), got 1.5"),
        (["--val", "0.5", "--test", "0.5"], r"--val \+ --test must leave something for train"),
        (["--val", "nan", "--test", "0.1"], "--val must be a fraction"),
        (["--val", "0.1", "--test", "0.1", "--deny", "/nonexistent/deny.txt"],
         "--deny: cannot read /nonexistent/deny.txt: No such file or directory"),
    ],
)  # fmt: skip
def test_bad_input_is_a_cli_error_and_changes_nothing(hundred, args, message):
    with pytest.raises(CommandError, match=message):
        assign(hundred, *args)

    assert SplitRun.objects.count() == 0
    assert set(splits(hundred).values()) == {""}


def test_unknown_project_is_a_cli_error():
    with pytest.raises(CommandError, match="project 'nope' does not exist"):
        call_command("assign_splits", "--project", "nope", "--val", "0.1", "--test", "0.1")


def test_a_group_on_both_lists_is_refused(tmp_path):
    project = stc_project()
    video_with(project, "sav_000001.mp4", "person", 1)
    (tmp_path / "both.txt").write_text("sav_000001\n")

    with pytest.raises(CommandError, match="on both the deny and the hold-out list"):
        assign(project, "--val", "0.1", "--test", "0.1", "--deny", str(tmp_path / "both.txt"),
               "--hold-out", str(tmp_path / "both.txt"))  # fmt: skip
    assert splits(project) == {"sav_000001.mp4": ""}


def test_splits_api_shows_counts_and_runs_to_admins_and_reviewers(hundred):
    assign(hundred, "--val", "0.1", "--test", "0.2", "--seed", "7")
    url = f"/api/projects/{hundred.pk}/splits"

    body = client_for(member(hundred, Role.REVIEWER)).get(url).json()

    assert body["videos"] == {"train": 70, "val": 10, "test": 20, "unassigned": 0}
    [run] = body["runs"]
    assert (run["version"], run["seed"], run["val_fraction"], run["test_fraction"]) == (
        1,
        7,
        0.1,
        0.2,
    )
    assert run["counts"]["splits"]["test"]["by_cell"] == {
        "animal/3": 8,
        "object/5+": 4,
        "person/1": 8,
    }
    assert client_for(member(hundred, Role.ANNOTATOR)).get(url).status_code == 403
    assert client_for(UserFactory()).get(url).status_code == 404
