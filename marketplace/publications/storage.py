"""Content-addressed, write-once storage of published files under REPORTS_DIR.

A file is stored under its own SHA-256 (objects/ab/abcdef….pdf), so a name can never point
at different bytes, two identical renders share one file, and a half-written file is never
visible: bytes go to a temporary file in the same directory, are flushed to disk, then
renamed into place and made read-only. Any host that mounts the same REPORTS_DIR (a shared
volume, or object storage mounted as one) serves the same files.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

EXTENSIONS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/json": "json",
}


class StorageError(RuntimeError):
    pass


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size_bytes: int


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ReportStorage:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def key_for(self, sha256: str, content_type: str) -> str:
        return f"objects/{sha256[:2]}/{sha256}.{EXTENSIONS[content_type]}"

    def path(self, key: str) -> Path:
        # Keys are made here from hex digests; refuse anything else rather than trust it.
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "objects" or ".." in key or key.startswith("/"):
            raise StorageError(f"not a storage key: {key!r}")
        return self.root / key

    def put(self, data: bytes, content_type: str) -> StoredFile:
        digest = sha256_of(data)
        key = self.key_for(digest, content_type)
        target = self.path(key)
        if target.exists():
            if target.stat().st_size != len(data) or sha256_of(target.read_bytes()) != digest:
                raise StorageError(f"{key} exists with different bytes; the store is corrupt")
            return StoredFile(key, digest, len(data))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o444)
            # Atomic on one filesystem; if another writer won the race its bytes are ours.
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return StoredFile(key, digest, len(data))

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def verify(self, key: str, sha256: str) -> bool:
        path = self.path(key)
        return path.exists() and sha256_of(path.read_bytes()) == sha256


def storage_for(config) -> ReportStorage:
    return ReportStorage(config["REPORTS_DIR"])
