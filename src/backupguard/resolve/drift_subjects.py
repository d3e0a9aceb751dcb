"""Every subject of a drift run, by kind: what :func:`backupguard.pipeline.drift` hands the engine.

The code's estate and the account's are paired first (:mod:`.drift_match`); then each kind comes
from the module that knows it: the compared plans, selections, vaults and backup policies and the
live entities no code manages (:mod:`.drift`), whether the code's plans protect the deployed
resources (:mod:`.drift_protection`, BG706) and the effective Organizations policy against the
policy files (:mod:`.drift_effective`, BG707). One kind whose comparison fails on input no one
foresaw costs that kind alone: a located error, and the run goes on.
"""

from __future__ import annotations

from typing import Any, Callable

from backupguard.estate import Estate, InputError, Origin
from backupguard.resolve import Subject
from backupguard.resolve.drift import compared_subjects
from backupguard.resolve.drift_effective import KIND as EFFECTIVE, effective_subjects
from backupguard.resolve.drift_match import Matching, org_policy_pairs
from backupguard.resolve.drift_protection import KIND as PROTECTION, protection_subjects


def subjects(code: Estate, live: Estate, effective_policy: Any, matching: Matching,
             opt_in: dict[str, bool] | None, errors: list[InputError],
             live_tags: Callable[[list[str]], dict[str, Any]] | None = None) -> dict[str, list[Subject]]:
    """The drift run's subjects by kind; a comparison that fails adds its error to ``errors``.

    ``effective_policy`` is the account's effective backup policy as the live side read it (only
    read, and only compared, when the code holds policy files). ``live_tags`` reads the live tags
    of the deployed resources BG706 compares, by ARN (without it, the code's tags stand in)."""
    pairs = org_policy_pairs(code.org_policies, live.org_policies) if code.org_policies else []
    by_kind = compared_subjects(matching, pairs, errors)
    more = {
        PROTECTION: lambda: protection_subjects(code, live, matching, opt_in, live_tags),
        EFFECTIVE: lambda: effective_subjects(code.org_policies, effective_policy, matching) if code.org_policies else [],
    }
    for kind, build in more.items():
        try:
            by_kind[kind] = build()
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - like compared_subjects: a located error, the run goes on
            by_kind[kind] = []
            errors.append(InputError(f"internal error while comparing {kind.replace('_', ' ')} with the account "
                                     f"({type(exc).__name__}); please report it", Origin()))
    return by_kind
