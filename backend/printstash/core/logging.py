"""Plain-text logging to stderr, the same format in api and worker."""

import logging


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
