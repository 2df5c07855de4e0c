"""`bench --only PATTERN`: the cases a partial run measures, chosen by shell-style patterns on
their names (`documents.*search*`; another area's case is `<module>.<case>`, as the report names
it: `router_cases.routing_overhead`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from advisoros_db.errors import ConfigError


@dataclass(frozen=True)
class Selection:
    patterns: tuple[str, ...]

    @classmethod
    def of(cls, patterns: Sequence[str] | None) -> Selection | None:
        """None for a full run (no pattern given)."""
        return cls(tuple(patterns)) if patterns else None

    def wants(self, name: str) -> bool:
        # Case-sensitive whatever the platform (fnmatch folds case on Windows): names are lower.
        return any(fnmatchcase(name, p) for p in self.patterns)

    def check(self, names: Iterable[str]) -> None:
        """Refuse the run when a pattern matches no case: a typo would otherwise measure
        nothing (or less than asked) and write a report that looks complete."""
        known = sorted(set(names))
        unmatched = [p for p in self.patterns if not any(fnmatchcase(n, p) for n in known)]
        if unmatched:
            listed = ", ".join(repr(p) for p in unmatched)
            raise ConfigError(
                f"--only {listed} {'matches' if len(unmatched) == 1 else 'match'} no benchmark "
                "case, so nothing was measured; patterns "
                "are shell-style on case names (* any text, ? one character, case-sensitive), "
                "another area's case is <module>.<case>. The cases are: " + ", ".join(known)
            )
