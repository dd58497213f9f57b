"""Statistics for eihlab: per-subject changes, group summaries, effect sizes and time-course figures.

Works on plain pandas tables (tidy, one row per trial: ``subject, arm, time_min, measure, site, value,
unit``) and depends on no other eihlab subpackage except :mod:`eihlab.errors`.
"""

from ._effects import EffectSize as EffectSize
from ._effects import mean_ci as mean_ci
from ._effects import within_subject_d as within_subject_d
from ._figures import plot_time_courses as plot_time_courses
from ._summary import REQUIRED_COLUMNS as REQUIRED_COLUMNS
from ._summary import net_change as net_change
from ._summary import subject_changes as subject_changes
from ._summary import summarise as summarise

__all__ = [
    "REQUIRED_COLUMNS",
    "EffectSize",
    "mean_ci",
    "net_change",
    "plot_time_courses",
    "subject_changes",
    "summarise",
    "within_subject_d",
]
