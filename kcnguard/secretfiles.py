"""Settings read from files: `KCNGUARD_<NAME>_FILE=/run/secrets/name` in place of `KCNGUARD_<NAME>`.

Compose and Kubernetes hand secrets over as files; a value in the environment leaks into
`docker inspect`, `/proc/<pid>/environ` and every child process. Any setting may be given this way
(so a secret added later needs nothing here); the ones marked secret are never printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

SUFFIX = "_FILE"
# A secret file is a few bytes; anything larger is a wrong path (a log, a disk image), not a key.
MAX_BYTES = 64 * 1024


class SecretFileError(ValueError):
    """A `_FILE` setting that cannot be used: set twice, missing, unreadable, empty or too large."""


def is_secret(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("secret"))


def read_secret_file(variable: str, path: str) -> str:
    """The file's text without its trailing newline (editors and `echo` add one)."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise SecretFileError(
                f"{variable}: tệp {path} quá lớn ({size} byte) / file {path} is {size} bytes, "
                f"more than the {MAX_BYTES} a secret may have"
            )
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"{variable}: không đọc được tệp {path} / cannot read {path}: {exc}") from exc
    value = text.rstrip("\r\n")
    if not value:
        raise SecretFileError(f"{variable}: tệp {path} trống / file {path} is empty")
    return value


class SecretFilesSource(PydanticBaseSettingsSource):
    """Values of `<prefix><NAME>_FILE` variables; a setting given both ways is refused, not guessed."""

    def __init__(self, settings_cls: type[BaseSettings], environ: dict[str, str] | None = None) -> None:
        super().__init__(settings_cls)
        self.environ = os.environ if environ is None else environ
        self.prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = f"{self.prefix}{field_name.upper()}"
        path = self.environ.get(variable + SUFFIX)
        if path is None or path == "":
            return None, field_name, False
        if variable in self.environ:
            raise SecretFileError(
                f"đặt cả {variable} lẫn {variable}{SUFFIX}: chỉ dùng một / both {variable} and "
                f"{variable}{SUFFIX} are set: use one (the file, for secrets)"
            )
        return read_secret_file(variable + SUFFIX, path), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values
