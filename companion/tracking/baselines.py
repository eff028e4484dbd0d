"""OpenCV's trackers on the same sequences, through one runner."""

from __future__ import annotations

import numpy as np

from companion.tracking.candidates import check_box_in_frame
from companion.tracking.metrics import frame_rates
from companion.utils import Timer

# name -> factory name in cv2 (all in the installed opencv-contrib; MIL is in core OpenCV too)
OPENCV_TRACKERS = {"MIL": "TrackerMIL_create", "KCF": "TrackerKCF_create", "CSRT": "TrackerCSRT_create"}


def available_opencv_trackers() -> list[str]:
    """The OpenCV trackers the installed OpenCV provides."""
    import cv2

    return [n for n, f in OPENCV_TRACKERS.items() if hasattr(cv2, f)]


def run_opencv_tracker(name: str, frames: np.ndarray, first_box, seed: int | None = 0) -> dict:
    """Run OpenCV tracker ``name`` (MIL, KCF, CSRT) over RGB frames (T, H, W, 3) uint8.

    A frame where the tracker reports a loss keeps the last box (as OTB's one-pass evaluation
    does for trackers that give no box). ``seed`` seeds OpenCV's global RNG first (MIL samples
    with it); ``None`` leaves it. MIL also keeps hidden state across trackers of one process
    (measured: the first MIL run of a process differs from later identical ones), so results
    are reproducible per command, process by process, not per call.
    Returns boxes (T, 4), frames per wall-clock second (``fps``) and per CPU second of this
    process (``cpu_fps``; with ``seed`` set OpenCV runs on one thread, so the two agree on an idle
    machine).
    """
    import cv2

    if name not in OPENCV_TRACKERS:
        raise ValueError(f"unknown OpenCV tracker {name!r}; choose from {list(OPENCV_TRACKERS)}")
    if not hasattr(cv2, OPENCV_TRACKERS[name]):
        raise ValueError(f"this OpenCV build has no {name} tracker (install opencv-contrib-python-headless)")
    box = check_box_in_frame(first_box, frames[0].shape)
    threads = cv2.getNumThreads()
    if seed is not None:
        # cv::theRNG() is per thread and setRNGSeed seeds only the calling one: with OpenCV's
        # worker threads MIL's samples came from unseeded generators (a rerun moved its AUC)
        cv2.setNumThreads(1)
        cv2.setRNGSeed(int(seed))
    try:
        tracker = getattr(cv2, OPENCV_TRACKERS[name])()
        with Timer() as t:
            bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames]
            tracker.init(bgr[0], tuple(int(round(v)) for v in box))
            boxes = [box]
            for f in bgr[1:]:
                ok, b = tracker.update(f)
                boxes.append(np.asarray(b, dtype=np.float64) if ok else boxes[-1])
    finally:
        cv2.setNumThreads(threads)
    return {"boxes": np.stack(boxes), **frame_rates(len(frames), t)}
