import json
from datetime import datetime

import pytest

from callqa.config import load_settings
from callqa.errors import MetadataError
from callqa.ingest import ManagerDirectory, MetadataReader, hash_phone, read_sidecar

PATTERN = "out-<client>-<manager_ext>-<YYYYMMDD-HHMMSS>"
MANAGERS = "id,name,team,extension\nm-ivanova,Анна Иванова,north,214\nm-petrov,Пётр Петров,,215\n"


def touch(folder, *names):
    """Empty recordings: reading metadata must never open the audio."""
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        paths.append(path)
    return paths


def sidecar(recording, **fields):
    recording.with_suffix(".json").write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")


def managers(tmp_path, text=MANAGERS):
    path = tmp_path / "managers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def reader(root, **settings):
    return MetadataReader(root, load_settings(**settings))


# Sidecar only (today's behaviour)


def test_sidecar_gives_the_metadata_and_its_absence_the_file_stem(calls_dir):
    described, bare = touch(calls_dir, "ru-01.mp3", "ru-02.mp3")
    sidecar(
        described,
        call_id="c-1",
        manager_id="m-ivanova",
        manager_name="Анна Иванова",
        started_at="2026-11-16T10:15:00",
        direction="inbound",
        script="stroydom-inbound",
        channels="mono",
    )
    meta = reader(calls_dir).read(described)
    assert (meta.call_id, meta.manager_id, meta.manager_name, meta.script, meta.channels) == ("c-1", "m-ivanova", "Анна Иванова", "stroydom-inbound", "mono")
    assert meta.started_at == datetime(2026, 11, 16, 10, 15) and meta.direction == "inbound" and meta.sources == ("sidecar",)
    empty = reader(calls_dir).read(bare)
    assert empty.call_id == "ru-02" and empty.manager_id is None and empty.channels is None and empty.sources == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "ru-01.json: not valid JSON"),
        ("[1, 2]", "ru-01.json: must be a JSON object"),
        ('{"channels": "stereo"}', "ru-01.json: channels must be one of manager-left, client-left, mono, not 'stereo'"),
        ('{"started_at": "16/11/2026"}', "ru-01.json: started_at '16/11/2026' is not an ISO date-time"),
        ('{"direction": "sideways"}', "ru-01.json: direction must be inbound or outbound, not 'sideways'"),
    ],
)
def test_a_bad_sidecar_says_what_is_wrong(calls_dir, content, message):
    [recording] = touch(calls_dir, "ru-01.mp3")
    recording.with_suffix(".json").write_text(content, encoding="utf-8")
    with pytest.raises(MetadataError) as err:
        reader(calls_dir).read(recording)
    assert err.value.message.startswith(message) and err.value.hint


def test_read_sidecar_is_the_checked_json_or_nothing(calls_dir):
    recording, other = touch(calls_dir, "a.mp3", "b.mp3")
    sidecar(recording, manager_name="Анна")
    assert read_sidecar(recording) == {"manager_name": "Анна"} and read_sidecar(other) == {}


# Manifest


def test_manifest_with_semicolons_cp1251_and_alias_columns(calls_dir):
    [recording] = touch(calls_dir, "2026-11/a.wav")
    (calls_dir / "manifest.csv").write_bytes(
        "Recording;UniqueID;Extension;Manager;CallerID;CallDate;Direction;Script\n"
        "2026-11/a.wav;1700000000.12;214;Анна Иванова;+7 912 345-67-89;20.11.2026 10:15:00;Входящий;stroydom-inbound\n".encode("cp1251")
    )
    meta = reader(calls_dir).read(recording)
    assert (meta.call_id, meta.manager_ext, meta.manager_name, meta.script) == ("1700000000.12", "214", "Анна Иванова", "stroydom-inbound")
    assert meta.started_at == datetime(2026, 11, 20, 10, 15) and meta.direction == "inbound"
    assert meta.client_phone_hash == hash_phone("89123456789", None) and meta.sources == ("manifest",)


@pytest.mark.parametrize("value", ["2026-11-20T10:15:00", "2026-11-20 10:15:00", "20.11.2026 10:15:00"])
def test_manifest_dates_in_iso_and_crm_formats(calls_dir, value):
    [recording] = touch(calls_dir, "a.mp3")
    (calls_dir / "manifest.csv").write_text(f"file,started_at\na.mp3,{value}\n", encoding="utf-8")
    assert reader(calls_dir).read(recording).started_at == datetime(2026, 11, 20, 10, 15)


