import matplotlib.pyplot as plt
import pytest

from k8smodel import plotting


def _figure():
    plotting.use_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 3, 2], label="x")
    ax.legend()
    return fig


def test_savefig_writes_into_env_folder_byte_stable(tmp_path, monkeypatch):
    monkeypatch.setenv(plotting.FIGURES_ENV, str(tmp_path / "a"))
    fig = _figure()
    first = plotting.savefig(fig, "demo", formats=("svg", "png", "pdf"))
    assert [p.name for p in first] == ["demo.svg", "demo.png", "demo.pdf"]
    monkeypatch.setenv(plotting.FIGURES_ENV, str(tmp_path / "b"))
    second = plotting.savefig(_figure(), "demo", formats=("svg", "png", "pdf"))
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert b"Date" not in first[0].read_bytes()
    plt.close("all")


def test_default_folder_is_figures(tmp_path, monkeypatch):
    monkeypatch.delenv(plotting.FIGURES_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert plotting.figures_dir().resolve() == (tmp_path / "figures").resolve()


@pytest.mark.parametrize("name", ["../escape", "a b", "", "/abs"])
def test_bad_names(name):
    with pytest.raises(ValueError, match="name must be"):
        plotting.savefig(plt.figure(), name)
    plt.close("all")


def test_bad_format():
    with pytest.raises(ValueError, match="formats must be"):
        plotting.savefig(plt.figure(), "x", formats=("jpg",))
    plt.close("all")
