"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "ses_dkim_monitor"
TEMPLATE_PATH = REPO / "template.yaml"
EVENTS = REPO / "events"
DOCS = REPO / "docs"
