"""The version is written once (sktransfer/__init__.py) and read by the packaging metadata."""

from importlib import metadata

import sktransfer


def test_installed_metadata_reports_the_package_version():
    assert metadata.version("sktransfer") == sktransfer.__version__
