"""Sphinx configuration of the k8smodel site (``make reproduce`` / ``make docs``).

k8smodel._site copies this folder into ``build/_site_src`` together with the
executed notebooks and the generated index and API pages, then runs Sphinx on
it. Notebooks are rendered from their stored outputs and never executed here.
Nothing in the output depends on the date or the build folder.
"""

import k8smodel

project = "k8smodel"
author = "k8smodel developers"
copyright = "k8smodel developers"  # no year: the pages must not change with the date
version = release = k8smodel.__version__

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx_design",
]
exclude_patterns = ["_includes/**", "_build", "**.ipynb_checkpoints", "conf.py"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["k8smodel.css"]

# Notebooks: what `make reproduce` executed, shown as stored.
nb_execution_mode = "off"
nb_merge_streams = True
# No dollarmath: the studies speak of money ("$17,400 against $13,800"), and a pair of dollar signs
# must not turn the words between them into a formula (write \$ in notebooks for JupyterLab too).
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# API reference: autosummary stubs rendered with numpydoc.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = "k8smodel"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "header_links_before_dropdown": 7,
    "navbar_end": ["navbar-icon-links"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "quickstart": [], "architecture": [], "writing-a-study": []}
# An explicit mode: without one the theme logs "Got invalid theme mode" on a first visit; light
# suits the figures' white backgrounds.
html_context = {"default_mode": "light"}
