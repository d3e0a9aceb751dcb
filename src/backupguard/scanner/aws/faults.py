"""What went wrong in one scope (account, Region, service), in words and as an error code.

A fault never stops the scan: it becomes one :class:`InputError` located at the scope, naming
the account, the Region, the service, the operation and AWS's error code.
"""

from __future__ import annotations

from typing import Any

from backupguard.estate import InputError, Origin
from backupguard.scanner.aws.readonly import ReadOnlyViolation

ACCESS_DENIED = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
    "AccessDeniedForDependencyException", "UnauthorizedException", "AWSOrganizationsNotInUseException",
}
REGION_DISABLED = {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired", "InvalidSignatureException"}
THROTTLED = {
    "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
    "ProvisionedThroughputExceededException", "RequestThrottled", "RequestThrottledException",
}


def classify(exc: BaseException) -> tuple[str, str, str]:
    """(kind, AWS error code or exception name, detail) for an exception raised by a call."""
    from backupguard.scanner.aws.session import RoleUnassumable

    if isinstance(exc, RoleUnassumable):
        kind, code, detail = classify(exc.cause)
        return "role-unassumable", code, f"cannot assume {exc.role_arn} ({detail})"
    if isinstance(exc, ReadOnlyViolation):
        return "read-only", "ReadOnlyViolation", str(exc)
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = str(response["Error"].get("Code", "Unknown"))
        detail = str(response["Error"].get("Message", "")) or str(exc)
        if code in ACCESS_DENIED:
            return "access-denied", code, detail
        if code in REGION_DISABLED:
            return "region-disabled", code, f"{detail} (is the Region enabled for the account?)"
        if code in THROTTLED:
            return "throttled", code, f"{detail} (still throttled after the adaptive retries)"
        return "api-error", code, detail
    name = type(exc).__name__
    if name in ("EndpointConnectionError", "UnknownEndpointError") or name.endswith("EndpointResolutionError"):
        return "service-unavailable", name, f"{exc} (the service is not available in this Region)"
    if name in ("ConnectTimeoutError", "ReadTimeoutError") or isinstance(exc, TimeoutError):
        return "timeout", name, str(exc)
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError", "ProfileNotFound"):
        return "credentials", name, str(exc)
    return "error", name, str(exc) or name


def scope_origin(account: str | None, region: str | None, arn: str | None = None) -> Origin:
    return Origin(file=None, account=account, region=region, arn=arn, unit=f"{account}/{region or 'global'}")


def fault(exc: BaseException, account: str | None, region: str | None, service: str, operation: str | None = None,
          arn: str | None = None) -> InputError:
    """One located error for a failed call or scope."""
    kind, code, detail = classify(exc)
    where = f"account {account or '?'}, Region {region or 'global'}, {service}"
    what = f"{operation} failed" if operation else "could not be read"
    subject = f" for {arn}" if arn else ""
    return InputError(f"{where}: {what}{subject}: {code}: {detail}", scope_origin(account, region, arn), code=f"aws-{kind}")


def error_code(exc: BaseException) -> str | None:
    response: Any = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
