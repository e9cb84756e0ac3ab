"""mkdocs hook: the theme prints config values without escaping (mkdocs does not autoescape), so the editor's
site-wide texts arrive escaped."""

from __future__ import annotations

from typing import Any

from markupsafe import escape

TEXTS = ("site_name", "site_description", "copyright")


def on_config(config: Any) -> Any:
    """Mark the editor's texts as escaped HTML: a bare `{{ }}` prints them safely and `| e` does not escape twice."""
    for key in TEXTS:
        if config[key]:
            config[key] = escape(config[key])
    return config
