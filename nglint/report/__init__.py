"""Formatters: every one reads the same Finding objects."""
