from dataclasses import fields, replace

from callqa.analysis import AnalysisOptions
from callqa.analysis.compiled import compile_script
from callqa.analysis.options import StopWordPenalties


def _changed(value):
    return replace(value, minor=value.minor + 0.01) if isinstance(value, StopWordPenalties) else value + 1


def test_a_script_is_compiled_once_per_options_and_names(ru_script):
    opts = AnalysisOptions()
    assert compile_script(ru_script, opts, {}) is compile_script(ru_script, AnalysisOptions(), {})
    assert compile_script(ru_script, opts, {"manager": ("Анна",)}) is not compile_script(ru_script, opts, {})


def test_every_option_keys_the_cache(ru_script):
    """The cache key is the whole options object: an option added later can never reuse a stale compiled script."""
    base = AnalysisOptions()
    compiled = compile_script(ru_script, base, {})
    for field in fields(AnalysisOptions):
        other = replace(base, **{field.name: _changed(getattr(base, field.name))})
        assert compile_script(ru_script, other, {}) is not compiled, field.name
