"""Data files shipped with nglint (``directives.json``: see ``nglint.directives``)."""
