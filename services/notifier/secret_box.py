"""Signing secrets at rest: encrypted with a key from configuration (Fernet:
AES-128-CBC + HMAC-SHA256), never stored or logged in clear, never returned after
creation. The key comes from `JSB_NOTIFIER_SECRET_KEY`; without it, from
`secret_key_file`, created once (mode 0600) for the local stack."""

from __future__ import annotations

import os

from cryptography.fernet import Fernet

from services.notifier.settings import NotifierSettings


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> SecretBox:
        if settings.secret_key is not None:
            return cls(settings.secret_key.get_secret_value().encode())
        path = settings.secret_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()
