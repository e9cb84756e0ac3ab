"""Disclosure-site generator: content/*.yml → validated catalogue → mkdocs-material site."""