def test_a_bad_value_in_a_row_fails_that_recording_with_its_line(calls_dir):
    good, bad = touch(calls_dir, "a.mp3", "b.mp3")
    (calls_dir / "manifest.csv").write_text("file,start,channels\na.mp3,,\nb.mp3,20/11/2026,stereo\n", encoding="utf-8")
    metadata = reader(calls_dir)
    assert metadata.read(good).started_at is None
    with pytest.raises(MetadataError, match="manifest.csv, line 3: started_at '20/11/2026' is not an ISO date-time"):
        metadata.read(bad)


def test_a_row_matches_by_relative_path_first_then_by_bare_name(calls_dir):
    top, nested, elsewhere, pbx, other = touch(calls_dir, "a.mp3", "sub/a.mp3", "other/a.mp3", "2026/b.mp3", "sub1/c.mp3")
    (calls_dir / "manifest.csv").write_text(
        "file,manager_id\na.mp3,m-bare\nsub/a.mp3,m-sub\n/var/spool/asterisk/monitor/2026/b.mp3,m-pbx\nsub2/c.mp3,m-c\n", encoding="utf-8"
    )
    metadata = reader(calls_dir, filename_pattern="<*>")  # every file is described, so unmatched ones read on
    assert [metadata.read(p).manager_id for p in (top, nested, elsewhere, pbx)] == ["m-bare", "m-sub", "m-bare", "m-pbx"]
    assert metadata.read(other).sources == ("filename",)  # sub2/c.mp3 is another recording than sub1/c.mp3


def test_two_rows_that_could_each_be_the_recording_are_an_error(calls_dir):
    [recording] = touch(calls_dir, "x/a.mp3")
    (calls_dir / "manifest.csv").write_text("file\n/pbx/1/x/a.mp3\n/pbx/2/x/a.mp3\n", encoding="utf-8")
    with pytest.raises(MetadataError, match="a.mp3: lines 2, 3 of manifest.csv could each be this recording"):
        reader(calls_dir).read(recording)


def test_manifest_problems_are_listed_together_with_their_lines(calls_dir):
    (calls_dir / "manifest.csv").write_text("file\tmanager_id\nsub/a.mp3\tm-1\n\tm-2\nsub\\a.mp3\tm-3\n./sub/a.mp3\tm-4\n", encoding="utf-8")
    with pytest.raises(MetadataError) as err:
        reader(calls_dir)
    assert err.value.message == (
        "manifest.csv has 3 problem(s):\n  - line 3: no file\n  - line 4: sub/a.mp3 is also on line 2\n  - line 5: sub/a.mp3 is also on line 2"
    )
    assert "fix each listed line" in err.value.hint


def test_a_manifest_without_a_file_column_is_refused(calls_dir):
    (calls_dir / "manifest.csv").write_text("name,manager\na.mp3,Анна\n", encoding="utf-8")
    with pytest.raises(MetadataError, match=r"line 1: no file column \(file, filename, recording, path\); the header has name, manager"):
        reader(calls_dir)


def test_a_configured_manifest_that_is_not_there_is_refused(calls_dir, tmp_path):
    with pytest.raises(MetadataError, match="cannot read .*missing.csv"):
        reader(calls_dir, manifest=tmp_path / "missing.csv")


def test_a_manifest_outside_the_folder_is_read_from_the_setting(calls_dir, tmp_path):
    [recording] = touch(calls_dir, "a.mp3")
    (tmp_path / "export.csv").write_text("path,manager_id\na.mp3,m-1\n", encoding="utf-8")
    assert reader(calls_dir, manifest=tmp_path / "export.csv").read(recording).manager_id == "m-1"


def test_a_recording_missing_from_the_manifest_is_an_error(calls_dir):
    listed, missing, with_sidecar = touch(calls_dir, "a.mp3", "b.mp3", "c.mp3")
    sidecar(with_sidecar, manager_id="m-1")
    (calls_dir / "manifest.csv").write_text("file\na.mp3\n", encoding="utf-8")
    metadata = reader(calls_dir)
    assert metadata.read(listed).sources == ("manifest",) and metadata.read(with_sidecar).sources == ("sidecar",)
    with pytest.raises(MetadataError) as err:
        metadata.read(missing)
    assert err.value.message == "b.mp3 is not in manifest.csv"
    assert "add a row for it to" in err.value.hint and "b.json" in err.value.hint


# File names


