"""Build the documentation site from the executed notebooks (``make reproduce`` and ``make docs``).

Sphinx with the pydata theme renders ``<out>/site`` from a source tree
assembled under ``<out>/_site_src``: the hand-written pages in ``docs/``
(``conf.py``, quick start, writing a study, architecture), the executed
notebooks of ``<out>/notebooks`` (myst-nb shows their stored outputs and never
runs them), an API reference generated for every module in
``k8smodel._SUBMODULES`` and an index with one card per study.

A card shows the study's title and the question it answers (the first
paragraph after the notebook's ``# Title``), its headline (the first Markdown
output after a ``## Answer`` heading) and a thumbnail (the first figure after
that heading, else the notebook's first figure); see ``docs/writing-a-study.md``.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SECTIONS = {
    "studies": "Studies",
    "validation": "Validation against real balancers",
}
# The headline section; "Conclusion(s)" is read the same way, as older notebooks name it so.
_ANSWER = re.compile(r"^#{2,3}\s+(Answer|Conclusions?)\b", re.I | re.M)


class SiteError(Exception):
    """The site could not be built (Sphinx missing or failed); the message says why."""


@dataclass(frozen=True)
class Study:
    """What the index shows for one notebook."""

    stem: str
    title: str
    question: str = ""
    headline: str = ""
    thumbnail: bytes | None = None
    quick: bool = False
    failure: str | None = None

    @property
    def section(self) -> str:
        """``validation`` for notebooks named ``*validation*``, else ``studies``."""
        return "validation" if "validation" in self.stem else "studies"


def _title_and_question(nb, stem: str) -> tuple[str, str]:
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        title = re.search(r"^#\s+(.+)$", cell.source, re.M)
        if title is None:
            continue
        blocks = re.split(r"\n\s*\n", cell.source[title.end() :].strip())
        question = blocks[0].strip()
        if question.endswith(":") and len(blocks) > 1:  # "This notebook answers:" and its list
            question += "\n\n" + blocks[1].strip()
        return title.group(1).strip(), question
    return stem, ""


def _outputs_after_answer(nb) -> tuple[list, list]:
    """Outputs of the code cells after the ``## Answer`` heading, and all outputs."""
    after: list = []
    every: list = []
    seen_answer = False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _ANSWER.search(cell.source):
            seen_answer = True
        if cell.cell_type == "code":
            every.extend(cell.outputs)
            if seen_answer:
                after.extend(cell.outputs)
    return after, every


def _first(outputs: list, mime: str) -> str | None:
    for output in outputs:
        value = output.get("data", {}).get(mime)
        if value:
            return "".join(value) if isinstance(value, list) else value
    return None


def study_from_notebook(nb, stem: str) -> Study:
    """Read a study's card (title, question, headline, thumbnail) from its executed notebook."""
    title, question = _title_and_question(nb, stem)
    after, every = _outputs_after_answer(nb)
    headline = _first(after, "text/markdown") or ""
    png = _first(after, "image/png") or _first(every, "image/png")
    return Study(
        stem=stem,
        title=title,
        question=question,
        headline=headline.strip(),
        thumbnail=base64.b64decode(png) if png else None,
        quick=bool(nb.metadata.get("k8smodel", {}).get("quick", False)),
    )


def collect_studies(folder: Path, out: Path, failures: dict[str, str] | None = None) -> list[Study]:
    """One Study per source notebook in ``folder``, read from ``<out>/notebooks`` when executed."""
    from k8smodel._notebooks import NotebookFailure, find_notebooks, read_notebook

    failures = failures or {}
    studies = []
    for source in find_notebooks(folder):
        executed = Path(out) / "notebooks" / source.name
        if source.name in failures or not executed.is_file():
            why = failures.get(source.name, "not executed in this build (`make reproduce`).")
            studies.append(Study(stem=source.stem, title=source.stem, failure=why))
            continue
        try:
            studies.append(study_from_notebook(read_notebook(executed), source.stem))
        except NotebookFailure as exc:
            studies.append(Study(stem=source.stem, title=source.stem, failure=str(exc)))
    return studies


