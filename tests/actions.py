"""Run the ``run:`` steps of a GitHub Actions job or composite action locally, as the
runner would: bash with ``-eo pipefail``, ``${{ }}`` expressions substituted (inputs,
runner.temp, github.action_path, steps.<id>.outputs), ``if:`` conditions of the form
``a == 'b'``, and ``$GITHUB_PATH``/``$GITHUB_OUTPUT`` honoured.  ``uses:`` steps
cannot run here: they are recorded with their ``with:`` values substituted."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
EQUALS = re.compile(r"^([\w.\-]+)\s*==\s*'([^']*)'$")


@dataclass
class Ran:
    step: dict[str, Any]
    returncode: int | None = None  # None: a `uses:` step (recorded, not run)
    stdout: str = ""
    stderr: str = ""
    with_: dict[str, str] = field(default_factory=dict)


class Runner:
    def __init__(self, workdir: Path, temp: Path, env: dict[str, str],
                 inputs: dict[str, str] | None = None, action_path: Path | None = None) -> None:
        self.workdir, self.temp, self.env = workdir, temp, dict(env)
        self.context: dict[str, str] = {"runner.temp": str(temp)}
        for name, value in (inputs or {}).items():
            self.context[f"inputs.{name}"] = value
        if action_path is not None:
            self.context["github.action_path"] = str(action_path)
            self.env["GITHUB_ACTION_PATH"] = str(action_path)
        self.paths: list[str] = []

    def value(self, expression: str) -> str:
        if expression not in self.context and not expression.startswith("steps."):
            raise KeyError(f"unsupported expression {expression!r}")
        return self.context.get(expression, "")

    def substitute(self, text: Any) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1)), str(text))

    def condition(self, expression: str | None) -> bool:
        if expression is None:
            return True
        match = EQUALS.match(EXPRESSION.sub(lambda m: m.group(1), str(expression)).strip())
        if match is None:
            raise ValueError(f"unsupported condition {expression!r}")
        return self.value(match.group(1)) == match.group(2)

    def run(self, steps: list[dict[str, Any]]) -> list[Ran]:
        """Every step until one fails (as GitHub stops a job)."""
        done: list[Ran] = []
        for number, step in enumerate(steps):
            if not self.condition(step.get("if")):
                continue
            if "uses" in step:
                done.append(Ran(step, with_={k: self.substitute(v)
                                             for k, v in (step.get("with") or {}).items()}))
                continue
            output = self.temp / f"output-{number}"
            path_file = self.temp / f"path-{number}"
            output.touch()
            path_file.touch()
            script = self.temp / f"step-{number}.sh"
            script.write_text(self.substitute(step["run"]))
            env = {**self.env, "RUNNER_TEMP": str(self.temp), "GITHUB_OUTPUT": str(output),
                   "GITHUB_PATH": str(path_file)}
            env.update({k: self.substitute(v) for k, v in (step.get("env") or {}).items()})
            env["PATH"] = os.pathsep.join([*self.paths, env.get("PATH", "")])
            assert step.get("shell", "bash") == "bash"
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                   str(script)], cwd=self.workdir, env=env, capture_output=True,
                                  text=True, timeout=900, check=False)
            done.append(Ran(step, proc.returncode, proc.stdout, proc.stderr))
            self.paths = [line for line in path_file.read_text().splitlines()[::-1]
                          if line] + self.paths
            if "id" in step:
                for line in output.read_text().splitlines():
                    name, _, value = line.partition("=")
                    self.context[f"steps.{step['id']}.outputs.{name}"] = value
            if proc.returncode:
                break
        return done
