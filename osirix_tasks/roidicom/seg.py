"""Masks as DICOM segmentations (SEG), written with highdicom, and read back from any SEG.

Writing: :func:`build_seg` takes the source images' headers and either a label map (one segment
number per pixel) or one boolean layer per segment, and lets highdicom make a BINARY SEG whose
frames reference the source images they were drawn on (empty frames are left out).

Reading: :func:`read_seg` gives one mask per (source plane, segment) from a SEG made by any tool:
BINARY, FRACTIONAL (a pixel counts from half the maximum value) or LABELMAP. Each frame is placed
on the source plane its derivation sequence names, else on the plane at its position
(``locate``); frames that can be placed nowhere are counted, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from .records import DEFAULT_COLOR, PlaneKey

__all__ = ["SegmentSpec", "SegFrame", "SegContent", "build_seg", "read_seg", "SEG_SOP_CLASS", "MAX_SEG_FRAMES"]

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
#: A SEG with more frames than this is refused (each frame is decoded on its own, but every mask is kept).
MAX_SEG_FRAMES = 20_000
MANUFACTURER = "osirix-tasks"


@dataclass(frozen=True)
class SegmentSpec:
    """One segment to write: its label, colour (RGB 0-255) and tracking UID."""

    label: str
    color: tuple[int, int, int] = DEFAULT_COLOR
    tracking_uid: str | None = None
    automatic: bool = False  # made by a task (algorithm) rather than drawn by hand


@dataclass(frozen=True)
class SegFrame:
    """One segment's mask on one source plane."""

    key: PlaneKey
    segment: int
    mask: np.ndarray  # bool (rows, columns)


@dataclass
class SegContent:
    """What a SEG holds: masks by plane and segment, segment labels and colours, what was skipped."""

    sop_instance_uid: str
    frames: list[SegFrame] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)
    colors: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    unplaced: int = 0  # frames that name no source plane we could find


def _description(number: int, spec: SegmentSpec, algorithm: Any) -> Any:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=(spec.label or f"Segment {number}")[:64],
        segmented_property_category=codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Tissue,
        algorithm_type=(
            hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC if spec.automatic else hd.seg.SegmentAlgorithmTypeValues.MANUAL
        ),
        algorithm_identification=algorithm if spec.automatic else None,
        tracking_uid=spec.tracking_uid or hd.UID(),
        tracking_id=(spec.label or f"Segment {number}")[:64],
        display_color=hd.color.CIELabColor.from_rgb(*spec.color),
    )


def build_seg(
    sources: Sequence[Dataset],
    masks: np.ndarray,
    segments: Sequence[SegmentSpec],
    *,
    series_uid: str,
    series_number: int,
    instance_number: int = 1,
    series_description: str = "",
    algorithm: str = "osirix-tasks",
    sop_instance_uid: str | None = None,
) -> Dataset:
    """A SEG of ``masks`` on ``sources``: ``masks`` is (planes, rows, columns) of segment numbers
    (0 = none) or (planes, rows, columns, segments) booleans, one plane per source header (for a
    single multi-frame source, one plane per frame). Raises ValueError when nothing can be written."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if not segments:
        raise ValueError("no segment to write")
    algorithm_id = hd.AlgorithmIdentificationSequence(
        name=algorithm[:64], family=codes.cid7162.ArtificialIntelligence, version="1"
    )
    descriptions = [_description(n, spec, algorithm_id) for n, spec in enumerate(segments, start=1)]
    array = np.asarray(masks)
    array = array.astype(np.uint16 if array.ndim == 3 else bool)
    seg = hd.seg.Segmentation(
        source_images=list(sources),
        pixel_array=array,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=hd.UID(sop_instance_uid) if sop_instance_uid else hd.UID(),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="osirix-tasks",
        software_versions="1",
        device_serial_number="1",
        series_description=series_description[:64] if series_description else None,
        omit_empty_frames=True,
    )
    return seg


def _cielab_rgb(item: Any) -> tuple[int, int, int]:
    import highdicom as hd

    value = item.get("RecommendedDisplayCIELabValue") if item is not None else None
    if value is None or len(value) != 3:
        return DEFAULT_COLOR
    try:
        r, g, b = hd.color.CIELabColor.from_dicom_value(list(value)).to_rgb(clip=True)
    except Exception:
        return DEFAULT_COLOR
    return (int(r), int(g), int(b))


def frame_item(group: Any, shared: Any, keyword: str) -> list[Any]:
    """A functional group macro of a frame: its own, else the shared one (a SEG with one segment or one
    source may keep the segment identification or derivation in the shared groups)."""
    for source in (group, shared):
        if source is not None and source.get(keyword):
            return list(source.get(keyword))
    return []


def frame_segment(group: Any, shared: Any) -> int | None:
    """The segment number a frame of a BINARY or FRACTIONAL SEG holds."""
    identification = frame_item(group, shared, "SegmentIdentificationSequence")
    return int(identification[0].ReferencedSegmentNumber) if identification else None


def frame_sources(group: Any, shared: Any) -> list[PlaneKey]:
    """The source planes a frame's DerivationImageSequence names."""
    keys = []
    for derivation in frame_item(group, shared, "DerivationImageSequence"):
        for source in derivation.get("SourceImageSequence", []) or []:
            uid = str(source.get("ReferencedSOPInstanceUID", ""))
            frames = source.get("ReferencedFrameNumber")
            if not uid:
                continue
            if frames in (None, ""):
                keys.append(PlaneKey(uid, 0))
            else:
                numbers = frames if isinstance(frames, Sequence) and not isinstance(frames, str) else [frames]
                keys.extend(PlaneKey(uid, int(n) - 1) for n in numbers)
    return keys


