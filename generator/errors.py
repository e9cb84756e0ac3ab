"""The generator's own error: a site that could not be built (content errors live in core.errors)."""

from __future__ import annotations

from core.errors import PortalError


class BuildError(PortalError):
    """The site could not be built; the published site is left as it was."""
