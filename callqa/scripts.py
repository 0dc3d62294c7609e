"""Sales scripts: schema, loading with catalogue includes, validation.

Scripts are written by people, so a load reports every problem with its file
and place ("stroydom.yaml, steps[3].phrases: must not be empty") instead of
stopping at the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from pydantic_core import ErrorDetails

from callqa.analysis.nlp import lemmatize
from callqa.config import CHECKOUT_DIR
from callqa.errors import ScriptError
from callqa.types import SUPPORTED_LANGUAGES, Severity

__all__ = [
    "MANAGER_PLACEHOLDER",
    "NO_TYPE",
    "PLACEHOLDER",
    "CatalogueObjection",
    "Objection",
    "Script",
    "Step",
    "StepType",
    "StopWord",
    "TypeMatch",
    "find_script",
    "is_sparse",
    "load_script",
    "objection_phrases",
    "objection_types",
    "recognise_objection",
    "recognise_type",
    "step_phrases",
    "step_types",
    "stop_word_rules",
]

# Filled for each call with the manager's first name from its metadata; any
# one or two words when the name is unknown. Scripts need not declare it.
MANAGER_PLACEHOLDER = "manager"
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")  # {name} in a phrase

Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Phrases = Annotated[list[Phrase], Field(min_length=1)]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    id: Ident
    name: str
    stage: str = ""
    speaker: Literal["manager", "client"] = "manager"
    required: bool = True
    weight: float = Field(1.0, gt=0)
    within_seconds: float | None = Field(None, gt=0)
    phrases: Phrases
    # A step type of the language's catalogue whose wordings add to the step's own; recognised from
    # the step's id and name when not given; "none": the step's own wordings only.
    type: Ident | None = None


class StopWord(_Model):
    id: Ident
    phrase: Phrase
    severity: Severity = "minor"
    # A filler ("типа", "короче") counts only where it opens a sentence or stands
    # apart by punctuation, not as a word of the sentence ("какого типа пол").
    filler: bool = False
    # Words that make it another word when said right before it, with no punctuation
    # between ("какого типа, кирпич?", "what kind of frames"); compared as lemmas.
    not_after: list[Phrase] = []
    # Words that make it another word when said right after it ("как бы вам удобнее" asks, it is no filler).
    not_before: list[Phrase] = []


class HandlingPart(_Model):
    id: Ident
    phrases: Phrases


class Objection(_Model):
    id: Ident
    name: str
    client_phrases: Phrases
    handling: Annotated[list[HandlingPart], Field(min_length=1)]


class Script(_Model):
    id: Ident
    version: int = Field(ge=1)
    language: str
    name: str
    include: list[str] = []
    # {name} in a phrase: listed values are alternatives ({company}: "СтройДом",
    # "строй дом"); an empty list means any one or two words (a person's name).
    placeholders: dict[Ident, list[Phrase]] = {}
    # Brand, product and trade terms handed to the recogniser as hotwords, so
    # that it spells them as the script does.
    vocabulary: list[Annotated[str, Field(min_length=1)]] = []
    steps: Annotated[list[Step], Field(min_length=1)]
    stop_words: list[StopWord] = []
    objections: list[Objection] = []

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value


class TypeRecognition(_Model):
    """How a step type or a catalogue objection is recognised from a script item's id and name."""

    ids: list[Ident] = []  # item ids (or parts of them between "_") that mean this type
    name_words: list[str] = []  # lemmas that, in an item's name, point to this type


class StepType(_Model):
    id: Ident
    name: str
    stage: str = ""
    recognise: TypeRecognition = TypeRecognition()
    phrases: Phrases


class StepTypeCatalogue(_Model):
    step_types: list[StepType]


class CatalogueObjection(Objection):
    """An objection of a shipped catalogue: also a type that a script's own objection of few phrasings is recognised as."""

    recognise: TypeRecognition = TypeRecognition()


class Catalogue(_Model):
    """An includable file of stop-words and/or objections."""

    stop_words: list[StopWord] = []
    objections: list[CatalogueObjection] = []


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return "must be lower-case letters, digits, '_', '-' or '.', starting with a letter or digit"
    return error["msg"].removeprefix("Value error, ")


# A script is a page or two of YAML written by a person: anything far larger, or built with anchors and
# aliases (the way a 1 KB "billion laughs" file expands to gigabytes), is refused before it is parsed.
MAX_SCRIPT_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 32