def test_filename_pattern_gives_phone_extension_and_time(calls_dir):
    [recording] = touch(calls_dir, "out-79123456789-214-20261120-101500.wav")
    meta = reader(calls_dir, filename_pattern=PATTERN).read(recording)
    assert meta.manager_ext == "214" and meta.started_at == datetime(2026, 11, 20, 10, 15)
    assert meta.client_phone_hash == hash_phone("+7 (912) 345-67-89", None)
    assert meta.call_id == "out-79123456789-214-20261120-101500" and meta.sources == ("filename",)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("<YYYY-MM-DD_HH-MM-SS>_<call_id>", "2026-11-20_10-15-30_17000.12", datetime(2026, 11, 20, 10, 15, 30)),
        ("<DD.MM.YYYY HH.MM>-<*>", "20.11.2026 10.15-whatever", datetime(2026, 11, 20, 10, 15)),
        ("<direction>_<manager_id>_<YYYYMMDD>", "IN_m-ivanova_20261120", datetime(2026, 11, 20)),
    ],
)
def test_date_time_placeholders(calls_dir, pattern, name, expected):
    [recording] = touch(calls_dir, name + ".mp3")
    assert reader(calls_dir, filename_pattern=pattern).read(recording).started_at == expected


def test_direction_call_id_and_manager_id_from_the_name(calls_dir):
    [recording] = touch(calls_dir, "IN_m-ivanova_20261120_17000.12.mp3")
    meta = reader(calls_dir, filename_pattern="<direction>_<manager_id>_<YYYYMMDD>_<call_id>").read(recording)
    assert (meta.direction, meta.manager_id, meta.call_id) == ("inbound", "m-ivanova", "17000.12")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("out-<phone>-<YYYYMMDD>", "unknown placeholder <phone>"),
        ("<yyyymmdd>", "unknown placeholder <yyyymmdd>"),
        ("<HHMMSS>", "unknown placeholder <HHMMSS>"),
        ("<client>-<client>", "a placeholder appears twice"),
        ("out-<client", "a < or > without its pair"),
    ],
)
def test_an_invalid_pattern_is_refused_before_any_recording(calls_dir, pattern, message):
    with pytest.raises(MetadataError, match=f"filename_pattern .*: {message}"):
        reader(calls_dir, filename_pattern=pattern)


def test_a_name_outside_the_pattern_is_an_error_unless_a_sidecar_covers_it(calls_dir):
    odd, covered = touch(calls_dir, "call 12.mp3", "call 13.mp3")
    sidecar(covered, manager_id="m-1")
    metadata = reader(calls_dir, filename_pattern=PATTERN)
    assert metadata.read(covered).sources == ("sidecar",)
    with pytest.raises(MetadataError) as err:
        metadata.read(odd)
    assert err.value.message == f"call 12.mp3 does not match filename_pattern {PATTERN}" and "rename it" in err.value.hint


def test_not_in_the_manifest_nor_fitting_the_pattern(calls_dir):
    [recording] = touch(calls_dir, "call.mp3")
    (calls_dir / "manifest.csv").write_text("file\nother.mp3\n", encoding="utf-8")
    with pytest.raises(MetadataError, match=f"call.mp3 is not in manifest.csv and does not match filename_pattern {PATTERN}"):
        reader(calls_dir, filename_pattern=PATTERN).read(recording)


def test_an_impossible_date_in_a_name_is_an_error(calls_dir):
    [recording] = touch(calls_dir, "out-79123456789-214-20261340-101500.wav")
    with pytest.raises(MetadataError, match="20261340-101500 in its name is not a valid date-time"):
        reader(calls_dir, filename_pattern=PATTERN).read(recording)


# Precedence


def test_sources_merge_field_by_field_sidecar_then_manifest_then_name(calls_dir):
    [recording] = touch(calls_dir, "out-79123456789-214-20261120-101500.wav")
    sidecar(recording, manager_name="Из сайдкара")
    (calls_dir / "manifest.csv").write_text(
        "file,manager_name,manager_ext,script\nout-79123456789-214-20261120-101500.wav,Из манифеста,300,stroydom-inbound\n", encoding="utf-8"
    )
    meta = reader(calls_dir, filename_pattern=PATTERN).read(recording)
    assert (meta.manager_name, meta.manager_ext, meta.script) == ("Из сайдкара", "300", "stroydom-inbound")
    assert meta.started_at == datetime(2026, 11, 20, 10, 15) and meta.client_phone_hash is not None
    assert meta.sources == ("sidecar", "manifest", "filename")


# Manager directory


def test_directory_finds_managers_by_id_and_extension(tmp_path):
    directory = ManagerDirectory.load(managers(tmp_path))
    assert directory.by_extension("214").name == "Анна Иванова" and directory.by_id("m-petrov").team is None
    assert directory.by_extension("999") is None and directory.by_id("nobody") is None


