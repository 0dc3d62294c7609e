"""Recording metadata from three sources, merged field by field: the sidecar
JSON next to a recording, a CSV manifest exported from the PBX or CRM, and the
file name itself (`filename_pattern`), in that order of precedence. An optional
manager directory maps every call to a known manager. Client phone numbers are
only ever kept as keyed hashes.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast, get_args

from callqa.config import Settings
from callqa.errors import MetadataError
from callqa.types import ChannelLayout, Direction, MetadataSource, RecordingMetadata

__all__ = ["Manager", "ManagerDirectory", "MetadataReader", "hash_phone", "read_sidecar"]

_CHANNEL_LAYOUTS: tuple[str, ...] = get_args(ChannelLayout)
_FIELDS = ("call_id", "manager_id", "manager_name", "manager_ext", "team", "client_phone", "started_at", "direction", "channels", "script")
# PBX and CRM exports (Bitrix24, amoCRM, Asterisk) spell directions their own way.
_DIRECTIONS: dict[str, Direction] = {
    "inbound": "inbound",
    "in": "inbound",
    "incoming": "inbound",
    "входящий": "inbound",
    "outbound": "outbound",
    "out": "outbound",
    "outgoing": "outbound",
    "исходящий": "outbound",
}
_MANIFEST_COLUMNS = {  # field: header names it is read from, the first present wins
    "file": ("file", "filename", "recording", "path"),
    "call_id": ("call_id", "uniqueid", "id"),
    "manager_id": ("manager_id",),
    "manager_ext": ("manager_ext", "extension", "ext"),
    "manager_name": ("manager_name", "manager"),
    "team": ("team",),
    "client_phone": ("client_phone", "phone", "client", "callerid"),
    "started_at": ("started_at", "calldate", "start", "date"),
    "direction": ("direction",),
    "channels": ("channels",),
    "script": ("script",),
}
_DIRECTORY_COLUMNS = ("id", "name", "team", "extension")
_PATTERN_FIELDS = {
    "client": r"(?P<client_phone>\+?\d+)",
    "manager_ext": r"(?P<manager_ext>[0-9A-Za-z]+)",
    "manager_id": r"(?P<manager_id>.+?)",
    "call_id": r"(?P<call_id>.+?)",
    "direction": "(?P<direction>(?i:" + "|".join(sorted(map(re.escape, _DIRECTIONS), key=len, reverse=True)) + "))",
    "*": r".*?",
}
_PATTERN_HINT = (
    "placeholders: <client>, <manager_ext>, <manager_id>, <call_id>, <direction>, <*>, and a date-time such as <YYYYMMDD-HHMMSS> or <DD.MM.YYYY_HH-MM-SS>"
)
# Hashes stay stable pseudonyms without any setup; this key is public, so only
# phone_hash_key keeps a number from being confirmed by hashing it (README, Settings).
_BUILTIN_PHONE_KEY = "callqa-client-phone-v1"


@dataclass(frozen=True)
class Manager:
    id: str
    name: str
    team: str | None
    extension: str | None


def hash_phone(number: str, key: str | None) -> str:
    """HMAC-SHA256 (hex) of a phone number; every notation of one number gives one hash."""
    # Asterisk's callerid is '"Name" <number>', and a name may hold digits.
    bracketed = re.search(r"<([^<>]*)>", number)
    digits = re.sub(r"\D", "", bracketed[1] if bracketed else number)
    if len(digits) < 3:
        raise MetadataError("client phone has fewer than 3 digits", hint="give the client's number, or leave it out")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]  # Russian trunk prefix: 8 912 ... and +7 912 ... are one number
    return hmac.new((key or _BUILTIN_PHONE_KEY).encode(), digits.encode(), hashlib.sha256).hexdigest()


def read_sidecar(path: Path) -> dict:
    """The sidecar `<name>.json` next to a recording, checked, or {} when there is none."""
    sidecar = path.with_suffix(".json")
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{sidecar.name}: not valid JSON ({exc})", hint="fix or delete the sidecar file") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{sidecar.name}: must be a JSON object", hint='e.g. {"manager_id": "m-1", "script": "stroydom-inbound"}')
    if "channels" in data:
        _check_channels(data["channels"], sidecar.name)
    return data


class ManagerDirectory:
    """The managers calls are attributed to, found by id or by PBX extension."""

    def __init__(self, managers: list[Manager]):
        self._by_id = {m.id: m for m in managers}
        self._by_extension = {m.extension: m for m in managers if m.extension}

    @classmethod
    def load(cls, path: Path) -> ManagerDirectory:
        """A CSV with the columns id,name,team,extension; every problem is reported at once, with its line."""
        header, rows = _read_csv(path)
        missing = [c for c in _DIRECTORY_COLUMNS if c not in header]
        if missing:
            raise _table_error(path, [f"line 1: missing column(s) {', '.join(missing)} (the header is id,name,team,extension)"])
        columns = [header.index(c) for c in _DIRECTORY_COLUMNS]
        problems: list[str] = []
        managers: list[Manager] = []
        id_lines: dict[str, int] = {}
        extension_lines: dict[str, int] = {}
        for line, cells in rows:
            manager_id, name, team, extension = (_cell(cells, i) for i in columns)
            if not manager_id:
                problems.append(f"line {line}: empty id")
            elif manager_id in id_lines:
                problems.append(f"line {line}: id {manager_id} is also on line {id_lines[manager_id]}")
            else:
                id_lines[manager_id] = line
            if not name:
                problems.append(f"line {line}: empty name")
            if extension in extension_lines:
                problems.append(f"line {line}: extension {extension} is also on line {extension_lines[extension]}")
            elif extension:
                extension_lines[extension] = line
            managers.append(Manager(manager_id, name, team or None, extension or None))
        if problems:
            raise _table_error(path, problems)
        return cls(managers)

    def by_extension(self, ext: str) -> Manager | None:
        return self._by_extension.get(ext)

    def by_id(self, manager_id: str) -> Manager | None:
        return self._by_id.get(manager_id)


@dataclass(frozen=True)
class _ManifestRow:
    line: int
    parts: tuple[str, ...]  # the file's path, split
    values: dict[str, str]


class MetadataReader:
    """Built once per batch: loads the manifest, the pattern and the directory once, then reads each recording's metadata."""

    def __init__(self, root: Path, settings: Settings):
        self.root = root
        default_manifest = root / "manifest.csv"
        self.manifest = settings.manifest or (default_manifest if default_manifest.is_file() else None)
        self._rows = _load_manifest(self.manifest) if self.manifest else {}
        self.pattern = settings.filename_pattern
        self._regex = _compile_pattern(self.pattern) if self.pattern else None
        self.managers_file = settings.managers_file
        self.directory = ManagerDirectory.load(self.managers_file) if self.managers_file else None
        self._key = settings.phone_hash_key.get_secret_value() if settings.phone_hash_key else None

    def read(self, path: Path) -> RecordingMetadata:
        """The merged metadata of one recording (the audio itself is not opened)."""
        found: list[tuple[MetadataSource, str, Mapping[str, object]]] = []  # (source, where, values), highest precedence first
        sidecar = {k: str(v) for k, v in read_sidecar(path).items() if k in _FIELDS and v not in (None, "")}
        if sidecar:
            found.append(("sidecar", path.with_suffix(".json").name, sidecar))
        if self.manifest and (row := self._manifest_row(path, self.manifest)) is not None:
            found.append(("manifest", f"{self.manifest.name}, line {row.line}", row.values))
        if (named := self._from_name(path)) is not None:
            found.append(("filename", path.name, named))
        if not found and (self.manifest or self._regex):
            raise self._not_described(path)
        given: dict[str, tuple[object, str]] = {}  # field: (value, where it came from)
        for _, where, values in found:
            for field, value in values.items():
                given.setdefault(field, (value, where))

        def text(field: str) -> str | None:
            return str(given[field][0]) if field in given else None

        manager_id, manager_name, manager_ext, team = text("manager_id"), text("manager_name"), text("manager_ext"), text("team")
        if self.directory:
            manager = self._manager(self.directory, path, given)
            # The directory is the reference for who someone is; the extension the call came from stays as given.
            manager_id, manager_name, team, manager_ext = manager.id, manager.name, manager.team or team, manager_ext or manager.extension
        started_at = None
        if "started_at" in given:
            value, where = given["started_at"]
            started_at = value if isinstance(value, datetime) else _parse_time(str(value), where)
        return RecordingMetadata(
            call_id=text("call_id") or path.stem,
            manager_id=manager_id,
            manager_name=manager_name,
            manager_ext=manager_ext,
            team=team,
            client_phone_hash=self._phone_hash(*given["client_phone"]) if "client_phone" in given else None,
            started_at=started_at,
            direction=_direction(*given["direction"]) if "direction" in given else None,
            channels=_check_channels(*given["channels"]) if "channels" in given else None,
            script=text("script"),
            sources=tuple(source for source, _, _ in found),
        )

    def _manifest_row(self, path: Path, manifest: Path) -> _ManifestRow | None:
        try:
            relative = path.absolute().relative_to(self.root.absolute()).parts
        except ValueError:
            relative = (path.name,)
        # A row names the file by its path in the folder, its bare name, or a longer (PBX) path ending the same way;
        # two rows for sub1/a.mp3 and sub2/a.mp3 are two recordings.
        rows = [r for r in self._rows.get(path.name, ()) if r.parts[-len(relative) :] == relative[-len(r.parts) :]]
        rows = [r for r in rows if r.parts == relative] or rows
        if len(rows) > 1:
            lines = ", ".join(str(r.line) for r in rows)
            raise MetadataError(
                f"{path.name}: lines {lines} of {manifest.name} could each be this recording",
                hint=f"write its path relative to the recordings folder in {manifest}",
            )
        return rows[0] if rows else None

    def _from_name(self, path: Path) -> dict[str, object] | None:
        match = self._regex.fullmatch(path.stem) if self._regex else None
        if not match:
            return None
        groups = match.groupdict()
        values: dict[str, object] = {k: v for k, v in groups.items() if k in _FIELDS and v}
        if groups.get("datetime"):
            year, month, day, hour, minute, second = (int(groups.get(k) or 0) for k in ("year", "month", "day", "hour", "minute", "second"))
            try:
                values["started_at"] = datetime(year, month, day, hour, minute, second)
            except ValueError:
                raise MetadataError(
                    f"{path.name}: {groups['datetime']} in its name is not a valid date-time", hint=f"check the name against filename_pattern {self.pattern}"
                ) from None
        return values

    def _not_described(self, path: Path) -> MetadataError:
        reasons, fixes = [], []
        if self.manifest:
            reasons.append(f"is not in {self.manifest.name}")
            fixes.append(f"add a row for it to {self.manifest}")
        if self.pattern:
            reasons.append(f"does not match filename_pattern {self.pattern}")
            fixes.append("rename it to fit the pattern")
        fixes.append(f"put a sidecar {path.with_suffix('.json').name} next to it")
        return MetadataError(f"{path.name} {' and '.join(reasons)}", hint=", ".join(fixes[:-1]) + " or " + fixes[-1])

    def _manager(self, directory: ManagerDirectory, path: Path, given: dict[str, tuple[object, str]]) -> Manager:
        if "manager_id" in given:
            value, where = given["manager_id"]
            manager, what = directory.by_id(str(value)), f"manager id {value}"
        elif "manager_ext" in given:
            value, where = given["manager_ext"]
            manager, what = directory.by_extension(str(value)), f"manager extension {value}"
        else:
            raise MetadataError(
                f"{path.name}: no manager id or extension for this recording",
                hint=f"every call must map to a manager of {self.managers_file}: give manager_id or manager_ext "
                "in its sidecar or manifest row, or put <manager_ext> in filename_pattern",
            )
        if manager is None:
            raise MetadataError(f"{where}: unknown {what}", hint=f"add them to {self.managers_file}, or correct the recording's metadata")
        return manager

    def _phone_hash(self, value: object, where: str) -> str | None:
        if not re.search(r"\d", str(value)):  # hidden caller ID: "anonymous", "Unknown"
            return None
        try:
            return hash_phone(str(value), self._key)
        except MetadataError as exc:
            raise MetadataError(f"{where}: {exc.message}", hint=exc.hint) from None


