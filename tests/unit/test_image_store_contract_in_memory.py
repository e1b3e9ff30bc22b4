"""The in-memory image store keeps the ``ImageStore`` contract (as the file system one does)."""

from __future__ import annotations

import pytest

from commerce_core.testing import InMemoryImageStore
from commerce_core.testing.contracts import ImageStoreContract


class TestInMemoryImageStore(ImageStoreContract):
    @pytest.fixture
    def store(self) -> InMemoryImageStore:
        return InMemoryImageStore()