def test_directory_in_cp1251_with_tabs(tmp_path):
    path = tmp_path / "managers.csv"
    path.write_bytes(MANAGERS.replace(",", "\t").encode("cp1251"))
    assert ManagerDirectory.load(path).by_id("m-ivanova").name == "Анна Иванова"


def test_directory_lists_every_problem_with_its_line(tmp_path):
    path = managers(tmp_path, "ID;Name;Team;Extension\nm-1;Анна;;214\n;Без id;;\nm-1;;;215\nm-3;Олег;;214\n")
    with pytest.raises(MetadataError) as err:
        ManagerDirectory.load(path)
    assert err.value.message == (
        "managers.csv has 4 problem(s):\n"
        "  - line 3: empty id\n"
        "  - line 4: id m-1 is also on line 2\n"
        "  - line 4: empty name\n"
        "  - line 5: extension 214 is also on line 2"
    )


def test_directory_without_its_columns_is_refused(tmp_path):
    with pytest.raises(MetadataError, match=r"line 1: missing column\(s\) team, extension"):
        ManagerDirectory.load(managers(tmp_path, "id,name\nm-1,Анна\n"))


def test_the_directory_names_the_manager_of_an_extension(calls_dir, tmp_path):
    [recording] = touch(calls_dir, "out-79123456789-214-20261120-101500.wav")
    meta = reader(calls_dir, filename_pattern=PATTERN, managers_file=managers(tmp_path)).read(recording)
    assert (meta.manager_id, meta.manager_name, meta.team, meta.manager_ext) == ("m-ivanova", "Анна Иванова", "north", "214")


def test_a_manager_id_wins_over_the_extension(calls_dir, tmp_path):
    [recording] = touch(calls_dir, "out-79123456789-214-20261120-101500.wav")
    sidecar(recording, manager_id="m-petrov", manager_name="П. Петров")
    meta = reader(calls_dir, filename_pattern=PATTERN, managers_file=managers(tmp_path)).read(recording)
    assert (meta.manager_id, meta.manager_name, meta.manager_ext) == ("m-petrov", "Пётр Петров", "214")


def test_a_manager_missing_from_the_directory_is_an_error(calls_dir, tmp_path):
    [recording] = touch(calls_dir, "out-79123456789-216-20261120-101500.wav")
    path = managers(tmp_path)
    with pytest.raises(MetadataError) as err:
        reader(calls_dir, filename_pattern=PATTERN, managers_file=path).read(recording)
    assert err.value.message == "out-79123456789-216-20261120-101500.wav: unknown manager extension 216"
    assert str(path) in err.value.hint


def test_a_recording_naming_no_manager_is_an_error_with_a_directory(calls_dir, tmp_path):
    [recording] = touch(calls_dir, "a.mp3")
    sidecar(recording, script="stroydom-inbound")
    with pytest.raises(MetadataError, match="a.mp3: no manager id or extension for this recording"):
        reader(calls_dir, managers_file=managers(tmp_path)).read(recording)


# Client phones


def test_one_number_in_any_notation_hashes_the_same():
    hashes = {hash_phone(n, None) for n in ("+7 (912) 345-67-89", "89123456789", "79123456789", '"Иван 2" <+79123456789>')}
    assert len(hashes) == 1


def test_the_key_changes_the_hash_and_the_digits_never_show():
    plain = hash_phone("+7 (912) 345-67-89", None)
    keyed = hash_phone("+7 (912) 345-67-89", "secret")
    assert keyed != plain and len(keyed) == 64
    assert all("9123456789" not in h and h not in ("79123456789", "89123456789") for h in (plain, keyed))


@pytest.mark.parametrize("number", ["", "anonymous", "+7", "12"])
def test_no_phone_number_is_refused(number):
    with pytest.raises(MetadataError, match="fewer than 3 digits"):
        hash_phone(number, None)


def test_the_reader_hashes_with_the_key_and_skips_hidden_caller_ids(calls_dir):
    keyed, hidden = touch(calls_dir, "a.mp3", "b.mp3")
    sidecar(keyed, client_phone="8 912 345 67 89")
    sidecar(hidden, client_phone="anonymous", manager_id="m-1")
    metadata = reader(calls_dir, phone_hash_key="secret")
    meta = metadata.read(keyed)
    assert meta.client_phone_hash == hash_phone("+79123456789", "secret")
    assert "9123456789" not in repr(meta)
    assert metadata.read(hidden).client_phone_hash is None
