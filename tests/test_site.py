"""The site `make reproduce` builds: every saved figure is on its study's page, no page shows a
list of paths, the index carries each study's question, headline and thumbnail, the API reference
covers every family, and (marker `browser`) real headless Chromium decodes every image."""

import shutil
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import k8smodel
from k8smodel._notebooks import reproduce
from k8smodel._site import public_api

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")

STEM = "01_demo_study"
CELLS = [
    new_markdown_cell("# A demo study\n\nHow steep is the line through (0, 0), (1, 2) and (2, 4)?"),
    new_code_cell('import os\nQUICK = os.environ.get("K8SMODEL_QUICK") == "1"'),
    new_code_cell(
        "import matplotlib.pyplot as plt\nimport numpy as np\nfrom k8smodel import plotting\n\n"
        "plotting.use_style()\nx = np.arange(3)\ny = 2.0 * x\n"
        "fig, ax = plt.subplots()\nax.plot(x, y)\nplotting.savefig(fig, 'demo_line')\n"
        "fig2, ax2 = plt.subplots()\nax2.bar(x, y)\nplotting.savefig(fig2, 'demo_bars')"
    ),
    new_markdown_cell("## Answer"),
    new_code_cell(
        "from IPython.display import Markdown\n\n"
        "slope = float(np.polyfit(x, y, 1)[0])\n"
        'Markdown(f"The line rises by **{slope:.1f}** per step.")'
    ),
]


class Page(HTMLParser):
    """The images of a page and the text of its notebook output areas."""

    def __init__(self, path: Path):
        super().__init__()
        self.images: list[str] = []
        self.output_text: list[str] = []
        self._depth = 0  # > 0 inside a cell output
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if self._depth:
            self._depth += tag != "img"
        elif "cell_output" in (attrs.get("class") or "").split():
            self._depth = 1

    def handle_endtag(self, tag):
        if self._depth and tag != "img":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.output_text.append(data)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A checkout-like folder with one small notebook, reproduced (quick) into build/."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy2(ROOT / "README.md", root / "README.md")
    (root / "notebooks").mkdir()
    nb = new_notebook(cells=CELLS)
    for number, cell in enumerate(nb.cells):
        cell.id = f"cell-{number}"
    nbformat.write(nb, root / "notebooks" / f"{STEM}.ipynb")
    log: list[str] = []
    failed = reproduce(root / "notebooks", root / "build", quick=True, log=log.append)
    assert failed == 0, "\n".join(log)
    return root / "build", log


def test_progress_log_names_each_notebook_and_the_total(built):
    _, log = built
    assert log[0] == f"[1/1] {STEM}: running (quick mode)"
    assert log[1].startswith(f"[1/1] {STEM}: done in ")
    assert any(line.startswith("site: ") for line in log)
    assert log[-1].startswith("total ")


def test_every_saved_figure_is_on_its_page(built):
    out, _ = built
    page_path = out / "site" / "studies" / f"{STEM}.html"
    page = Page(page_path)
    shown = [mpimg.imread(page_path.parent / src) for src in page.images]
    saved = sorted((out / "figures" / STEM).glob("*.png"))
    assert [p.name for p in saved] == ["demo_bars.png", "demo_line.png"]
    for path in saved:
        assert any(np.array_equal(mpimg.imread(path), s) for s in shown), path.name
    assert sorted(p.name for p in (out / "figures" / STEM).glob("*.svg")) == [
        "demo_bars.svg",
        "demo_line.svg",
    ]


def test_no_page_shows_a_path_list(built):
    out, _ = built
    pages = sorted((out / "site" / "studies").glob("*.html"))
    assert pages
    for path in pages:
        text = "".join(Page(path).output_text)
        assert "PosixPath" not in text and ".svg" not in text and "/figures/" not in text, path


def test_index_shows_question_headline_and_thumbnail(built):
    out, _ = built
    index = out / "site" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert "A demo study" in html
    assert "How steep is the line through" in html
    # np.polyfit of y = 2x: slope 2.0, formatted by the notebook, carried to the card.
    assert "The line rises by <strong>2.0</strong> per step." in html
    thumbnails = [src for src in Page(index).images if STEM in src]
    assert thumbnails, "no thumbnail for the study"
    first_figure = mpimg.imread(out / "figures" / STEM / "demo_line.png")
    assert np.array_equal(mpimg.imread(index.parent / thumbnails[0]), first_figure)
    for page in ("quickstart", "architecture", "writing-a-study", "api/index", "studies"):
        assert (out / "site" / f"{page}.html").is_file(), page


def test_api_reference_covers_every_family(built):
    out, _ = built
    api = public_api()
    assert set(api) >= {f"k8smodel.{name}" for name in k8smodel._SUBMODULES}
    for module, names in api.items():
        page = (out / "site" / "api" / f"{module.replace('.', '_')}.html").read_text("utf-8")
        for name in names:
            assert (out / "site" / "api" / "generated" / f"{module}.{name}.html").is_file(), name
            assert f"{module}.{name}.html" in page, f"{module}.{name} not linked"


def test_pages_carry_no_absolute_build_path(built):
    out, _ = built
    for path in (out / "site").rglob("*.html"):
        assert str(out.parent) not in path.read_text(encoding="utf-8"), path


# --- in a real browser ------------------------------------------------------------------------


def _chrome():
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium and chromedriver are not installed (scripts/install-browser)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    return webdriver.Chrome(options=options, service=service)


@pytest.mark.browser
def test_pages_render_in_chromium(built):
    out, _ = built
    driver = _chrome()
    try:
        for page in ("index.html", f"studies/{STEM}.html"):
            driver.get((out / "site" / page).as_uri())
            widths = driver.execute_script(
                "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth]);"
            )
            assert widths, f"{page}: no image"
            broken = [src for src, complete, width in widths if not complete or width == 0]
            assert not broken, f"{page}: images not decoded: {broken}"
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, f"{page}: console errors: {errors}"
    finally:
        driver.quit()
