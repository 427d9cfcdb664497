"""Meaning of directive values: nginx's time and size parsing and directive tables."""
