"""Test doubles for the live scanner: canned AWS answers on real botocore clients.

``Canned`` answers chosen operations of chosen (account, Region, service) clients with responses
validated against the service model (as botocore's Stubber does), and lets every other call
through to moto. Handlers are registered on the client *after* the read-only guard, so the guard
still decides first.
"""

from __future__ import annotations

from typing import Any, Callable

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator

from backupguard.scanner.aws.session import Connector

Answer = Callable[[dict], Any]  # params -> response dict | error(...) | None (let moto answer)


def error(code: str, message: str = "", status: int = 400) -> dict:
    return {"__error__": {"Code": code, "Message": message or code}, "__status__": status}


class Canned:
    """(account or "*", region or "*", service, operation) -> answer."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str, str, str], Answer] = {}

    def on(self, account: str, region: str, service: str, operation: str, answer: Any) -> None:
        self.answers[(account, region, service, operation)] = answer if callable(answer) else (lambda params, a=answer: a)

    def find(self, account: str, region: str, service: str, operation: str) -> Answer | None:
        for key in ((account, region), (account, "*"), ("*", region), ("*", "*")):
            answer = self.answers.get((*key, service, operation))
            if answer is not None:
                return answer
        return None

    def install(self, client: Any, account: str, region: str) -> None:
        service = client.meta.service_model.service_name

        def remember(params: Any = None, context: Any = None, **_: Any) -> None:
            if context is not None:
                context["canned_params"] = dict(params or {})

        def respond(model: Any = None, context: Any = None, **_: Any) -> Any:
            answer = self.find(account, region, service, model.name)
            if answer is None:
                return None
            response = answer((context or {}).get("canned_params", {}))
            if response is None:
                return None
            if "__error__" in response:
                parsed = {"Error": response["__error__"], "ResponseMetadata": {"HTTPStatusCode": response["__status__"]}}
                return AWSResponse(None, response["__status__"], {}, None), parsed
            report = ParamValidator().validate(response, model.output_shape)
            if report.has_errors():
                raise ParamValidationError(report=report.generate_report())
            return AWSResponse(None, 200, {}, None), {**response, "ResponseMetadata": {"HTTPStatusCode": 200}}

        # On the generic events, after the session's handlers: the guard and the call observer run first
        # (botocore calls handlers of a more specific event name before the generic ones).
        client.meta.events.register("before-parameter-build", remember)
        client.meta.events.register("before-call", respond)


class CannedAccess:
    def __init__(self, inner: Any, canned: Canned):
        self.inner, self.canned = inner, canned
        self.account, self.partition = inner.account, inner.partition
        self._done: set[int] = set()

    def client(self, service: str, region: str) -> Any:
        client = self.inner.client(service, region)
        if id(client) not in self._done:
            self._done.add(id(client))
            self.canned.install(client, self.account, region)
        return client


class CannedConnector(Connector):
    """The real boto3 connector (guard, assumed roles, moto), with canned answers where moto has none."""

    def __init__(self, canned: Canned, **kwargs: Any):
        super().__init__(**kwargs)
        self._home = CannedAccess(self._home, canned)
        self._canned = canned

    def access(self, account: str) -> Any:
        found = super().access(account)
        return found if isinstance(found, CannedAccess) else CannedAccess(found, self._canned)


class StubAccess:
    """One account's clients for a collector called directly: the given (Stubber-wrapped) clients."""

    account, partition = "111122223333", "aws"

    def __init__(self, clients: dict[str, Any], account: str | None = None):
        self.clients = clients
        if account is not None:
            self.account = account

    def client(self, service: str, region: str) -> Any:
        return self.clients[service]
