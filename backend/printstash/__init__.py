"""PrintStash: a self-hosted vault for 3D-print files."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("printstash")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
