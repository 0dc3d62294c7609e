import json
import shutil
from pathlib import Path

from samples import copy_call

from callqa.analysis import analyze_transcript
from callqa.batch import plan_batch
from callqa.store import Store
from callqa.types import transcript_from_dict


def test_plan_reads_sidecar_metadata(calls_dir, tmp_path, settings):
    copy_call("ru-01", calls_dir)
    plan = plan_batch(calls_dir, settings)
    [job] = plan.jobs
    meta = json.loads((calls_dir / "ru-01.json").read_text())
    assert job.record.metadata.call_id == "ru-01" and job.record.metadata.manager_name == meta["manager_name"]
    assert job.script.id == "stroydom-inbound" and job.channels == meta["channels"]
    assert job.record.metadata.started_at.isoformat().startswith(meta["started_at"][:10])


def test_same_content_under_another_name_is_one_call(calls_dir, tmp_path, settings):
    copy_call("ru-01", calls_dir)
    copy_call("ru-01", calls_dir, name="ru-01-copy")
    plan = plan_batch(calls_dir, settings)
    assert plan.found == 2 and len(plan.jobs) == 1 and len(plan.skipped) == 1


def test_scored_calls_are_skipped_unless_forced(calls_dir, tmp_path, settings, ru_script):
    copy_call("ru-01", calls_dir)
    with Store(tmp_path / "db.duckdb") as store:
        [job] = plan_batch(calls_dir, settings).jobs
        analysis = analyze_transcript(transcript_from_dict({"segments": []}), ru_script)
        store.save_call(job.record, analysis, None)
        done = store.done_keys()
    assert plan_batch(calls_dir, settings, done).jobs == []
    assert len(plan_batch(calls_dir, settings).jobs) == 1  # what --force plans
    # a new script version is new work for the same recording
    assert len(plan_batch(calls_dir, settings, done, script_override="brightwindows-outbound").jobs) == 1


def test_bad_metadata_becomes_a_failure_not_a_crash(calls_dir, tmp_path, settings):
    good = copy_call("ru-01", calls_dir)
    broken = copy_call("ru-02", calls_dir)
    broken.with_suffix(".json").write_text("{not json", encoding="utf-8")
    orphan = copy_call("ru-03", calls_dir)
    orphan.with_suffix(".json").unlink()  # no sidecar and no default script
    (calls_dir / "notes.txt").write_text("not a recording")
    plan = plan_batch(calls_dir, settings)
    assert [j.record.file_path for j in plan.jobs] == [str(good)]
    reasons = {f.file_path: f.message for f in plan.failures}
    assert "not valid JSON" in reasons[str(broken)]
    assert "no script for this recording" in reasons[str(orphan)]
    assert plan.found == 3


def test_an_edited_script_is_picked_up_by_the_next_batch(calls_dir, tmp_path, settings):
    """A long-running `callqa serve` process must see a new script version without a restart."""
    import shutil

    from samples import SCRIPTS

    scripts = tmp_path / "scripts"
    shutil.copytree(SCRIPTS, scripts)
    copy_call("ru-01", calls_dir)
    local = settings.model_copy(update={"scripts_dir": scripts})
    first = plan_batch(calls_dir, local).jobs[0].script.version
    path = scripts / "stroydom-inbound.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"version: {first}", f"version: {first + 1}"), encoding="utf-8")
    assert plan_batch(calls_dir, local).jobs[0].script.version == first + 1


def test_a_broken_link_is_a_read_failure_not_silence(calls_dir, settings):
    (calls_dir / "gone.mp3").symlink_to(calls_dir / "moved-away.mp3")
    plan = plan_batch(calls_dir, settings)
    [failure] = plan.failures
    assert (plan.found, failure.stage, failure.retryable) == (1, "read", False)
    assert "cannot read file" in failure.message


def test_pbx_names_and_a_manager_directory_give_each_job_its_manager(calls_dir, tmp_path, settings):
    import shutil

    from samples import EXAMPLES

    (tmp_path / "managers.csv").write_text("id,name,team,extension\nm-ivanova,Анна Иванова,north,214\n", encoding="utf-8")
    for name in ("out-79123456789-214-20261120-101500", "out-79123456789-299-20261120-111500", "voicemail-export"):
        shutil.copyfile(EXAMPLES / "calls" / "ru-01.mp3", calls_dir / f"{name}.mp3")
        (calls_dir / f"{name}.mp3").write_bytes((calls_dir / f"{name}.mp3").read_bytes() + name.encode())  # three contents
    local = settings.model_copy(
        update={
            "filename_pattern": "out-<client>-<manager_ext>-<YYYYMMDD-HHMMSS>",
            "managers_file": tmp_path / "managers.csv",
            "default_script": "stroydom-inbound",
        }
    )
    plan = plan_batch(calls_dir, local)
    [job] = plan.jobs
    meta = job.record.metadata
    assert (meta.manager_id, meta.manager_name, meta.team, meta.manager_ext) == ("m-ivanova", "Анна Иванова", "north", "214")
    assert meta.started_at.isoformat() == "2026-11-20T10:15:00" and meta.sources == ("filename",)
    assert meta.client_phone_hash and "9123456789" not in meta.client_phone_hash
    reasons = {f.file_path.rsplit("/", 1)[1]: (f.stage, f.retryable, f.message) for f in plan.failures}
    assert reasons["out-79123456789-299-20261120-111500.mp3"][:2] == ("metadata", False)
    assert "unknown manager extension 299" in reasons["out-79123456789-299-20261120-111500.mp3"][2]
    assert "does not match filename_pattern" in reasons["voicemail-export.mp3"][2]
    assert len(plan.recordings) == 3  # failed ones are still known recordings, with their hashes


def test_a_script_named_by_a_sidecar_stays_inside_scripts_dir(calls_dir, tmp_path, settings):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copyfile(settings.scripts_dir / "stroydom-inbound.yaml", outside / "evil.yaml")
    refs = {"ru-01": "../outside/evil.yaml", "ru-02": "/etc/passwd", "ru-03": "stroydom-inbound.yaml", "ru-04": "stroydom-inbound"}
    for call_id, ref in refs.items():
        sidecar = copy_call(call_id, calls_dir).with_suffix(".json")
        sidecar.write_text(json.dumps(json.loads(sidecar.read_text(encoding="utf-8")) | {"script": ref}), encoding="utf-8")
    plan = plan_batch(calls_dir, settings)
    reasons = {Path(f.file_path).stem: f.message for f in plan.failures}
    assert sorted(reasons) == ["ru-01", "ru-02"]
    assert all("is outside" in reason and "name a script by its id" in reason for reason in reasons.values())
    assert sorted(Path(j.record.file_path).stem for j in plan.jobs) == ["ru-03", "ru-04"]  # a file in scripts_dir, or an id
