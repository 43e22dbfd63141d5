"""Every shell block of the README runs as written, in order, and prints what the README shows.

The convention the README follows, and this test enforces:

- every ```bash / ```sh / ```console / ```shell block is run, unless the line
  before it is ``<!-- not-run -->`` (commands that build, test or deploy);
- the one block that is ``[NAME=value ...] make run`` is not run by bash: the
  test starts ``housing-api serve`` itself, with those settings, on a free
  port and an empty state directory — the ``make run`` of a first hour;
- all the other blocks run in one bash session (``set -u``: a variable no
  earlier block set is an error, not an empty string), with the README's
  ``127.0.0.1:8000`` rewritten to the test's port and nothing else changed;
- the ```json or ```text block right after a run block (blank lines and a
  ``<details><summary>`` line may stand between) is what it prints; a run
  block without one must print nothing.

Outputs are compared by structure: JSON by parsed value and key order, text
line by line. Values that change on every run (tokens, ids, timestamps,
seconds to wait, library versions) are checked for their shape instead; a
README value ending in ``…`` is an abbreviation of one.
Prices are stable (the models train with a fixed seed to byte-identical
artifacts), so they are compared to within a millionth.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.service import REPO, serve

README = REPO / "README.md"
RUN_LANGUAGES = frozenset({"bash", "sh", "console", "shell"})
OUTPUT_LANGUAGES = frozenset({"json", "text"})
NOT_RUN = "<!-- not-run -->"
README_ADDRESS = "127.0.0.1:8000"
MAKE_RUN = re.compile(r"^((?:[A-Z_]+=\S+\s+)*)make run$")
MARK = "--- end of README block"

JWT = r"eyJ[\w-]+\.[\w-]+\.[\w-]+"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
SHAPES: dict[str, str] = {
    "access_token": JWT,
    "refresh_token": r"[\w-]{43}",
    "key": r"hpk_[A-Za-z0-9]{30,}",
    "prefix": r"hpk_[A-Za-z0-9]{4}",
    "id": r"[0-9a-f]{16}",
    "created_at": TIMESTAMP,
    "expires_at": TIMESTAMP,
    "last_used_at": TIMESTAMP,
    "revoked_at": TIMESTAMP,
    "trained_at": TIMESTAMP,
    "artifact_sha256": r"[0-9a-f]{64}",
}
"""JSON fields whose value changes from run to run: the pattern every value must match."""
VERSIONS = "libraries"
"""A JSON object of package versions: each value a version, whatever its number."""
TEXT_SHAPES = [
    (re.compile(r"(?i)^(retry-after: )\d+$"), r"\1<seconds>"),
    (re.compile(r";t=\d+"), ";t=<seconds>"),
    (re.compile(JWT), "<jwt>"),
]
"""Lines of plain-text output: what varies, and the shape it is replaced by on both sides."""


@dataclass(frozen=True, slots=True)
class Block:
    language: str
    text: str
    line: int
    """Where it starts in the README (1-based), for failure messages."""
    run: bool
    output: Block | None = None


def readme_blocks(markdown: str) -> list[Block]:
    """The run blocks, in order, each with the output block that follows it."""
    fenced: list[tuple[Block, int]] = []  # each block and the line after its closing fence
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = re.fullmatch(r"```(\w*)\s*", lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        language = opening.group(1)
        marked = index > 0 and lines[index - 1].strip() == NOT_RUN
        block = Block(
            language=language,
            text="\n".join(lines[index + 1 : end]),
            line=index + 1,
            run=language in RUN_LANGUAGES and not marked,
        )
        fenced.append((block, end + 1))
        index = end + 1
    result = []
    for position, (block, after) in enumerate(fenced):
        if not block.run:
            continue
        output = None
        if position + 1 < len(fenced):
            candidate = fenced[position + 1][0]
            between = lines[after : candidate.line - 1]
            if candidate.language in OUTPUT_LANGUAGES and all(
                not text.strip() or text.lstrip().startswith(("<details", "<summary"))
                for text in between
            ):
                output = candidate
        result.append(Block(block.language, block.text, block.line, True, output))
    return result


def service_settings(block: Block) -> dict[str, str] | None:
    """The settings of a ``NAME=value ... make run`` block; None for any other block."""
    commands = [line for line in block.text.splitlines() if line.strip()]
    if len(commands) != 1:
        return None
    found = MAKE_RUN.match(commands[0].split("#")[0].strip())
    if found is None:
        return None
    return dict(item.split("=", 1) for item in shlex.split(found.group(1)))


def run_in_one_session(blocks: list[Block], port: int, workdir: Path) -> list[tuple[int, str]]:
    """Run the blocks in one bash, in order: each block's exit status and output."""
    script = ["set -u"]
    for block in blocks:
        script.append(block.text.replace(README_ADDRESS, f"127.0.0.1:{port}"))
        script.append(f"printf '\\n{MARK} %d\\n' $?")
    finished = subprocess.run(
        ["bash", "--noprofile", "--norc"],
        input="\n".join(script) + "\n",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=workdir,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8"},
        timeout=120,
        check=False,
    )
    pieces = re.split(rf"\n{MARK} (\d+)\n", finished.stdout)
    results = [(int(pieces[i + 1]), pieces[i].rstrip("\n")) for i in range(0, len(pieces) - 1, 2)]
    assert len(results) == len(blocks), (
        f"the session stopped after {len(results)} of {len(blocks)} blocks:\n"
        f"{finished.stdout[-3000:]}"
    )
    return results


