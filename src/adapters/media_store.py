"""``FileSystemImageStore``: the ``ImageStore`` port over a directory (``MEDIA_DIR``).

Each image is one file named by its key (``<sha256>.<ext>``), written to a temporary file in
the same directory and renamed into place, so a reader never sees half an image and two
uploads of the same picture at once both end with the one file. Only names matching the key
pattern are ever opened: no path a client sends can leave the directory. Behind a proxy the
directory may be served directly at ``/media/`` (files never change: cache them forever).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from commerce_core import ImageFormat, image_key, is_image_key

__all__ = ["FileSystemImageStore", "write_atomically"]


class FileSystemImageStore:
    def __init__(self, root: Path | str, base_url: str = "/media/") -> None:
        self.root = Path(root)
        self.base_url = base_url

    def put(self, data: bytes, image_format: ImageFormat) -> str:
        key = image_key(data, image_format)
        target = self.root / key
        if target.is_file():
            return key  # content-addressed: the same bytes are there already
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data, prefix=".upload-")
        return key

    def get(self, key: str) -> bytes | None:
        if not is_image_key(key):
            return None
        try:
            return (self.root / key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def url(self, key: str) -> str:
        return self.base_url + key


def write_atomically(target: Path, data: bytes, *, prefix: str) -> None:
    """A temporary file in ``target``'s folder, synced and renamed into place: no reader ever
    sees half a file, and a crash leaves the old file or none. Readable by a web server in
    front (0644), which may serve the folder itself."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
