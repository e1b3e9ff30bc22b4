"""``ImageStoreContract``: what every ``ImageStore`` does. Provide a fixture ``store``."""

from __future__ import annotations

import hashlib
import threading

from commerce_core.domain.images import ImageFormat, is_image_key
from commerce_core.ports import ImageStore

__all__ = ["ImageStoreContract"]

PICTURE = b"\x89PNG\r\n\x1a\n a picture of a mug"


class ImageStoreContract:
    def test_an_image_is_stored_under_the_hash_of_its_bytes(self, store: ImageStore) -> None:
        key = store.put(PICTURE, ImageFormat.PNG)
        assert key == f"{hashlib.sha256(PICTURE).hexdigest()}.png"
        assert is_image_key(key)
        assert store.get(key) == PICTURE

    def test_each_format_has_its_extension(self, store: ImageStore) -> None:
        keys = {f: store.put(PICTURE, f) for f in ImageFormat}
        assert {k.rsplit(".", 1)[1] for k in keys.values()} == {"png", "jpg", "webp"}

    def test_the_same_image_twice_is_one_stored_image(self, store: ImageStore) -> None:
        first = store.put(PICTURE, ImageFormat.JPEG)
        assert store.put(bytes(PICTURE), ImageFormat.JPEG) == first
        assert store.get(first) == PICTURE

    def test_concurrent_puts_of_one_image_all_succeed_with_its_key(self, store: ImageStore) -> None:
        keys: list[str] = []
        threads = [
            threading.Thread(target=lambda: keys.append(store.put(PICTURE, ImageFormat.WEBP)))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(keys) == 8
        assert len(set(keys)) == 1
        assert store.get(keys[0]) == PICTURE

    def test_names_that_are_not_stored_keys_find_nothing(self, store: ImageStore) -> None:
        key = store.put(PICTURE, ImageFormat.PNG)
        for name in (
            "0" * 64 + ".png",
            key.upper(),
            key[:-4] + ".gif",
            key + "/",
            "../" + key,
            "/etc/passwd",
            "..",
            "",
            key.replace(".png", ".png\x00"),
        ):
            assert store.get(name) is None, name

    def test_the_url_names_the_key(self, store: ImageStore) -> None:
        key = store.put(PICTURE, ImageFormat.PNG)
        assert store.url(key).endswith("/" + key)