def json_documents(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        document, index = decoder.raw_decode(text, index)
        documents.append(document)
    return documents


def matches_shape(value: object, pattern: str, *, abbreviated: bool) -> bool:
    if not isinstance(value, str):
        return False
    if abbreviated and value.endswith("…"):
        return True
    return re.fullmatch(pattern, value) is not None


def same_json(shown: Any, printed: Any, where: str = "$") -> list[str]:
    """Where the printed JSON differs from the shown one; empty when it matches."""
    if isinstance(shown, dict) and isinstance(printed, dict):
        if list(shown) != list(printed):
            return [f"{where}: keys {list(printed)}, README shows {list(shown)}"]
        problems = []
        for name, value in shown.items():
            if name in SHAPES and value is not None:
                pattern = SHAPES[name]
                if not matches_shape(value, pattern, abbreviated=True):
                    problems.append(f"{where}.{name}: README's {value!r} is not a {name}")
                elif not matches_shape(printed[name], pattern, abbreviated=False):
                    problems.append(f"{where}.{name}: {printed[name]!r} is not a {name}")
                elif value.endswith("…") and not printed[name].startswith(value[:-1]):
                    problems.append(f"{where}.{name}: {printed[name]!r} does not start {value!r}")
            elif name == VERSIONS and isinstance(value, dict):
                if list(value) != list(printed[name]) or not all(
                    matches_shape(v, r"\d+(?:\.\d+)+\S*", abbreviated=False)
                    for v in printed[name].values()
                ):
                    problems.append(f"{where}.{name}: {printed[name]!r}")
            else:
                problems += same_json(value, printed[name], f"{where}.{name}")
        return problems
    if isinstance(shown, list) and isinstance(printed, list):
        if len(shown) != len(printed):
            return [f"{where}: {len(printed)} items, README shows {len(shown)}"]
        pairs = enumerate(zip(shown, printed, strict=True))
        return [p for i, (a, b) in pairs for p in same_json(a, b, f"{where}[{i}]")]
    if isinstance(shown, float) and type(printed) in (int, float):
        if math.isclose(shown, printed, rel_tol=1e-6):
            return []
    elif type(shown) is type(printed) and shown == printed:
        return []
    return [f"{where}: printed {printed!r}, README shows {shown!r}"]


def text_shape(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        line = line.rstrip()
        for pattern, replacement in TEXT_SHAPES:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return lines


def output_problems(block: Block, printed: str) -> list[str]:
    shown = block.output
    if shown is None:
        return [f"the README shows no output; it printed:\n{printed}"] if printed.strip() else []
    if shown.language == "text":
        if text_shape(shown.text) == text_shape(printed):
            return []
        return [f"printed:\n{printed}\nREADME shows:\n{shown.text}"]
    try:
        documents = json_documents(printed)
    except json.JSONDecodeError:
        return [f"printed something that is not JSON:\n{printed}"]
    expected = json_documents(shown.text)
    if len(documents) != len(expected):
        return [f"{len(documents)} JSON documents, README shows {len(expected)}:\n{printed}"]
    problems = [p for pair in zip(expected, documents, strict=True) for p in same_json(*pair)]
    if not problems and len(printed.splitlines()) != len(shown.text.splitlines()):
        problems.append(f"laid out on other lines than the README shows:\n{printed}")
    return problems


def test_every_shell_block_of_the_readme_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    blocks = readme_blocks(README.read_text())
    served = [(b, s) for b in blocks if (s := service_settings(b)) is not None]
    assert len(served) == 1, "the README starts the service with one `make run` block"
    start, settings = served[0]
    assert start is blocks[0], "the service starts before any other block runs"
    assert {"FIRST_ADMIN_USERNAME", "FIRST_ADMIN_PASSWORD"} <= set(settings)
    session = blocks[1:]
    assert len(session) >= 8, "the README shows the first hour: log in, predict, keys, tokens"
    with serve(tmp_path / "service", settings) as service:
        results = run_in_one_session(session, service.port, tmp_path)
    failures = []
    for block, (status, printed) in zip(session, results, strict=True):
        problems = output_problems(block, printed)
        if status != 0:
            problems.insert(0, f"exit status {status}")
        if problems:
            failures.append(f"README.md line {block.line}:\n" + "\n".join(problems))
    assert not failures, "\n\n".join(failures)


SAMPLE = f"""
{NOT_RUN}
```sh
make test
```

```bash
ADMIN=a make run
```

```bash
echo '{{"access_token": "eyJ…", "n": 1.5}}'
```

<details><summary>output</summary>

```json
{{"access_token": "eyJ…", "n": 1.5}}
```
</details>

```bash
true
```
"""


def test_the_convention_reads_runs_services_and_outputs() -> None:
    blocks = readme_blocks(SAMPLE)
    assert [b.text for b in blocks] == [
        "ADMIN=a make run",
        """echo '{"access_token": "eyJ…", "n": 1.5}'""",
        "true",
    ]
    assert service_settings(blocks[0]) == {"ADMIN": "a"}
    assert service_settings(blocks[1]) is None
    assert blocks[1].output is not None
    assert blocks[1].output.language == "json"
    assert blocks[2].output is None


@pytest.mark.parametrize(
    ("printed", "broken"),
    [
        ('{"access_token": "eyJa.b.c", "n": 1.5}', False),
        ('{"access_token": "eyJa.b.c", "n": 1.6}', True),  # another value
        ('{"access_token": "not a jwt", "n": 1.5}', True),  # another shape
        ('{"n": 1.5, "access_token": "eyJa.b.c"}', True),  # another structure
        ('{"access_token": "eyJa.b.c", "n": 1.5}\n{}', True),  # more than shown
        ('{\n"access_token": "eyJa.b.c", "n": 1.5}', True),  # other lines
        ("curl: (7) Failed to connect", True),
    ],
)
def test_an_output_unlike_the_readme_is_a_failure(printed: str, broken: bool) -> None:
    block = readme_blocks(SAMPLE)[1]
    assert bool(output_problems(block, printed)) is broken


def test_blocks_share_one_session_and_a_failing_one_shows(tmp_path: Path) -> None:
    sets = Block("bash", "SHARED=yes", 1, True)
    reads = Block("bash", 'echo "$SHARED"; false', 2, True)
    results = run_in_one_session([sets, reads], 8000, tmp_path)
    assert results == [(0, ""), (1, "yes")]


def test_a_variable_no_block_set_stops_the_session(tmp_path: Path) -> None:
    unset = Block("bash", 'echo "$NOT_SET_BY_ANY_BLOCK"', 1, True)
    with pytest.raises(AssertionError, match="unbound variable"):
        run_in_one_session([unset, unset], 8000, tmp_path)
