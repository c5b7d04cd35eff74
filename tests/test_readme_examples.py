"""The README's "## Examples" run as doctests, so that the README never rots.

Every ```python block of the section is one doctest session (blocks share their namespace, in
order), run in a scratch folder where ``data`` points at the bundled data (the examples write
files). Lines marked ``# doctest: +SKIP`` (figures) are skipped. The figures the section shows
must exist in docs/figures and stay small.
"""

from __future__ import annotations

import doctest
import os
import re
import warnings

import pytest

from tests.conftest import DATA, ROOT

README = ROOT / "README.md"
MAX_FIGURE_BYTES = 60_000


def examples_section() -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^## Examples\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert m, "README.md has no '## Examples' section"
    return m.group(1)


def python_blocks(section: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)


def test_readme_has_examples_for_every_guide_section():
    section = examples_section()
    for heading in ("Mosaicking", "Bands", "Scales", "Cutline", "Bounds", "SRS", "Resolution", "Dimensions",
                    "Align pixels", "All touched", "Resampler", "Masks"):
        assert re.search(rf"^### {heading}\b", section, flags=re.M), heading
    assert "stack" in section and "DLTile" in section
    assert len(python_blocks(section)) >= 15


def test_readme_figures_exist_and_are_small():
    figures = re.findall(r"!\[[^\]]*\]\((docs/figures/[^)]+\.png)\)", examples_section())
    assert len(figures) >= 8
    for rel in figures:
        path = ROOT / rel
        assert path.is_file(), f"{rel} is missing: run python docs/make_figures.py"
        assert path.stat().st_size <= MAX_FIGURE_BYTES, rel
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_examples_run(tmp_path, monkeypatch):
    try:
        os.symlink(DATA, tmp_path / "data", target_is_directory=True)
    except (OSError, NotImplementedError):  # pragma: no cover - e.g. Windows without symlink rights
        pytest.skip("cannot symlink data/ into a scratch folder")
    monkeypatch.chdir(tmp_path)
    source = "\n".join(python_blocks(examples_section()))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(source, {"__name__": "readme"}, "README.md ## Examples", str(README), 0)
    assert len(test.examples) >= 60
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    failures: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures) + (
        "\nAfter a deliberate behaviour change, refresh the outputs with `python docs/update_readme_examples.py` "
        "and review `git diff README.md`.")
    assert (tmp_path / "rgb_600.tif").is_file()


def test_readme_shell_commands_run(tmp_path, monkeypatch, capsys):
    """Every ``raster-core ...`` line of the section's ```bash blocks succeeds (in-process)."""
    import shlex

    from raster_core.cli import main

    try:
        os.symlink(DATA, tmp_path / "data", target_is_directory=True)
    except (OSError, NotImplementedError):  # pragma: no cover
        pytest.skip("cannot symlink data/ into a scratch folder")
    monkeypatch.chdir(tmp_path)
    section = examples_section()
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", section, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith("raster-core "):
                commands.append(shlex.split(line)[1:])
    # inline commands such as `raster-core stack ... --out out/stack`
    for inline in re.findall(r"`(raster-core [^`]+)`", section):
        if "--help" not in inline and " --" in inline:  # a command, not just its name
            commands.append(shlex.split(inline.replace("\n", " "))[1:])
    assert len(commands) >= 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for argv in commands:
            assert main(argv) == 0, (argv, capsys.readouterr().err)
    assert (tmp_path / "out" / "rgb_600.tif").is_file() and (tmp_path / "out" / "stack.npy").is_file()


def test_every_readme_figure_has_a_generator():
    """docs/make_figures.py makes every figure the README shows (checked without matplotlib)."""
    import ast

    tree = ast.parse((ROOT / "docs" / "make_figures.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "FIGURES_BY_NAME":
            names = {k.value for k in node.value.keys}
    figures = re.findall(r"!\[[^\]]*\]\(docs/figures/([^)]+)\.png\)", examples_section())
    assert figures and set(figures) <= names
