"""SAM 2 engine: the ``sam2`` package's video predictor behind the engine protocol.

One model per process (cached by config, checkpoint, device and image size), one inference
state per open session, several objects per state. Long videos stay within bounded memory:
frames are decoded lazily into a small cache instead of all at once (SAM 2's own loader keeps
every frame), and during propagation the per-frame memories that SAM 2 can no longer reach
are dropped. Every prompted frame is a conditioning frame, so a corrective click is an anchor
that survives later propagations and a session rebuilt from stored prompts behaves the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workers.engine import Direction, EngineUnavailable, FrameSource, Prompt, frame_order

DEFAULT_CONFIG = "configs/sam2.1/sam2.1_hiera_t.yaml"

_INSTALL_HINT = (
    "pip install -r requirements-gpu.txt, then "
    "SAM2_BUILD_CUDA=0 pip install --no-build-isolation sam2==1.1.0 (or set TRACKER=cpu)"
)


@dataclass(frozen=True)
class _ModelKey:
    config: str
    checkpoint: str | None
    device: str
    image_size: int


_models: dict[_ModelKey, tuple[Any, threading.RLock]] = {}
_models_lock = threading.Lock()
_digests: dict[tuple[str, int, int], str] = {}


class Sam2Engine:
    name = "sam2"

    def __init__(
        self,
        *,
        config: str = DEFAULT_CONFIG,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str = "auto",
        image_size: int = 0,
        max_memory_frames: int = 0,
        offload_to_cpu: bool = True,
        allow_random_weights: bool = False,
        frame_cache: int = 8,
    ) -> None:
        """``config``/``checkpoint``/``device``/``image_size``/``max_memory_frames``/
        ``offload_to_cpu`` are SAM2_CONFIG, SAM2_CHECKPOINT, SAM2_DEVICE (auto|cuda|cpu),
        SAM2_IMAGE_SIZE (0 = the config's), SAM2_MAX_MEMORY_FRAMES (0 = what the model can
        reach) and SAM2_OFFLOAD_TO_CPU. ``allow_random_weights`` is for tests only: with no
        checkpoint it builds an untrained model instead of refusing.

        Raises :class:`EngineUnavailable` naming the setting to fix.
        """
        try:
            import sam2  # noqa: F401
            import torch
            from sam2.build_sam import build_sam2_video_predictor  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailable(
                f"the sam2 package is not installed ({exc}): {_INSTALL_HINT}"
            ) from exc
        checkpoint_path = _check_checkpoint(checkpoint, allow_random_weights)
        _check_config(config)
        if image_size < 0 or image_size % 32:
            raise EngineUnavailable(
                f"SAM2_IMAGE_SIZE={image_size} must be 0 (the config's size) or a multiple of 32"
            )
        self.device = _pick_device(device, torch)
        self.config = config
        self.checkpoint = checkpoint_path
        self.image_size_override = int(image_size)
        self.offload_to_cpu = bool(offload_to_cpu)
        self.frame_cache = max(2, int(frame_cache))
        self.model, self._lock = _load_model(
            _ModelKey(config, checkpoint_path, self.device, int(image_size))
        )
        self.image_size = int(self.model.image_size)
        # Beyond this many frames behind the current one SAM 2 reads no memory (6 previous
        # frames, 15 object pointers for the released configs), so a smaller window would
        # only hurt tracking. 0 keeps every frame's memory (SAM 2's own behaviour), which a
        # corrective click on an already tracked frame benefits from.
        reach = max(
            self.model.num_maskmem * self.model.memory_temporal_stride_for_eval,
            self.model.max_obj_ptrs_in_encoder,
        )
        self.memory_window = max(int(max_memory_frames), reach) if max_memory_frames > 0 else 0
        stem = Path(config).stem
        if checkpoint_path is None:
            version = f"{stem}@random-init"
        else:
            version = f"{stem}@{_sha256_prefix(checkpoint_path)}"
        if image_size:
            version += f"/{image_size}px"
        self.model_version = version

    def open_session(self, source: FrameSource) -> Sam2Session:
        return Sam2Session(self, source)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self.device == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


class Sam2Session:
    def __init__(self, engine: Sam2Engine, source: FrameSource) -> None:
        self.engine = engine
        self.source = source
        self._state: dict[str, Any] | None = _new_state(engine, source)

    def add_prompt(self, prompt: Prompt) -> np.ndarray:
        state = self._live()
        if prompt.frame >= self.source.count:
            raise IndexError(f"frame {prompt.frame} is outside 0..{self.source.count - 1}")
        points = np.array(prompt.points, dtype=np.float32).reshape(-1, 2)
        labels = np.array(prompt.labels, dtype=np.int32)
        with self.engine._lock, self.engine.autocast():
            _, obj_ids, masks = self.engine.model.add_new_points_or_box(
                state,
                frame_idx=prompt.frame,
                obj_id=prompt.object_id,
                points=points if len(points) else None,
                labels=labels if len(points) else None,
                # A prompt carries every click of its frame: it replaces, never adds.
                clear_old_points=True,
                normalize_coords=True,
                box=None if prompt.box is None else np.array(prompt.box, dtype=np.float32),
            )
            index = list(obj_ids).index(prompt.object_id)
            return _to_numpy(masks[index, 0])

    def propagate(
        self,
        *,
        start_frame: int,
        direction: Direction = "both",
        object_ids: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
        state = self._live()
        order = frame_order(start_frame, self.source.count, direction)
        known = list(state["obj_ids"])
        wanted = known if object_ids is None else list(object_ids)
        if not wanted:
            raise ValueError("nothing to propagate: no object has a prompt in this session")
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise KeyError(f"no prompts for object ids {unknown}")
        passes = [reverse for reverse in (False, True) if any(r == reverse for _, r in order)]
        return self._run(state, start_frame, passes, wanted)

    def _run(
        self, state: dict[str, Any], start: int, passes: list[bool], wanted: list[int]
    ) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
        """SAM 2 computes every object of the state in one batch; objects that were not asked
        for are computed and not returned (a second state would cost another image encoder
        pass per frame)."""
        model = self.engine.model
        seen: set[int] = set()
        for reverse in passes:
            steps = model.propagate_in_video(state, start_frame_idx=start, reverse=reverse)
            while True:
                # The autocast context is entered per step rather than around the generator,
                # so it is never left switched on while the caller runs between frames.
                with self.engine._lock, self.engine.autocast():
                    try:
                        frame, obj_ids, masks = next(steps)
                    except StopIteration:
                        break
                    index = {oid: i for i, oid in enumerate(obj_ids)}
                    out = {oid: _to_numpy(masks[index[oid], 0]) for oid in wanted}
                    self._forget_old_memory(state, frame, reverse)
                if frame in seen:
                    continue
                seen.add(frame)
                yield frame, out

    def remove_object(self, object_id: int) -> None:
        state = self._live()
        with self.engine._lock:
            self.engine.model.remove_object(state, object_id, strict=False, need_output=False)

    def reset(self) -> None:
        state = self._live()
        with self.engine._lock:
            self.engine.model.reset_state(state)
        state["cached_features"] = {}

    def close(self) -> None:
        self._state = None
        if self.engine.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _live(self) -> dict[str, Any]:
        if self._state is None:
            raise RuntimeError("this tracking session is closed")
        return self._state

    def _forget_old_memory(self, state: dict[str, Any], frame: int, reverse: bool) -> None:
        """Drop non-conditioning memories more than ``memory_window`` frames behind ``frame``
        (frames with prompts are conditioning frames and always kept). A click later on a
        dropped frame is read without that frame's previous mask."""
        window = self.engine.memory_window
        if window <= 0:
            return
        for per_obj in state["output_dict_per_obj"].values():
            outputs = per_obj["non_cond_frame_outputs"]
            stale = [t for t in outputs if (t > frame + window if reverse else t < frame - window)]
            for t in stale:
                del outputs[t]


