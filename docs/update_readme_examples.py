"""Re-run the ``>>>`` examples of README.md's "## Examples" section and rewrite their outputs.

For maintainers, after a deliberate behaviour change: ``python docs/update_readme_examples.py``
then review ``git diff README.md`` (every changed output must be explained by the change).
``tests/test_readme_examples.py`` checks the outputs. Examples run in a scratch folder where
``data`` points at the bundled data; lines marked ``# doctest: +SKIP`` are not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _run(statement: list[str], namespace: dict) -> str:
    code = "\n".join(line[4:] for line in statement)
    if "doctest: +SKIP" in code:
        return ""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            exec(compile(code + "\n", "<README>", "single"), namespace)
        except Exception:  # noqa: BLE001 - shown as a doctest traceback
            last = traceback.format_exc().strip().splitlines()[-1]
            print("Traceback (most recent call last):\n    ...\n" + last)
    return buf.getvalue()


def refresh(section: str, namespace: dict) -> str:
    lines = section.split("\n")
    out: list[str] = []
    in_python = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_python = line.startswith("```python")
            out.append(line)
            i += 1
            continue
        if in_python and line.startswith(">>> "):
            statement = [line]
            i += 1
            while i < len(lines) and lines[i].startswith("... "):
                statement.append(lines[i])
                i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].startswith((">>>", "```")):
                i += 1  # the old output
            out.extend(statement)
            result = _run(statement, namespace)
            if result:
                out.extend(result.rstrip("\n").split("\n"))
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def main() -> int:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^## Examples\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
    if not m:
        print("README.md has no '## Examples' section", file=sys.stderr)
        return 1
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(ROOT / "data", Path(tmp) / "data", target_is_directory=True)
        os.chdir(tmp)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                section = refresh(m.group(0), {"__name__": "readme"})
        finally:
            os.chdir(cwd)
    new = text[: m.start()] + section + text[m.end():]
    if new != text:
        tmp_path = README.with_suffix(".md.tmp")
        tmp_path.write_text(new, encoding="utf-8")
        os.replace(tmp_path, README)
        print("README.md updated: review `git diff README.md`")
    else:
        print("README.md examples are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
