"""Sphinx configuration of the course's website (built by `make site`, see tools/build_site.py).

The pages are made from the notebooks' stored outputs (nothing is executed), and everything they load ships in
the built folder: MathJax from the jupyter-server-mathjax package, the theme's own assets, the search index.
"""

project = "Latent variable models, from the ground up"
author = "The course's authors (see CITATION.cff)"
copyright = "the course's authors; text and figures CC BY 4.0, code MIT"

extensions = ["myst_nb"]
nb_execution_mode = "off"            # the stored outputs are the content; nothing runs at build time
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "**.ipynb_checkpoints", "readme_body.md"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "Latent variable models"
html_static_path = ["_static"]
html_theme_options = {
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
}
html_last_updated_fmt = None
html_context = {"default_mode": "light"}
html_favicon = "favicon.svg"
# MathJax 3 (docs/site/vendor/mathjax, copied into _static/mathjax by tools/build_site.py): the site needs no network
# to show its math. The "full" SVG build holds every TeX extension and draws its own glyphs: no further requests.
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"svg": {"fontCache": "global"}}