def _frame_position(group: Any, shared: Any) -> tuple[float, float, float] | None:
    for source in (group, shared):
        if source is None:
            continue
        for item in source.get("PlanePositionSequence", []) or []:
            position = item.get("ImagePositionPatient")
            if position is not None and len(position) == 3:
                return (float(position[0]), float(position[1]), float(position[2]))
    return None


def _frame_segments(group: Any, shared: Any, plane: np.ndarray, labelmap: bool) -> list[tuple[int, np.ndarray]]:
    if labelmap:
        return [(int(n), plane == n) for n in np.unique(plane) if n != 0]
    number = frame_segment(group, shared)
    return [] if number is None else [(number, plane)]


Locate = Callable[[tuple[float, float, float]], "PlaneKey | None"]


def _frame_keys(group: Any, shared: Any, locate: Locate | None) -> list[PlaneKey]:
    """The source plane of a frame: named by its derivation, else found at its position."""
    keys = frame_sources(group, shared)
    if not keys and locate is not None:
        position = _frame_position(group, shared)
        found = locate(position) if position is not None else None
        keys = [found] if found is not None else []
    return keys[:1]


def _segments(ds: Dataset, content: SegContent) -> None:
    for item in ds.get("SegmentSequence", []) or []:
        number = int(item.SegmentNumber)
        content.labels[number] = str(item.get("SegmentLabel", "") or f"Segment {number}")
        content.colors[number] = _cielab_rgb(item)


def read_seg(ds: Dataset, locate: Locate | None = None) -> SegContent:
    """The masks of a SEG, by source plane and segment. Raises ValueError for a SEG we cannot read."""
    from pydicom.pixels import pixel_array

    if str(ds.get("SOPClassUID", "")) != SEG_SOP_CLASS:
        raise ValueError("not a segmentation (SOP class is not Segmentation Storage)")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > MAX_SEG_FRAMES:
        raise ValueError(f"{frames} frames, more than the {MAX_SEG_FRAMES} we read")
    content = SegContent(str(ds.SOPInstanceUID))
    _segments(ds, content)
    seg_type = str(ds.get("SegmentationType", "BINARY"))
    threshold = max(1, int(ds.get("MaximumFractionalValue", 255) or 255) // 2) if seg_type == "FRACTIONAL" else 1
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    shared = (ds.get("SharedFunctionalGroupsSequence") or [None])[0]
    if len(per_frame) != frames:
        raise ValueError(f"{frames} frames but {len(per_frame)} per-frame functional groups")
    for index, group in enumerate(per_frame):
        keys = _frame_keys(group, shared, locate)
        if not keys:
            content.unplaced += 1
            continue
        plane = np.asarray(pixel_array(ds, index=index))
        values = plane if seg_type == "LABELMAP" else plane >= threshold
        for segment, mask in _frame_segments(group, shared, values, seg_type == "LABELMAP"):
            if mask.any():
                content.frames.append(SegFrame(keys[0], segment, mask.astype(bool)))
    return content
