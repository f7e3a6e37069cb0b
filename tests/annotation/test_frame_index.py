from annotation.media import build_frame_index


def test_sav_24fps_483_frames_has_121_annotation_frames_every_4th():
    times = [i / 24 for i in range(483)]
    index = build_frame_index(times, 6.0)
    assert len(index) == 121
    assert index == [4 * k for k in range(121)]


def test_30fps_200_frames_has_40_annotation_frames():
    index = build_frame_index([i / 30 for i in range(200)], 6.0)
    assert len(index) == 40
    assert index[-1] == 195


def test_ntsc_rate_picks_nearest_source_frame():
    fps = 30000 / 1001
    index = build_frame_index([i / fps for i in range(289)], 6.0)
    # t = k/6 lands at source frame k * 4.995, rounded to the nearest
    assert index[:4] == [0, 5, 10, 15]
    assert index[100 // 2] == round(50 * 4.995)
    assert len(index) == 58


def test_frame_exists_while_nearest_source_frame_exists():
    # 25 frames at 24 fps: last source frame at 1.0 s, so t = 1.0 is annotation frame 6
    assert len(build_frame_index([i / 24 for i in range(25)], 6.0)) == 7
    # 24 frames: last at 0.958 s; t = 1.0 is more than half a frame past it
    assert len(build_frame_index([i / 24 for i in range(24)], 6.0)) == 6


def test_variable_frame_rate_uses_timestamps():
    times = [0.0, 0.05, 0.3, 0.34, 0.5, 0.52]
    # targets 0, 1/6, 2/6=0.333, 0.5 -> nearest 0.0, 0.05|0.3 -> 0.3 is 0.133 away, 0.05 is 0.117
    assert build_frame_index(times, 6.0) == [0, 1, 3, 4]


def test_tie_goes_to_the_earlier_frame():
    # source at 0, 0.1, 0.2 ... ; 5 fps annotation targets 0.2 exactly; 4 fps target 0.25 ties
    times = [0.0, 0.1, 0.2, 0.3]
    assert build_frame_index(times, 4.0) == [0, 2]


def test_no_frames_gives_no_annotation_frames():
    assert build_frame_index([], 6.0) == []
