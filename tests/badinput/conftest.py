from __future__ import annotations

import pytest

from tests.badinput.fixtures import build_database


@pytest.fixture(scope="session")
def base_db(tmp_path_factory):
    return build_database(tmp_path_factory.mktemp("badinput-base"))
