"""One unit of scan work: an account, a Region (None for account-wide calls), and what it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from backupguard.estate import BackupEvidence, Estate, Origin
from backupguard.scanner.aws.faults import error_code, fault


class _Failed:
    def __repr__(self) -> str:
        return "FAILED"


FAILED: Any = _Failed()  # what Scope.call returns when the call failed (the error is recorded)


@dataclass
class Scope:
    access: Any  # session.Access (or a test/benchmark double with .client(service, region))
    account: str
    region: str | None
    home_region: str
    as_of: datetime  # when the scan started: evidence ages are computed against it
    since: datetime  # recovery points created after this
    partition: str = "aws"
    estate: Estate = field(default_factory=Estate)
    evidence: dict[str, BackupEvidence] = field(default_factory=dict)  # resource ARN -> what AWS Backup reports
    opt_in: dict[str, bool] = field(default_factory=dict)  # DescribeRegionSettings of this account and Region
    protected_types: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # ARN -> (type, name)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.access.client(service, region or self.region or self.home_region)

    def origin(self, arn: str | None = None, region: str | None = None) -> Origin:
        where = region or self.region
        return Origin(file=None, account=self.account, region=where, arn=arn, unit=f"{self.account}/{where or 'global'}")

    def failed(self, exc: BaseException, service: str, operation: str | None = None, arn: str | None = None,
               region: str | None = None) -> None:
        self.estate.errors.append(fault(exc, self.account, region or self.region, service, operation, arn))

    def call(self, service: str, operation: str, fn: Callable[[], Any], arn: str | None = None,
             absent: tuple[str, ...] = (), region: str | None = None) -> Any:
        """``fn()``; None when AWS answers with one of the ``absent`` codes ("no such policy");
        FAILED (and one located error) on any other failure."""
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - every fault becomes a located error
            if absent and error_code(exc) in absent:
                return None
            self.failed(exc, service, operation, arn, region)
            return FAILED
