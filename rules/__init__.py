"""nglint's rules: one module per rule; each module's docstring is its documentation.

This folder is installed as ``nglint.rules`` (``package-dir`` in pyproject.toml, for
wheels and editable installs alike): import rule modules as ``nglint.rules.<name>``,
never as a top-level ``rules``.
"""
