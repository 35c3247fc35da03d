"""The study's sections for the families whose APIs are changing: storage, rollout, autoscale,
lb, federation. Each builder is small and returns :class:`~k8smodel.studies.cluster_study.Section`
objects through ``run_section``, so a family that is missing or fails shows as such.
"""

from __future__ import annotations

from typing import Any

from k8smodel.cluster import Inventory

__all__ = ["SECTION_BUILDERS", "cluster_sections"]


def cluster_sections(inv: Inventory, a: Any) -> list:
    """Sections about the whole cluster (storage, multi-region)."""
    return []


#: Builders called per workload: ``builder(inventory, workload_row, assumptions) -> [Section]``.
SECTION_BUILDERS: list = []

#: Figures of these sections: name -> function(study) -> Figure or None.
FIGURES: dict = {}