def _check_channels(value: object, where: str) -> ChannelLayout:
    if value not in _CHANNEL_LAYOUTS:
        raise MetadataError(
            f"{where}: channels must be one of {', '.join(_CHANNEL_LAYOUTS)}, not {value!r}",
            hint="write one of them, or leave channels out to use the channels setting",
        )
    return cast(ChannelLayout, value)


def _direction(value: object, where: str) -> Direction:
    direction = _DIRECTIONS.get(str(value).strip().lower())
    if direction is None:
        raise MetadataError(
            f"{where}: direction must be inbound or outbound, not {value!r}",
            hint="write inbound or outbound (in/out, incoming/outgoing and входящий/исходящий are read too)",
        )
    return direction


def _parse_time(value: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(value)  # also 2026-11-20 10:15:00
    except ValueError:
        pass
    try:
        return datetime.strptime(value, "%d.%m.%Y %H:%M:%S")  # Russian CRM exports
    except ValueError:
        raise MetadataError(
            f"{where}: started_at {value!r} is not an ISO date-time", hint="write it as 2026-11-20T10:15:00 (a manifest may also use 20.11.2026 10:15:00)"
        ) from None


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (lower case, spaces as _) and non-blank rows with their line numbers."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"cannot read {path} ({exc.strerror})", hint="check the path in the settings and the file's permissions") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1251")  # Russian PBX and 1C exports are often Windows-1251
        except UnicodeDecodeError:
            raise MetadataError(f"{path.name}: neither UTF-8 nor Windows-1251 text", hint="export it as UTF-8 CSV") from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header:
            rows.append((reader.line_num, cells))
        else:
            header = [re.sub(r"[\s-]+", "_", c.strip().lower()) for c in cells]
    return header, rows


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def _table_error(path: Path, problems: list[str]) -> MetadataError:
    listed = "\n".join(f"  - {p}" for p in problems)
    return MetadataError(f"{path.name} has {len(problems)} problem(s):\n{listed}", hint=f"fix each listed line of {path}")


def _load_manifest(path: Path) -> dict[str, list[_ManifestRow]]:
    """Manifest rows by bare file name; a problem in any row stops the batch, as it concerns the whole folder."""
    header, rows = _read_csv(path)
    columns = {field: next((header.index(a) for a in aliases if a in header), None) for field, aliases in _MANIFEST_COLUMNS.items()}
    if columns["file"] is None:
        raise _table_error(path, [f"line 1: no file column ({', '.join(_MANIFEST_COLUMNS['file'])}); the header has {', '.join(header) or 'nothing'}"])
    problems: list[str] = []
    first_lines: dict[tuple[str, ...], int] = {}
    by_name: dict[str, list[_ManifestRow]] = {}
    for line, cells in rows:
        parts = tuple(p for p in _cell(cells, columns["file"]).replace("\\", "/").split("/") if p not in ("", "."))
        if not parts:
            problems.append(f"line {line}: no file")
        elif parts in first_lines:
            problems.append(f"line {line}: {'/'.join(parts)} is also on line {first_lines[parts]}")
        else:
            first_lines[parts] = line
            values = {f: v for f, i in columns.items() if f != "file" and i is not None and (v := _cell(cells, i))}
            by_name.setdefault(parts[-1], []).append(_ManifestRow(line, parts, values))
    if problems:
        raise _table_error(path, problems)
    return by_name


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    regex = []
    for i, piece in enumerate(re.split(r"<([^<>]*)>", pattern)):
        if i % 2 == 0:
            if "<" in piece or ">" in piece:
                raise MetadataError(f"filename_pattern {pattern}: a < or > without its pair", hint=_PATTERN_HINT)
            regex.append(re.escape(piece))
        else:
            regex.append(_PATTERN_FIELDS.get(piece) or _datetime_regex(piece, pattern))
    try:
        return re.compile("".join(regex))
    except re.error:  # a named group twice
        raise MetadataError(f"filename_pattern {pattern}: a placeholder appears twice", hint="each placeholder but <*> may appear once") from None


def _datetime_regex(placeholder: str, pattern: str) -> str:
    """<YYYYMMDD-HHMMSS> and the like: MM is the month, or the minutes once HH came."""
    names: list[str] = []
    regex = []
    for token in re.findall(r"YYYY|MM|DD|HH|SS|[A-Za-z]+|.", placeholder):
        if token in ("YYYY", "MM", "DD", "HH", "SS"):
            name = {"YYYY": "year", "DD": "day", "HH": "hour", "SS": "second"}.get(token) or ("minute" if "hour" in names else "month")
            if name in names:
                break
            names.append(name)
            regex.append(rf"(?P<{name}>\d{{{len(token)}}})")
        elif token.isalpha():
            break
        else:
            regex.append(re.escape(token))
    else:
        if {"year", "month", "day"} <= set(names):
            return "(?P<datetime>" + "".join(regex) + ")"
    raise MetadataError(f"filename_pattern {pattern}: unknown placeholder <{placeholder}>", hint=_PATTERN_HINT)
