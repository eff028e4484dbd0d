"""Object tracking with tree-structured recursive neural features and sparse dictionary coding
(Wang, Liu, Wang, Yang & Wang, arXiv 1801.02021)."""

from companion.tracking.baselines import available_opencv_trackers, run_opencv_tracker
from companion.tracking.metrics import (center_error, iou, precision_at, precision_curve, success_auc,
                                        success_curve)
from companion.tracking.rnn import RecursiveNet, Tree, first_frame_loss, greedy_tree, grid_adjacency
from companion.tracking.sparse import ista, lasso_sklearn, omp_sklearn, omp_step, reconstruction_error
from companion.tracking.tracker import TrackerConfig, TreeRNNTracker, run_tracker
from companion.data.real_video import interpolate_keyframes, load_bigbuckbunny

__all__ = ["available_opencv_trackers", "run_opencv_tracker", "center_error", "iou", "precision_at",
           "precision_curve", "success_auc", "success_curve", "RecursiveNet", "Tree", "first_frame_loss",
           "greedy_tree", "grid_adjacency", "ista", "lasso_sklearn", "omp_sklearn", "omp_step",
           "reconstruction_error", "TrackerConfig", "TreeRNNTracker", "run_tracker",
           "interpolate_keyframes", "load_bigbuckbunny"]
