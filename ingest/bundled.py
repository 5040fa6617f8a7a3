"""The bundled corpus, added to the per-user home the first time it is used.

Only the default home gets it (`Settings.is_home`), and only once: a marker file in the data
folder records that the first use happened, so a library whose documents were all removed
stays empty instead of filling up again. A home whose index already holds documents (someone
ran `passage ingest` there first) gets the marker and no corpus. An add that is killed
leaves no marker, and the next use adds again (unchanged files are skipped).
Usage: `add_on_first_use(library, settings.data_dir)`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from passage.home import BUNDLED_MARKER, bundled_corpus

from .library import Library
from .pipeline import IngestReport, Progress

log = logging.getLogger(__name__)
MARKER = BUNDLED_MARKER


def add_on_first_use(library: Library, data_dir: Path, progress: Progress | None = None) -> IngestReport | None:
    """Add the bundled corpus when this is the home's first use and its index is empty; else None."""
    marker = data_dir / MARKER
    corpus = bundled_corpus()
    if marker.exists() or corpus is None:
        return None
    report = None
    if not library.records():
        log.warning("first use of %s: adding the bundled documents from %s (about half a minute)", data_dir, corpus)
        report = library.add([corpus], progress=progress)
        for outcome in report.failed:
            log.warning("%s: %s", Path(outcome.path).name, outcome.error)
    marker.touch()
    return report
