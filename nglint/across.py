"""A rule judged across the target range of nginx versions.

The nginx model is of one version (``nglint.semantics.inherit.Model``), a ``Tracked``
one that notes each version it is compared with.  ``reports`` runs a rule at the
versions where its answers may change and merges what it says: a finding that holds on
part of the target only starts with the versions it is about ("on nginx
1.18-1.29.6: proxy_http_version is 1.0 here ...").  ``guarded`` withholds a fix that
writes a directive some version of the target does not have
(``directives.unavailable``: "http2" needs nginx >= 1.25.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from nglint import directives
from nglint.findings import Severity
from nglint.fixes import not_fixed
from nglint.versions import Version, VersionRange, describe

if TYPE_CHECKING:
    from nglint.engine import Report


def reports(run: Callable[[Version], list[Report]], target: VersionRange,
            consulted: set[Version]) -> list[Report]:
    """A rule's reports over the whole ``target``, each saying which versions it is about
    when it does not hold on all of them.

    ``run(version)`` runs the rule with the model of ``version``; ``consulted`` is the
    set its ``Tracked`` version fills with every version it was compared with.  The
    rule runs at the target's first version; each consulted version inside the target
    splits it, and the rule runs again at the first version of each new sub-range, until
    no comparison adds one (a rule that never asks the model runs once).  Reports at
    one place with one headline (or message) and severity are one finding; when their
    messages differ between sub-ranges (nginx sends "Connection: close" before 1.29.7,
    nothing from it), the message gives each, after its versions."""
    points: set[Version] = set()
    done: dict[Version, list[Report]] = {}
    while True:
        parts = target.split(points)
        todo = [part for part in parts if part.low not in done]
        if not todo:
            break
        for part in todo:
            done[part.low] = run(part.low)
            points |= {v for v in consulted if target.low < v <= target.high}
    if len(parts) == 1:
        return done[target.low]
    groups: dict[tuple[int, str, Severity | None], dict[str, tuple[Report, list[int]]]] = {}
    for index, part in enumerate(parts):
        for report in done[part.low]:
            anchor = report.node if report.node is not None else report.problem
            key = (id(anchor), report.headline or report.message, report.severity)
            by_message = groups.setdefault(key, {})
            if report.message in by_message:
                by_message[report.message][1].append(index)
            else:
                by_message[report.message] = (report, [index])
    found: list[Report] = []
    for by_message in groups.values():
        indexes = [i for _, where in by_message.values() for i in where]
        if len(by_message) > 1 and len(indexes) == len(set(indexes)):
            found.append(_merged(list(by_message.values()), parts))
            continue
        for report, where in by_message.values():
            found.append(report if len(where) == len(parts)
                         else _on_versions(report, _joined(parts, where)))
    return found


def _merged(reports: list[tuple[Report, list[int]]], parts: list[VersionRange]) -> Report:
    """One finding from the reports of several sub-ranges that differ in their words."""
    first = reports[0][0]
    indexes = sorted(i for _, where in reports for i in where)
    message = "; ".join(f"on {describe(_joined(parts, where))}: {report.message}"
                        for report, where in reports)
    headline = first.headline if len(indexes) == len(parts) else \
        f"on {describe(_joined(parts, indexes))}: {first.headline}"
    common = set.intersection(*(set(report.notes) for report, _ in reports))
    notes = list(dict.fromkeys(
        note if note in common else f"on {describe(_joined(parts, where))}: {note}"
        for report, where in reports for note in report.notes))
    return replace(first, message=message, headline=headline, notes=notes)


def _joined(parts: list[VersionRange], indexes: list[int]) -> list[VersionRange]:
    joined: list[VersionRange] = []
    previous = -2
    for index in indexes:
        part = parts[index]
        if index == previous + 1:
            joined[-1] = VersionRange(joined[-1].low, part.high)
        else:
            joined.append(part)
        previous = index
    return joined


def _on_versions(report: Report, where: list[VersionRange]) -> Report:
    """The report of a part of the target, saying which versions it is about."""
    prefix = f"on {describe(where)}: "
    return replace(report, message=prefix + report.message,
                   headline=prefix + report.headline if report.headline else "")


def guarded(report: Report, target: VersionRange) -> Report:
    """The report without its fix when the fix writes a directive some version of the
    target does not know; the message says why it is not fixed."""
    if report.fix is None:
        return report
    why = directives.unavailable(report.fix, target)
    if not why:
        return report
    notes = [note for note in report.notes if not note.startswith("fix: ")]
    return replace(report, fix=None, message=report.message + not_fixed(why),
                   notes=[*notes, f"not fixed automatically: {why}"])