class _LazyFrames:
    """The ``images`` SAM 2 expects (indexable, one normalised tensor per frame), decoded on
    demand with a small cache, so memory does not grow with the video's length."""

    def __init__(self, source: FrameSource, image_size: int, device: Any, size: int) -> None:
        import torch

        self.source = source
        self.image_size = image_size
        self.device = device
        self.size = size
        self.mean = torch.tensor((0.485, 0.456, 0.406), dtype=torch.float32)[:, None, None]
        self.std = torch.tensor((0.229, 0.224, 0.225), dtype=torch.float32)[:, None, None]
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.source.count

    def __getitem__(self, index: int) -> Any:
        from sam2.utils.misc import _load_img_as_tensor

        if not 0 <= index < self.source.count:
            raise IndexError(index)
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
        # The same resize and normalisation as SAM 2's own JPEG loader.
        image, _, _ = _load_img_as_tensor(str(self.source.path(index)), self.image_size)
        image = ((image.float() - self.mean) / self.std).to(self.device)
        with self._lock:
            self._cache[index] = image
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return image


def _new_state(engine: Sam2Engine, source: FrameSource) -> dict[str, Any]:
    """The inference state ``SAM2VideoPredictor.init_state`` (sam2 1.1.0) builds, with lazy
    frames instead of every frame decoded up front."""
    import torch

    compute = torch.device(engine.device)
    storage = torch.device("cpu") if engine.offload_to_cpu else compute
    frames_device = torch.device("cpu") if engine.offload_to_cpu else compute
    return {
        "images": _LazyFrames(source, engine.image_size, frames_device, engine.frame_cache),
        "num_frames": source.count,
        "offload_video_to_cpu": engine.offload_to_cpu,
        "offload_state_to_cpu": engine.offload_to_cpu,
        "video_height": source.height,
        "video_width": source.width,
        "device": compute,
        "storage_device": storage,
        "point_inputs_per_obj": {},
        "mask_inputs_per_obj": {},
        "cached_features": {},
        "constants": {},
        "obj_id_to_idx": OrderedDict(),
        "obj_idx_to_id": OrderedDict(),
        "obj_ids": [],
        "output_dict_per_obj": {},
        "temp_output_dict_per_obj": {},
        "frames_tracked_per_obj": {},
    }


