"""The site's YAML files: checklists, bonus rules. The core parses text; this reads the files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from qa_review.core.bonus_rules import LoadedRules
from qa_review.core.bonus_rules import parse as parse_rules
from qa_review.core.call_log_rules import LoadedCallLogRules
from qa_review.core.call_log_rules import parse as parse_call_log_rules
from qa_review.core.checklists import LoadedChecklist
from qa_review.core.checklists import parse as parse_checklist
from qa_review.core.errors import ChecklistError, RulesError


def read(path, error: type[Exception], what: str) -> str:
    """A YAML file's text, or ``error`` saying which file could not be read and why."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot read the {what} ({e})") from e


def load_checklist(path: Path) -> LoadedChecklist:
    return parse_checklist(read(path, ChecklistError, "checklist"), str(path))


def _folders(folders: Path | Sequence[Path]) -> tuple[Path, ...]:
    return (Path(folders),) if isinstance(folders, str | Path) else tuple(Path(f) for f in folders)


def load_checklists(folders: Path | Sequence[Path]) -> tuple[list[LoadedChecklist], list[str]]:
    """Every valid checklist in the folders, and the errors of the invalid ones.

    A later folder's checklist replaces an earlier one's with the same id:
    a clinic keeps its own folder after the shipped one and overrides
    without editing what an upgrade would overwrite. Two files with one id
    in the same folder are an error.
    """
    chosen: dict[str, LoadedChecklist] = {}
    bad: list[str] = []
    for folder in _folders(folders):
        here: dict[str, str] = {}
        for path in sorted(folder.glob("*.y*ml")):
            try:
                lc = load_checklist(path)
            except ChecklistError as e:
                bad.append(str(e))
                continue
            cid = lc.checklist.id
            if cid in here:
                bad.append(f"{lc.source}: checklist id {cid!r} is also used by {here[cid]}")
                continue
            here[cid] = lc.source
            chosen[cid] = lc
    return sorted(chosen.values(), key=lambda lc: lc.source), bad


def find_checklist(spec: str, folders: Path | Sequence[Path]) -> LoadedChecklist:
    """A checklist by id (in the folders, the last one with it) or by path to a YAML file."""
    p = Path(spec)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        return load_checklist(p)
    good, bad = load_checklists(folders)
    for lc in good:
        if lc.checklist.id == spec:
            return lc
    where = ", ".join(str(f) for f in _folders(folders))
    hint = f"; invalid files there: {len(bad)} (run `qa-review checklist validate FILE` on each)" if bad else ""
    raise ChecklistError(
        f"no checklist with id {spec!r} in {where} (known: {', '.join(lc.checklist.id for lc in good) or 'none'}){hint}"
    )


def load_rules(path: Path) -> LoadedRules:
    return parse_rules(read(path, RulesError, "bonus rules"), str(path))


def load_call_log_rules(path: Path) -> LoadedCallLogRules:
    return parse_call_log_rules(read(path, RulesError, "call log rules"), str(path))


_CALL_LOG_KEYS = re.compile(
    r"^(lost_min_wait_s|callback_window_min|service_level_s|fcr_window_days|phone_digits)\s*:", re.M
)


def load_any_rules(path: Path) -> LoadedRules | LoadedCallLogRules:
    """Bonus rules or call log rules, told apart by their fields (neither: checked as bonus rules)."""
    text = read(path, RulesError, "rules")
    if _CALL_LOG_KEYS.search(text) and not re.search(r"^quality\s*:", text, re.M):
        return parse_call_log_rules(text, str(path))
    return parse_rules(text, str(path))
