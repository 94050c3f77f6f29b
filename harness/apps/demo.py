"""The demo app models that come with bgtest: ``fixtures/apps/`` of this checkout.

``bgtest sim android`` installs them by default and ``app: {model: nwm_demo}`` finds them from
anywhere (after the ``fixtures/apps/`` nearest the scenario), so the bundled scenarios and the
``bgtest new`` starter run on a virtual device out of the box. A wheel built without the
fixtures has none: then only a project's own ``fixtures/apps/`` count.
"""

from __future__ import annotations

from pathlib import Path

DEMO_APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"


def demo_models() -> list[Path]:
    """Every demo app model file (none when bgtest was installed without its fixtures)."""
    if not DEMO_APPS.is_dir():
        return []
    return sorted(p for p in DEMO_APPS.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
