"""Sessions and clients for the live scan: credentials, retries, timeouts, assumed roles, Regions.

Everything that touches botocore's session machinery is here, imported lazily: importing this
module does not import boto3 or botocore; creating a :class:`Connector` does. Clients come only
from sessions on which the read-only guard is installed (``readonly.install``).

Endpoints are left to the SDK: ``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>`` and a
profile's ``endpoint_url`` apply unchanged, so a scan runs against a local emulator as is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from backupguard.scanner.aws import readonly

SESSION_NAME = "backupguard"
DEFAULT_HOME_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-northwest-1"}
ENABLED_STATUSES = ("opt-in-not-required", "opted-in")


@dataclass(frozen=True)
class ClientSettings:
    max_attempts: int = 8  # adaptive retries (client-side rate limiting on throttling)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_pool_connections: int = 10


class RoleUnassumable(Exception):
    """sts:AssumeRole into a member account failed; ``cause`` is the SDK's exception."""

    def __init__(self, account: str, role_arn: str, cause: BaseException):
        super().__init__(f"cannot assume {role_arn}: {cause}")
        self.account, self.role_arn, self.cause = account, role_arn, cause


class Access:
    """One account's credentials: guarded clients per (service, Region), created once, thread-safe."""

    def __init__(self, account: str, session: Any, config: Any, partition: str = "aws"):
        self.account = account
        self.partition = partition
        self._session = session
        self._config = config
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:  # botocore sessions are not thread-safe; their clients are
                client = self._clients.get(key)
                if client is None:
                    client = self._session.create_client(service, region_name=region, config=self._config)
                    self._clients[key] = client
        return client


class Connector:
    """The standard credential chain (or ``profile``), and member accounts through an assumed role.

    The seam the tests and the benchmark replace: the scan only calls :meth:`caller`,
    :meth:`access` and :meth:`Access.client`.
    """

    def __init__(
        self,
        profile: str | None = None,
        role_name: str | None = None,
        external_id: str | None = None,
        home_region: str | None = None,
        settings: ClientSettings = ClientSettings(),
        observer: Callable[[str, str], None] | None = None,
    ):
        import botocore.session
        from botocore.config import Config

        self.profile, self.role_name, self.external_id = profile, role_name, external_id
        self.calls = 0  # API calls made (read by the progress display)
        self._counter = threading.Lock()

        def observe(service: str, operation: str) -> None:
            with self._counter:
                self.calls += 1
            if observer is not None:
                observer(service, operation)

        self._observer = observe
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_pool_connections=settings.max_pool_connections,
            user_agent_extra="backupguard",
        )
        self._base = self._new_session()
        self.home_region = home_region or self._base.get_config_variable("region")
        identity = self._base.create_client("sts", region_name=self.home_region or "us-east-1", config=self._config)
        caller = identity.get_caller_identity()
        self.account: str = caller["Account"]
        self.partition: str = caller["Arn"].split(":")[1]
        self.home_region = self.home_region or DEFAULT_HOME_REGION.get(self.partition, "us-east-1")
        self._home = Access(self.account, self._base, self._config, self.partition)

    def _new_session(self) -> Any:
        import botocore.session

        session = botocore.session.Session(profile=self.profile)
        if getattr(self, "_base", None) is not None:  # share the parsed service models between accounts
            session.register_component("data_loader", self._base.get_component("data_loader"))
        readonly.install(session.get_component("event_emitter"), self._observer)
        return session

    def caller(self) -> Access:
        """The account the credentials belong to, scanned with them directly."""
        return self._home

    def role_arn(self, account: str) -> str:
        return f"arn:{self.partition}:iam::{account}:role/{self.role_name}"

    def access(self, account: str) -> Access:
        """Credentials for ``account``: the caller's own, or the role assumed there (refreshed when they expire)."""
        if account == self.account:
            return self._home
        if not self.role_name:
            raise RoleUnassumable(account, "(no --role-name)", RuntimeError("no role name to assume"))
        from botocore.credentials import RefreshableCredentials

        role_arn = self.role_arn(account)
        sts = self._home.client("sts", self.home_region)
        extra = {"ExternalId": self.external_id} if self.external_id else {}

        def fetch() -> dict:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME, **extra)["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        try:
            first = fetch()
        except Exception as exc:  # AccessDenied, a missing role, a wrong external id, a timeout
            raise RoleUnassumable(account, role_arn, exc) from exc
        credentials = RefreshableCredentials.create_from_metadata(first, refresh_using=fetch, method="sts-assume-role")
        session = self._new_session()
        session._credentials = credentials  # botocore has no public setter for refreshable credentials
        return Access(account, session, self._config, self.partition)


def enabled_regions(access: Access, home_region: str) -> tuple[list[str], list[str]]:
    """The account's enabled Regions and the ones it has not opted in to (``ec2:DescribeRegions``)."""
    regions = access.client("ec2", home_region).describe_regions(AllRegions=True)["Regions"]
    enabled = sorted(r["RegionName"] for r in regions if r.get("OptInStatus", "opt-in-not-required") in ENABLED_STATUSES)
    disabled = sorted(r["RegionName"] for r in regions if r.get("OptInStatus", "opt-in-not-required") not in ENABLED_STATUSES)
    return enabled, disabled


# Token names of the APIs the scanner pages through by hand (where the client has no paginator).
_TOKENS = (("NextToken", "NextToken"), ("Marker", "Marker"), ("NextMarker", "Marker"),
           ("LastEvaluatedTableName", "ExclusiveStartTableName"), ("ContinuationToken", "ContinuationToken"))


def pages(client: Any, method: str, **params: Any) -> Iterator[dict]:
    """Every page of a list call: botocore's paginator when there is one, else following the token."""
    if hasattr(client, "can_paginate") and client.can_paginate(method):
        yield from client.get_paginator(method).paginate(**params)
        return
    call = getattr(client, method)
    seen: set[str] = set()
    while True:
        page = call(**params)
        yield page
        token = next(((ask, page[got]) for got, ask in _TOKENS if page.get(got)), None)
        if token is None or token[1] in seen:
            return
        seen.add(token[1])
        params = {**params, token[0]: token[1]}