def public_api() -> dict[str, list[str]]:
    """Public functions and classes of ``k8smodel`` and of every module in ``_SUBMODULES``.

    A module's public names are its ``__all__`` (else its names without a
    leading underscore) that are functions or classes; submodules are left out.
    """
    import k8smodel

    api = {"k8smodel": _public_names(k8smodel, list(k8smodel.__all__))}
    for name in sorted(k8smodel._SUBMODULES):
        module = importlib.import_module(f"k8smodel.{name}")
        api[module.__name__] = _public_names(module, getattr(module, "__all__", None))
    return api


def _public_names(module, names: list[str] | None) -> list[str]:
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
        names = [
            n for n in names if getattr(vars(module)[n], "__module__", "").startswith("k8smodel")
        ]
    keep = []
    for name in names:
        obj = getattr(module, name, None)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
            keep.append(name)
    return keep


def _module_summary(module_name: str) -> str:
    doc = inspect.getdoc(importlib.import_module(module_name)) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def _api_pages(src: Path) -> list[str]:
    """Write ``api/index.md`` and one autosummary page per module; return the page names."""
    folder = src / "api"
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    api = public_api()
    for module, names in api.items():
        page = module.replace(".", "_")
        items = "\n".join(f"   {n}" for n in names)
        table = f".. autosummary::\n   :toctree: generated\n   :nosignatures:\n\n{items}\n"
        (folder / f"{page}.rst").write_text(
            f"{module}\n{'=' * len(module)}\n\n.. automodule:: {module}\n   :no-members:\n\n"
            + (table if names else "This module exports no function or class.\n"),
            encoding="utf-8",
        )
        pages.append(page)
    rows = "\n".join(
        f"| {{doc}}`{m} <{p}>` | {_module_summary(m)} |" for m, p in zip(api, pages, strict=True)
    )
    toc = "\n".join(pages)
    (folder / "index.md").write_text(
        "# API reference\n\nEvery public function and class, module by module "
        "(the families are listed in `k8smodel._SUBMODULES`).\n\n"
        f"| module | what it holds |\n|---|---|\n{rows}\n\n"
        f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```\n",
        encoding="utf-8",
    )
    return pages


def _card(study: Study) -> str:
    lines = [
        f":::{{grid-item-card}} {study.title}",
        f":link: studies/{study.stem}",
        ":link-type: doc",
    ]
    if study.thumbnail is not None:
        lines.append(f":img-top: _thumbnails/{study.stem}.png")
        lines.append(f":img-alt: {study.title} (first figure)")
    lines.append("")
    if study.failure is not None:
        lines.append(f"**Not available:** {study.failure.splitlines()[0]}")
    else:
        lines.append(study.question)
        if study.headline:
            lines += ["", "**Answer.** " + study.headline]
        if study.quick:
            lines += ["", "*Built in quick mode (`--quick`): small runs, rough numbers.*"]
    lines.append(":::")
    return "\n".join(lines)


def _index_page(studies: list[Study]) -> str:
    parts = [
        "# k8smodel studies\n",
        "Vectorized models of Kubernetes mechanisms (load balancing, federation, rollouts, "
        "storage and more), each following the real system's rules and cited to its source, with "
        "the studies that use them. Every number and figure below was computed by "
        "`make reproduce` from fixed seeds. Start with the {doc}`quick start <quickstart>`; the "
        "{doc}`API reference <api/index>` lists every public function, and {doc}`architecture` "
        "the contract every family follows.\n",
    ]
    for section, heading in SECTIONS.items():
        chosen = [s for s in studies if s.section == section]
        if not chosen:
            continue
        cards = "\n\n".join(_card(s) for s in chosen)
        parts.append(f"## {heading}\n\n::::{{grid}} 1 1 2 2\n:gutter: 3\n\n{cards}\n::::\n")
    toc = [
        "quickstart",
        *(f"{s}" for s in SECTIONS),
        "api/index",
        "architecture",
        "writing-a-study",
    ]
    parts.append("```{toctree}\n:hidden:\n:maxdepth: 2\n\n" + "\n".join(toc) + "\n```\n")
    return "\n".join(parts)


def _section_page(section: str, studies: list[Study]) -> str:
    entries = "\n".join(f"studies/{s.stem}" for s in studies if s.section == section)
    return f"# {SECTIONS[section]}\n\n```{{toctree}}\n:maxdepth: 1\n\n{entries}\n```\n"


def _failure_page(study: Study) -> str:
    error = textwrap.indent(study.failure or "", "    ")
    return (
        f"# {study.stem}\n\nThis notebook has no executed version in this build.\n\n::\n\n{error}\n"
    )


def write_sources(
    src: Path, docs: Path, out: Path, studies: list[Study], readme: Path | None
) -> None:
    """Assemble the Sphinx source tree in ``src`` (emptied first)."""
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(docs, src, ignore=shutil.ignore_patterns("*.png", "_build", "__pycache__"))
    (src / "_includes").mkdir(exist_ok=True)
    if readme is not None and readme.is_file():
        shutil.copy2(readme, src / "_includes" / "README.md")
    else:
        (src / "_includes" / "README.md").write_text("", encoding="utf-8")
    (src / "studies").mkdir()
    (src / "_thumbnails").mkdir()
    for study in studies:
        if study.failure is not None:
            (src / "studies" / f"{study.stem}.md").write_text(_failure_page(study), "utf-8")
            continue
        shutil.copy2(out / "notebooks" / f"{study.stem}.ipynb", src / "studies")
        if study.thumbnail is not None:
            (src / "_thumbnails" / f"{study.stem}.png").write_bytes(study.thumbnail)
    for section in SECTIONS:
        (src / f"{section}.md").write_text(_section_page(section, studies), encoding="utf-8")
    (src / "index.md").write_text(_index_page(studies), encoding="utf-8")
    _api_pages(src)


def _docs_folder(folder: Path) -> Path:
    """``docs/`` beside the notebooks (a checkout), else the copy shipped with the package."""
    beside = Path(folder).resolve().parent / "docs"
    if (beside / "conf.py").is_file():
        return beside
    raise SiteError(f"no docs/conf.py beside {folder}; the site is built from a k8smodel checkout")


def build_site(
    folder: Path,
    out: Path,
    *,
    failures: dict[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Build ``<out>/site`` from ``<out>/notebooks``; return the path of its ``index.html``.

    Raises
    ------
    SiteError
        When Sphinx or its extensions are missing, or Sphinx fails.
    """
    try:
        import myst_nb  # noqa: F401
        import numpydoc  # noqa: F401
        import pydata_sphinx_theme  # noqa: F401
        import sphinx  # noqa: F401
        import sphinx_design  # noqa: F401
    except ImportError as exc:
        raise SiteError(f"{exc.name} is missing: pip install 'k8smodel[docs]'") from None
    folder, out = Path(folder).resolve(), Path(out).resolve()
    docs = _docs_folder(folder)
    studies = collect_studies(folder, out, failures)
    for study in studies:
        if study.failure is None and not study.headline:
            log(f"    {study.stem}: no Markdown output after '## Answer'; the card has no headline")
    src, site, doctrees = out / "_site_src", out / "site", out / "_site_doctrees"
    try:
        write_sources(src, docs, out, studies, readme=folder.parent / "README.md")
    except ImportError as exc:  # a family that does not import cannot be documented
        raise SiteError(f"API reference: {exc}") from None
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(doctrees, ignore_errors=True)
    warnings = out / "site-warnings.txt"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees)]
    command += ["-w", str(warnings), str(src), str(site)]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SiteError(f"sphinx-build exited {done.returncode}:\n{done.stderr[-3000:]}")
    count = sum(
        1
        for line in warnings.read_text("utf-8").splitlines()
        if "WARNING" in line or "ERROR" in line
    )
    if count:
        log(f"    site: {count} Sphinx warning(s), listed in {warnings}")
    return site / "index.html"
