from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data sets are expected at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def glue_dir(shared_data) -> Path:
    return shared_data / "glue"
