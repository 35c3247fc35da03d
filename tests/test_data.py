"""Every file in data/ is listed in data/SOURCES.md with its source and date."""

from pathlib import Path

import pytest

import k8smodel

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = sorted(p.name for p in DATA.iterdir() if p.is_file() and p.name != "SOURCES.md")


def test_data_dir_is_the_checkout_data_folder():
    assert k8smodel.data_dir().resolve() == DATA


def test_shared_data_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("K8SMODEL_SHARED_DATA", str(tmp_path))
    assert k8smodel.shared_data_dir() == tmp_path


@pytest.mark.parametrize("name", FILES)
def test_every_data_file_is_listed_with_source_and_date(name):
    rows = [line for line in (DATA / "SOURCES.md").read_text().splitlines() if f"`{name}`" in line]
    assert rows, f"data/{name} has no row in data/SOURCES.md"
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert len(cells) == 4 and all(cells), f"data/{name}: the row needs what, source and date"