def _yaml_shape_problem(text: str) -> str | None:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return "anchors and aliases (&name, *name, <<) are not allowed in scripts: write the values out"
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return f"nested deeper than {MAX_YAML_DEPTH} levels"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _read_yaml(path: Path, problems: list[str]) -> dict | None:
    try:
        if path.is_dir():
            problems.append(f"{path.name}: is a folder, not a script file ({path})")
            return None
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            problems.append(f"{path.name}: larger than {MAX_SCRIPT_BYTES // 1024} KB; a script is a page or two of YAML")
            return None
        text = path.read_text(encoding="utf-8")
        shape = _yaml_shape_problem(text)
        if shape:
            problems.append(f"{path.name}: {shape}")
            return None
        data = yaml.safe_load(text)
    except FileNotFoundError:
        problems.append(f"{path.name}: file not found ({path})")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(f"{path.name},{where}: not valid YAML ({getattr(exc, 'problem', exc)})")
        return None
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not a UTF-8 text file")
        return None
    except OSError as exc:
        problems.append(f"{path.name}: cannot be read ({exc.strerror or exc})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name}: must be a YAML mapping (id:, version:, steps: ...)")
        return None
    return data


def _validate(model: type[_Model], data: dict, name: str, problems: list[str]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(f"{name}, {_location(e['loc'])}: {_message(e)}" for e in exc.errors())
        return None


def _duplicates(data: dict, name: str, problems: list[str]) -> None:
    # On the raw data, so duplicates are reported even when other fields are invalid.
    for field in ("steps", "stop_words", "objections"):
        items = data.get(field)
        seen: set[object] = set()
        for i, item in enumerate(items if isinstance(items, list) else []):
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is not None and ident in seen:
                problems.append(f"{name}, {field}[{i}].id: duplicate id {ident!r}")
            seen.add(ident)


def _phrase_fields(items: Script | Catalogue | StepTypeCatalogue):
    """(location, phrase) of every phrase of a script or catalogue file."""
    for field in ("steps", "step_types"):
        for i, step in enumerate(getattr(items, field, [])):
            yield from ((f"{field}[{i}].phrases[{j}]", p) for j, p in enumerate(step.phrases))
    for i, objection in enumerate(getattr(items, "objections", [])):
        yield from ((f"objections[{i}].client_phrases[{j}]", p) for j, p in enumerate(objection.client_phrases))
        for k, part in enumerate(objection.handling):
            yield from ((f"objections[{i}].handling[{k}].phrases[{j}]", p) for j, p in enumerate(part.phrases))


def _check_phrases(items: Script | Catalogue | StepTypeCatalogue, placeholders: dict, name: str, problems: list[str]) -> None:
    for where, phrase in _phrase_fields(items):
        for placeholder in PLACEHOLDER.findall(phrase):
            if placeholder not in placeholders and placeholder != MANAGER_PLACEHOLDER:
                problems.append(f"{name}, {where}: unknown placeholder {{{placeholder}}} (add it under placeholders:)")
        outside = re.sub(r"\([^()]*\)", "", phrase)
        if "(" in outside or ")" in outside or "|" in outside:
            problems.append(f"{name}, {where}: alternatives are written as (word|word|word), with balanced parentheses")
        elif any(len(option.split()) != 1 for group in re.findall(r"\(([^()]*)\)", phrase) for option in group.split("|")):
            problems.append(f"{name}, {where}: each alternative in (word|word) is one word; write another phrase for longer ones")


def _inside(path: Path, *folders: Path) -> bool:
    """Whether a file named in data lies, links followed, in one of `folders`."""
    try:
        resolved = path.resolve()
        return any(resolved.is_relative_to(folder.resolve()) for folder in folders)
    except (OSError, RuntimeError):
        return False


def _merge(base: list, own: list) -> list:
    # The script's own entries win over catalogue entries with the same id.
    own_ids = {item.id for item in own}
    return [item for item in base if item.id not in own_ids] + list(own)


def load_script(path: Path | str) -> Script:
    """Load and validate a script with its includes; raise ScriptError listing every problem."""
    path = Path(path)
    problems: list[str] = []
    data = _read_yaml(path, problems)
    if data is None:
        raise ScriptError(problems)
    script = _validate(Script, data, path.name, problems)
    stop_words: list[StopWord] = []
    objections: list[Objection] = []
    catalogues: list[tuple[Catalogue, str]] = []
    includes = data.get("include") or []
    if not isinstance(includes, list):
        includes = []  # the schema lists it once ("include: Input should be a valid list"), not once per letter
    for i, include in enumerate(includes):
        include_path = path.parent / str(include)
        if not _inside(include_path, path.parent, STEP_TYPES_DIR):
            problems.append(
                f"{path.name}, include[{i}]: {include} is outside the script's folder and the shipped catalogues; copy the catalogue next to the script"
            )
            continue
        if not include_path.is_file():
            problems.append(f"{path.name}, include[{i}]: file {include} not found next to the script")
            continue
        included = _read_yaml(include_path, problems)
        catalogue = included is not None and _validate(Catalogue, included, include_path.name, problems)
        if included is not None:
            _duplicates(included, include_path.name, problems)
        if catalogue:
            catalogues.append((catalogue, include_path.name))
            stop_words = _merge(stop_words, catalogue.stop_words)
            objections = _merge(objections, catalogue.objections)
    _duplicates(data, path.name, problems)
    if script is not None:
        _check_phrases(script, script.placeholders, path.name, problems)
        _check_types(script, path.name, problems)
        for catalogue, catalogue_name in catalogues:
            _check_phrases(catalogue, script.placeholders, catalogue_name, problems)
        script = script.model_copy(
            update={
                "stop_words": _merge(stop_words, script.stop_words),
                "objections": _merge(objections, script.objections),
            }
        )
    if problems:
        raise ScriptError(problems)
    return script


STEP_TYPES_DIR = CHECKOUT_DIR / "scripts_library" / "catalogues"
NO_TYPE = "none"


_C = TypeVar("_C", StepTypeCatalogue, Catalogue)


def _shipped_catalogue(name: str, model: type[_C], placeholders: dict) -> _C | None:
    """A catalogue shipped in scripts_library/catalogues, validated like a script; None where there is none."""
    path = STEP_TYPES_DIR / name
    if not path.is_file():
        return None
    problems: list[str] = []
    data = _read_yaml(path, problems)
    catalogue = _validate(model, data, path.name, problems) if data is not None else None
    if catalogue is not None:
        _check_phrases(catalogue, placeholders, path.name, problems)
    if problems or catalogue is None:
        raise ScriptError(problems)
    return catalogue


@cache
def step_types(language: str) -> dict[str, StepType]:
    """The step types shipped for a language (`<language>-steps.yaml`), by id; none where there is no catalogue."""
    catalogue = _shipped_catalogue(f"{language}-steps.yaml", StepTypeCatalogue, {"company": []})
    return {t.id: t for t in catalogue.step_types} if catalogue else {}


@dataclass(frozen=True)
class TypeMatch:
    """The step type a step was recognised as, and why (or why none)."""

    type: StepType | None
    why: str


def recognise_type(step: Step, language: str) -> TypeMatch:
    """A step's type: the one it names; else the one its name and id point to most (the name is the author's
    description, an id often a short code); none where two point alike or only a part of the id does."""
    types = step_types(language)
    if step.type == NO_TYPE:
        return TypeMatch(None, "opted out (type: none)")
    if step.type:
        return TypeMatch(types[step.type], "named by the script")
    found, why = _recognise(step.id, step.name, {t.id: t.recognise for t in types.values()}, language)
    return TypeMatch(types[found] if found else None, why)


def _recognise(item_id: str, name: str, candidates: dict[str, TypeRecognition], language: str) -> tuple[str | None, str]:
    """The candidate an item's name and id point to most, and why; none where two point alike or only a part of the id does."""
    parts = set(re.split(r"[_.-]", item_id))
    lemmas = {token.lemma for token in lemmatize(name.lower(), language)}
    ranked = []
    for candidate, recognise in candidates.items():
        words, ids = sorted(lemmas & set(recognise.name_words)), sorted((parts | {item_id}) & set(recognise.ids))
        # A name word or the whole id weighs 2, a part of the id 1: one part alone ("visit" in first_visit) is too little.
        score = 2 * len(words) + sum(2 if i == item_id else 1 for i in ids)
        if score >= 2:
            why = "; ".join(filter(None, [f"its name: {', '.join(words)}" if words else "", f"its id: {', '.join(ids)}" if ids else ""]))
            ranked.append((score, candidate, why))
    ranked.sort(reverse=True)
    if not ranked:
        return None, "no type fits its id or name"
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        tied = " and ".join(sorted(r[1] for r in ranked if r[0] == ranked[0][0]))
        return None, f"its id and name fit {tied} alike: name one with `type:`"
    return ranked[0][1], ranked[0][2]


@cache
def objection_types(language: str) -> dict[str, CatalogueObjection]:
    """The objections of the language's shipped catalogue (`<language>-objections.yaml`) that say how they are
    recognised, by id; none where there is no catalogue."""
    catalogue = _shipped_catalogue(f"{language}-objections.yaml", Catalogue, {})
    return {o.id: o for o in catalogue.objections if o.recognise.ids or o.recognise.name_words} if catalogue else {}


@cache
def known_stop_words(language: str) -> dict[str, StopWord]:
    """The stop-words of the language's shipped catalogue (`<language>-stop-words.yaml`), by phrase."""
    catalogue = _shipped_catalogue(f"{language}-stop-words.yaml", Catalogue, {})
    return {_phrase_key(w.phrase): w for w in catalogue.stop_words} if catalogue else {}


def _phrase_key(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def stop_word_rules(word: StopWord, language: str) -> StopWord:
    """A script's stop-word with the catalogue's way of telling it from the ordinary word: a phrase the catalogue
    knows, written with no `not_after`/`not_before` of its own, takes the catalogue's; where those tell the filler
    apart, `filler: true` needs no punctuation around it ("it's kind of our best one", "what kind of roof")."""
    known = known_stop_words(language).get(_phrase_key(word.phrase))
    if known is None or word.not_after or word.not_before or not (known.not_after or known.not_before):
        return word
    return word.model_copy(update={"not_after": known.not_after, "not_before": known.not_before, "filler": word.filler and known.filler})


def recognise_objection(objection: Objection, language: str) -> tuple[CatalogueObjection | None, str]:
    """The catalogue objection a script's own objection is one of (an English script's `too_expensive` is `price`), and why."""
    types = objection_types(language)
    if objection.id in types:
        return types[objection.id], "its id"
    found, why = _recognise(objection.id, objection.name, {o.id: o.recognise for o in types.values()}, language)
    return (types[found] if found else None), why


def objection_phrases(objection: Objection, language: str) -> tuple[list[str], dict[str, list[str]]]:
    """The client phrases an objection is detected with, and each handling part's phrases: its own, then, for an
    objection of at most SPARSE_WORDINGS client phrases, those of the catalogue objection it was recognised as."""
    matched = recognise_objection(objection, language)[0] if len(objection.client_phrases) <= SPARSE_WORDINGS else None
    if matched is None:
        return list(objection.client_phrases), {p.id: list(p.phrases) for p in objection.handling}
    extra = {p.id: p.phrases for p in matched.handling}
    handling = {p.id: list(dict.fromkeys([*p.phrases, *extra.get(p.id, [])])) for p in objection.handling}
    return list(dict.fromkeys([*objection.client_phrases, *matched.client_phrases])), handling


# A step with this many wordings of its own or fewer is filled in (its type's wordings, its key words):
# such a script says what a step is, not how every manager says it. One with more has been described by its author.
SPARSE_WORDINGS = 3


def is_sparse(step: Step) -> bool:
    return len(step.phrases) <= SPARSE_WORDINGS


def step_phrases(step: Step, language: str) -> list[str]:
    """The wordings a step is matched with: its own, then, for a sparse step, its type's."""
    matched = recognise_type(step, language).type if is_sparse(step) else None
    return list(dict.fromkeys([*step.phrases, *(matched.phrases if matched else [])]))


def _check_types(script: Script, name: str, problems: list[str]) -> None:
    known = step_types(script.language)
    for i, step in enumerate(script.steps):
        if step.type not in (None, NO_TYPE) and step.type not in known:
            listed = ", ".join(known) or "none are shipped for this language"
            problems.append(f"{name}, steps[{i}].type: unknown step type {step.type!r} (known: {listed}; or {NO_TYPE})")


def find_script(ref: str, scripts_dir: Path, from_data: bool = False) -> Script:
    """A script by file path, or by its `id` among the YAML files in scripts_dir. A reference read from data (a
    sidecar, a manifest) is untrusted: its path is taken inside scripts_dir and must stay there."""
    path = Path(ref)
    if from_data and (path.suffix in (".yaml", ".yml") or len(path.parts) > 1):
        inside = scripts_dir / path
        if not _inside(inside, scripts_dir):
            raise ScriptError([f"script {ref!r} named by a recording's metadata is outside {scripts_dir}; name a script by its id"])
        return load_script(inside)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_script(path)
    for candidate in sorted(scripts_dir.glob("*.y*ml")):
        head = _read_yaml(candidate, [])  # a broken file among the scripts is not the one asked for
        if isinstance(head, dict) and head.get("id") == ref:
            return load_script(candidate)
    raise ScriptError([f"no script with id {ref!r} in {scripts_dir}"])
