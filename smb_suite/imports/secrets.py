"""The old provider's password of an import started in the admin UI, sealed while the run lasts, so that the
daemon (or another node sharing the data folder) can resume it after a restart; erased when the run ends.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with one key in data_dir/keys/imports.key (mode 0600,
made on first use by an atomic create). Whoever reads the data folder could read both key and sealed password,
so the database alone (a dump, a replica) gives nothing away.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from smb_suite.errors import ImportFailed


class SecretBox:
    def __init__(self, key_file: Path) -> None:
        self._key_file = key_file

    def seal(self, secret: str) -> bytes:
        return self._fernet().encrypt(secret.encode("utf-8"))

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet().decrypt(sealed).decode("utf-8")
        except InvalidToken as exc:
            raise ImportFailed("the import's saved password cannot be read (the key changed): start it again") from exc

    def _fernet(self) -> Fernet:
        if not self._key_file.exists():
            self._key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                descriptor = os.open(self._key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                pass
            else:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(Fernet.generate_key())
                    file.flush()
                    os.fsync(file.fileno())
        return Fernet(self._key_file.read_bytes().strip())