def _to_numpy(logits: Any) -> np.ndarray:
    return (logits > 0.0).cpu().numpy()


def _check_checkpoint(checkpoint: str | os.PathLike[str] | None, allow_random: bool) -> str | None:
    if checkpoint is None or str(checkpoint) == "":
        if allow_random:
            return None
        raise EngineUnavailable(
            "SAM2_CHECKPOINT is not set: download a SAM 2.1 checkpoint (e.g. "
            "sam2.1_hiera_tiny.pt for SAM2_CONFIG=configs/sam2.1/sam2.1_hiera_t.yaml) and set "
            "SAM2_CHECKPOINT to its path, or set TRACKER=cpu"
        )
    path = Path(checkpoint)
    if not path.is_file():
        raise EngineUnavailable(
            f"SAM2_CHECKPOINT={path} does not exist or is not a file: point it at a SAM 2 "
            "checkpoint (.pt) readable by the worker, or set TRACKER=cpu"
        )
    return str(path)


def _check_config(config: str) -> None:
    import sam2

    if not (Path(sam2.__path__[0]) / config).is_file():
        raise EngineUnavailable(
            f"SAM2_CONFIG={config} is not a config of the installed sam2 package "
            f"(expected a path like {DEFAULT_CONFIG})"
        )


def _pick_device(device: str, torch: Any) -> str:
    if device not in ("auto", "cuda", "cpu"):
        raise EngineUnavailable(f"SAM2_DEVICE={device!r} must be auto, cuda or cpu")
    has_cuda = bool(torch.cuda.is_available())
    if device == "cuda" and not has_cuda:
        raise EngineUnavailable(
            "SAM2_DEVICE=cuda but this worker sees no CUDA GPU: run the gpu queue on a GPU "
            "host, or set SAM2_DEVICE=cpu (slow) or TRACKER=cpu"
        )
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    return device


def _load_model(key: _ModelKey) -> tuple[Any, threading.RLock]:
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            loaded = (_build(key), threading.RLock())
            _models[key] = loaded
        return loaded


def _build(key: _ModelKey) -> Any:
    import torch
    from sam2 import sam2_video_predictor
    from sam2.build_sam import build_sam2_video_predictor

    overrides = [
        # Corrective clicks become conditioning frames: anchors that later propagations
        # keep, exactly as in a session rebuilt from the stored prompts.
        "++model.add_all_frames_to_correct_as_cond=true",
    ]
    if key.image_size:
        overrides.append(f"++model.image_size={key.image_size}")
    if key.device == "cuda" and torch.cuda.get_device_properties(0).major >= 8:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model = build_sam2_video_predictor(
                key.config,
                ckpt_path=key.checkpoint,
                device=key.device,
                hydra_overrides_extra=overrides,
            )
    except Exception as exc:  # a checkpoint fails to load in many ways; all mean the same
        raise EngineUnavailable(
            f"SAM2_CHECKPOINT={key.checkpoint} could not be loaded with SAM2_CONFIG={key.config} "
            f"({type(exc).__name__}: {exc}); the checkpoint and config must be the same model"
        ) from exc
    try:
        from sam2 import _C  # noqa: F401
    except ImportError:
        # Without the optional CUDA extension, hole filling only warns on every frame. (An
        # override cannot do this: the builder appends its own fill_hole_area after ours.)
        model.fill_hole_area = 0
    # The predictor draws a tqdm bar per propagation; in a worker that is log noise.
    sam2_video_predictor.tqdm = _no_progress_bar
    if key.device != "cuda":
        # SAM 2 stores memories in bfloat16 and relies on CUDA autocast to mix them with
        # float32 weights; without autocast, cast them back where they are read.
        model.memory_attention.register_forward_pre_hook(_memory_to_float, with_kwargs=True)
    return model


def _no_progress_bar(iterable: Any, *args: Any, **kwargs: Any) -> Any:
    return iterable


def _memory_to_float(
    module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    current = kwargs["curr"][0] if isinstance(kwargs["curr"], list) else kwargs["curr"]
    kwargs["memory"] = kwargs["memory"].to(current.dtype)
    return args, kwargs


def _sha256_prefix(path: str) -> str:
    stat = os.stat(path)
    key = (path, int(stat.st_size), int(stat.st_mtime_ns))
    digest = _digests.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
        digest = _digests[key] = h.hexdigest()[:12]
    return digest
