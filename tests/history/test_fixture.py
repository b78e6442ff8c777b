"""The PostgreSQL fixture's rule: skip, naming the package, unless CI requires the server."""

from __future__ import annotations

import pytest

from tests.history import conftest


def test_missing_server_skips_or_fails_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "REQUIRE", False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        conftest._unavailable("PostgreSQL server not installed: apt-get install postgresql")
    monkeypatch.setattr(conftest, "REQUIRE", True)
    with pytest.raises(pytest.fail.Exception, match="TPFORCE_REQUIRE_POSTGRES=1"):
        conftest._unavailable("PostgreSQL server not installed: apt-get install postgresql")
