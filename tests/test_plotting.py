import matplotlib.pyplot as plt
import pytest

from k8smodel import plotting


def _figure():
    plotting.use_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 3, 2], label="x")
    ax.legend()
    return fig


def test_savefig_returns_none_and_writes_byte_stable_files(tmp_path, monkeypatch):
    monkeypatch.setenv(plotting.FIGURES_ENV, str(tmp_path / "a"))
    # None, so a notebook cell ending with savefig prints no list of paths.
    assert plotting.savefig(_figure(), "demo", formats=("svg", "png", "pdf")) is None
    monkeypatch.setenv(plotting.FIGURES_ENV, str(tmp_path / "b"))
    plotting.savefig(_figure(), "demo", formats=("svg", "png", "pdf"))
    names = ["demo.svg", "demo.png", "demo.pdf"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert b"Date" not in (tmp_path / "a" / "demo.svg").read_bytes()
    assert b"CreationDate" not in (tmp_path / "a" / "demo.pdf").read_bytes()
    plt.close("all")


def test_default_formats_are_svg_and_png(tmp_path, monkeypatch):
    monkeypatch.setenv(plotting.FIGURES_ENV, str(tmp_path))
    plotting.savefig(_figure(), "demo")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.png", "demo.svg"]
    plt.close("all")


def test_saved_png_has_the_shown_size(tmp_path, monkeypatch):
    # The style saves at the figure's own dpi, as the notebook's inline backend shows it:
    # 7 x 4.2 inches at 150 dpi is 1050 x 630 pixels before the tight box trims the margins.
    monkeypatch.setenv(plotting.FIGURES_ENV, str(tmp_path))
    fig = _figure()
    plotting.savefig(fig, "demo", formats=("png",))
    height, width = plt.imread(tmp_path / "demo.png").shape[:2]
    assert fig.dpi == 150
    assert 900 < width <= 1050 + 20 and 500 < height <= 630 + 20
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
