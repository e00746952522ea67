"""Real data sets come from ``mtdnn_core.testing`` (``$MTDNN_TEST_DATA``): ``shared_data``."""
from pathlib import Path

import pytest

from mtdnn_core.testing import real_data


@pytest.fixture(scope="session")
def glue_dir(shared_data) -> Path:
    return real_data("glue")
