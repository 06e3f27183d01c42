"""The lesson's texts: both shipped languages have exactly the schema's keys, the language follows the locale, and a
teacher's broken file is refused with one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neurocar.lesson_text import LANGUAGES, TEXT_SCHEMA, lesson_text, load_text, shipped_text_file, system_language

FIXTURES = Path(__file__).parent / "fixtures" / "lesson_texts"


def keys_of(path: Path) -> set[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {f"{section}.{key}" for section, entries in data.items() for key in entries}


def test_both_languages_have_the_same_keys_and_they_are_the_schema():
    schema = {f"{section}.{key}" for section, keys in TEXT_SCHEMA.items() for key in keys}
    assert keys_of(shipped_text_file("en")) == keys_of(shipped_text_file("es")) == schema


@pytest.mark.parametrize("language", LANGUAGES)
def test_shipped_texts_load_and_differ_between_languages(language):
    text = lesson_text(language)
    assert text.get("neuron.rate", rate="0.01").endswith("0.01")
    assert text.get("window.chapter", number=2, count=6) == "2 / 6"
    other = lesson_text("es" if language == "en" else "en")
    assert text.get("neuron.title") != other.get("neuron.title")


def test_texts_are_short_enough_to_read_from_afar():
    for language in LANGUAGES:
        for key, value in lesson_text(language).values.items():
            for line in value.splitlines():
                assert len(line) <= 110, f"{language} {key}: {line!r}"


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "es_ES.UTF-8"}, "es"),
        ({"LANG": "es_MX"}, "es"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "es_ES.UTF-8"}, "en"),
        ({"LC_ALL": "es_AR.UTF-8", "LANG": "en_US.UTF-8"}, "es"),
        ({"LANGUAGE": "fr:es", "LANG": "en_US"}, "es"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_follows_the_locale_with_english_fallback(environment, language):
    assert system_language(environment) == language


def test_an_adapted_file_is_used():
    text = load_text(FIXTURES / "adapted.yaml")
    assert text.get("neuron.title") == "Neuron number one"
    assert text.get("neuron.rate", rate="0.1") == "step size 0.1"


BROKEN = {
    "missing_key.yaml": "missing key 'neuron.title' (every key of the shipped en.yaml is needed)",
    "missing_section.yaml": "missing key 'sensors' (every key of the shipped en.yaml is needed)",
    "unknown_key.yaml": "unknown key 'inputs.colour' (check its spelling against en.yaml)",
    "unknown_placeholder.yaml": "'neuron.rate' uses unknown placeholder {speed} (this text may use {rate})",
    "not_text.yaml": "'inputs.title' must be a non-empty text",
    "lone_brace.yaml": "'inputs.output': a lone { or } (write {{ or }} for a brace in the text)",
    "bad_yaml.yaml": "not valid YAML at line 71",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_text_file_is_one_line_naming_file_and_key(run_cli, monkeypatch, name):
    monkeypatch.chdir(FIXTURES)
    result = run_cli("lesson", "--text", name, "--frames", "1")
    assert result.code == 2
    assert result.err == f"neurocar: error: {name}: {BROKEN[name]}\n"


def test_a_missing_or_wrong_text_file_is_one_line(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("lesson", "--text", "nowhere.yaml", "--frames", "1")
    assert (result.code, result.err) == (2, "neurocar: error: nowhere.yaml: lesson text file not found\n")
    (tmp_path / "folder.yaml").mkdir()
    result = run_cli("lesson", "--text", "folder.yaml", "--frames", "1")
    assert result.err == "neurocar: error: folder.yaml: not a file (give a lesson text file such as es.yaml)\n"
    (tmp_path / "list.yaml").write_text("- one\n- two\n")
    result = run_cli("lesson", "--text", "list.yaml", "--frames", "1")
    assert result.err.startswith("neurocar: error: list.yaml: expected sections")
    result = run_cli("lesson", "--lang", "fr", "--frames", "1")
    assert result.code == 2 and result.err.startswith("neurocar: error: argument --lang: invalid choice: 'fr'")


def test_lesson_text_prints_a_file_that_loads_back(run_cli, tmp_path):
    result = run_cli("lesson", "text", "--lang", "es")
    assert result.code == 0
    copy = tmp_path / "mine.yaml"
    copy.write_text(result.out.replace('"Una neurona"', '"Mi neurona"'), encoding="utf-8")
    assert load_text(copy).get("neuron.title") == "Mi neurona"
    assert load_text(copy).get("brain.title") == lesson_text("es").get("brain.title")
