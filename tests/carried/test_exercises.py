"""Chapter 10's checks accept the references and reject the mistakes a student makes."""

import numpy as np
import pytest

from companion import exercises
from companion.carried import exercises as ex

# ---- ch10.features: the (K, 6) superpixel features in the person's frame


def _features(labels, mask, *, axis="head", signed=False, box_plus=1, height_plus=1, pad_value=False, scale=True):
    rows, cols = np.nonzero(mask)
    top, h = rows.min(), rows.max() - rows.min() + height_plus
    axis_x = cols[rows <= top + max(1, 0.12 * h)].mean() if axis == "head" else cols.mean()
    if not scale:
        h = 1
    p = np.pad(mask, 1, constant_values=pad_value)
    contour = mask & ~(p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:])
    out = []
    for k in range(1, labels.max() + 1):
        yy, xx = np.nonzero(labels == k)
        dx = xx.mean() - axis_x
        out.append([(dx if signed else abs(dx)) / h, (yy.mean() - top) / h, np.sqrt(len(xx)) / h,
                    (xx.max() - xx.min() + box_plus) / h, (yy.max() - yy.min() + box_plus) / h,
                    contour[yy, xx].mean()])
    return np.array(out)


def axis_at_the_centroid(labels, mask):  # the blob's mean column, not the head's
    return _features(labels, mask, axis="centroid")


def signed_distance(labels, mask):  # c_x - axis_x: left and right of the axis differ
    return _features(labels, mask, signed=True)


def box_without_the_plus_one(labels, mask):  # x_max - x_min: a one-pixel-wide box has width 0
    return _features(labels, mask, box_plus=0)


def height_without_the_plus_one(labels, mask):  # the person's height as bottom - top
    return _features(labels, mask, height_plus=0)


def image_border_is_inside(labels, mask):  # pads with True: a pixel on the image border is not contour
    return _features(labels, mask, pad_value=True)


def in_pixels(labels, mask):  # forgets to divide by the person's height
    return _features(labels, mask, scale=False)


# ---- ch10.combine: P_c(x) = mean_s (1 - P_h^s) * B^s at each pixel's superpixel


def _per_scale(label_maps, human_likeness, background_info, value=lambda ph, b: (1 - ph) * b):
    return [np.concatenate([[0.0], value(np.asarray(ph), np.asarray(b))])[l]
            for l, ph, b in zip(label_maps, human_likeness, background_info)]


def maximum_over_scales(label_maps, human_likeness, background_info):
    return np.max(_per_scale(label_maps, human_likeness, background_info), axis=0)


def summed_over_scales(label_maps, human_likeness, background_info):  # forgets to divide by S
    return np.sum(_per_scale(label_maps, human_likeness, background_info), axis=0)


def human_likeness_not_inverted(label_maps, human_likeness, background_info):  # P_h * B
    return np.mean(_per_scale(label_maps, human_likeness, background_info, lambda ph, b: ph * b), axis=0)


def background_not_masked(label_maps, human_likeness, background_info):  # labels - 1 wraps 0 to the last one
    return np.mean([((1 - np.asarray(ph)) * np.asarray(b))[l - 1]
                    for l, ph, b in zip(label_maps, human_likeness, background_info)], axis=0)


def background_info_ignored(label_maps, human_likeness, background_info):  # 1 - P_h only
    return np.mean(_per_scale(label_maps, human_likeness, background_info, lambda ph, b: 1 - ph), axis=0)


# ---- ch10.iou: (N, M) IoU of [x0, y0, x1, y1) boxes


def _iou(a, b, *, plus=0, clip=True, minus_inter=True, over="union"):
    a, b = np.asarray(a, float), np.asarray(b, float)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + plus
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + plus
    inter = (np.clip(w, 0, None) * np.clip(h, 0, None)) if clip else w * h
    area = lambda x: (x[:, 2] - x[:, 0] + plus) * (x[:, 3] - x[:, 1] + plus)  # noqa: E731
    if over == "a":
        return inter / area(a)[:, None]
    union = area(a)[:, None] + area(b)[None, :] - (inter if minus_inter else 0)
    return inter / union


def inclusive_ends(a, b):  # [x0, x1] with the end included: + 1 on every side
    return _iou(a, b, plus=1)


def unclipped_overlap(a, b):  # a negative width times a negative height is a positive "overlap"
    return _iou(a, b, clip=False)


def union_without_the_overlap(a, b):  # area_a + area_b counts the overlap twice
    return _iou(a, b, minus_inter=False)


def over_the_first_box(a, b):  # intersection / area of a
    return _iou(a, b, over="a")


MUTANTS = {
    "ch10.features": [axis_at_the_centroid, signed_distance, box_without_the_plus_one, height_without_the_plus_one,
                      image_border_is_inside, in_pixels],
    "ch10.combine": [maximum_over_scales, summed_over_scales, human_likeness_not_inverted, background_not_masked,
                     background_info_ignored],
    "ch10.iou": [inclusive_ends, unclipped_overlap, union_without_the_overlap, over_the_first_box],
}


@pytest.mark.parametrize("key, fn", [("ch10.features", ex.superpixel_features),
                                     ("ch10.combine", ex.carried_probability_map), ("ch10.iou", ex.box_iou)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
