"""Per-node volume attach limits for AWS EBS, GCE PD and Azure Disk.

The scheduler's NodeVolumeLimits plugin rejects a node where one more CSI
volume would exceed the count the driver reports in ``CSINode``
(``allocatable.count``, from the driver's ``NodeGetInfo`` /
``MaxVolumesPerNode``). The counts come from each driver:

* AWS EBS CSI driver: ``GetVolumeLimits`` returns 39 for older (non-Nitro)
  types, a generated per-type table (``maxAttachments`` and whether the limit
  is ``shared`` with network interfaces and NVMe instance stores or
  ``dedicated`` to EBS), and 27 shared for Nitro types not in the table.
  ``getVolumesLimit`` then subtracts reserved attachments (the root volume and
  other block-device mappings) and, for shared limits, the attached ENIs
  *beyond the first* (``availableAttachments -= (enis - 1)``): an m5.large
  (27, shared) with its one ENI reports 27 - 1 - 0 = 26.
* GCE PD CSI driver: 127 attachable disks, 15 for shared-core types
  (``f1-micro``, ``g1-small``, ``e2-micro``, ``e2-small``, ``e2-medium``);
  both are the documented 128/16 minus the boot disk.
* Azure Disk CSI driver: the VM size's maximum number of data disks
  (``maxDataDiskCountMap``, looked up upper-cased); the OS disk is not a data
  disk. A size not in the map gets ``defaultAzureVolumeLimit`` = 16
  (``GetMaxDataDiskCount`` in ``pkg/azuredisk/nodeserver.go``).

Checked against the drivers' sources at kubernetes-sigs/aws-ebs-csi-driver
429e202e, gcp-compute-persistent-disk-csi-driver b560165c and
azuredisk-csi-driver d983d613 (see ``data/SOURCES.md``).

References
----------
* kubernetes-sigs/aws-ebs-csi-driver ``pkg/cloud/limits/volume_limits.go``,
  ``volume_limits_table.go``, ``pkg/driver/node.go`` (getVolumesLimit).
* kubernetes-sigs/gcp-compute-persistent-disk-csi-driver
  ``pkg/gce-pd-csi-driver/node.go`` (GetVolumeLimits).
* kubernetes-sigs/azuredisk-csi-driver ``pkg/azuredisk/azure_dd_max_disk_count.go``,
  ``pkg/azuredisk/nodeserver.go`` (GetMaxDataDiskCount, NodeGetInfo).
* Kubernetes docs, "Node-specific Volume Limits"
  (https://kubernetes.io/docs/concepts/storage/storage-limits/).
"""

from __future__ import annotations

import numbers
import warnings
from functools import lru_cache

import pandas as pd

from k8smodel._data import data_dir

__all__ = ["attach_limit", "attach_limits", "PROVIDERS"]

PROVIDERS = ("aws", "gce", "azure")
_ALIASES = {
    "ebs": "aws",
    "aws-ebs": "aws",
    "gcp": "gce",
    "gke": "gce",
    "pd": "gce",
    "azure-disk": "azure",
}
_DATA = data_dir() / "storage_attach_limits.csv"
#: azuredisk-csi-driver pkg/azuredisk/nodeserver.go defaultAzureVolumeLimit.
AZURE_DEFAULT_LIMIT = 16


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    if not _DATA.exists():
        raise FileNotFoundError(f"attach-limit table not found at {_DATA}")
    return pd.read_csv(_DATA)


def attach_limits() -> pd.DataFrame:
    """The attach-limit table shipped in ``data/storage_attach_limits.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns: ``provider`` (``aws``, ``gce``, ``azure``), ``instance_type``,
        ``max_attachments`` (the driver's figure), ``attachment_type``
        (``shared`` or ``dedicated``), ``reserved_in_value`` (``boot`` when the
        figure already excludes the boot disk, else ``none``), ``source``.
    """
    return _table().copy()


def attach_limit(
    provider: str,
    instance_type: str,
    *,
    reserved_volumes: int | None = None,
    network_interfaces: int = 1,
) -> int:
    """How many CSI volumes the driver lets a node of this type attach.

    Parameters
    ----------
    provider : {"aws", "gce", "azure"}
        Cloud (aliases: ``ebs``, ``gcp``, ``gke``).
    instance_type : str
        Instance/machine/VM size, e.g. ``"m5.large"``, ``"e2-medium"``,
        ``"Standard_D4s_v3"`` (Azure sizes are matched case-insensitively).
    reserved_volumes : int, optional, keyword-only
        AWS only: attachments the driver reserves (root volume plus other
        block-device mappings); default 1, the root volume.
    network_interfaces : int, keyword-only
        AWS only: ENIs attached (the primary one included). On a ``shared`` limit
        the driver subtracts those beyond the first. Default 1.

    Returns
    -------
    int
        The node's ``CSINode`` allocatable count (at least 1, as the EBS
        driver never reports less).

    Raises
    ------
    ValueError
        For an unknown provider, or an AWS or GCE type not in the table (the message
        lists the known ones). An Azure size not in the table gets the driver's
        default of 16, with a warning, as ``GetMaxDataDiskCount`` does for sizes
        missing from its map.

    Examples
    --------
    >>> attach_limit("aws", "m5.large"), attach_limit("gce", "e2-medium")
    (26, 15)
    """
    if not isinstance(provider, str):
        raise TypeError(f"provider must be a str; got {provider!r}")
    p = _ALIASES.get(provider.lower(), provider.lower())
    if p not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    t = _table()
    rows = t[t.provider == p]
    key = str(instance_type)
    match = (
        rows[rows.instance_type.str.lower() == key.lower()]
        if p == "azure"
        else rows[rows.instance_type == key]
    )
    if match.empty and p == "azure":
        warnings.warn(
            f"Azure size {instance_type!r} is not in k8smodel's table; using the Azure Disk "
            f"CSI driver's default of {AZURE_DEFAULT_LIMIT} (defaultAzureVolumeLimit), which "
            "is what it reports for sizes missing from its own map",
            UserWarning,
            stacklevel=2,
        )
        return AZURE_DEFAULT_LIMIT
    if match.empty:
        known = ", ".join(rows.instance_type)
        raise ValueError(f"unknown {p} instance type {instance_type!r}; known: {known}")
    row = match.iloc[0]
    limit = int(row.max_attachments)
    if p != "aws":
        return limit
    reserved = 1 if reserved_volumes is None else reserved_volumes
    for name, val in (("reserved_volumes", reserved), ("network_interfaces", network_interfaces)):
        if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 0:
            raise ValueError(f"{name} must be an int >= 0; got {val!r}")
    limit -= reserved
    if row.attachment_type == "shared":
        limit -= max(network_interfaces - 1, 0)  # getVolumesLimit: availableAttachments -= enis - 1
    return max(limit, 1)
