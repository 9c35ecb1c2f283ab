"""Discord-shaped API errors raised by route handlers and turned into responses by the server."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered the way Discord answers it (status, JSON code and message)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def unknown(kind: str) -> ApiError:
    codes = {
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "Role": 10011,
        "User": 10013,
        "Interaction": 10062,
        "Webhook": 10015,
        "Guild Scheduled Event": 10070,
        "Application Command": 10063,
        "Emoji": 10014,
        "Overwrite": 10009,
    }
    return ApiError(404, codes.get(kind, 10000), f"Unknown {kind}")


def form_error(path: list[str | int], code: str, message: str) -> ApiError:
    """Build Discord's nested 50035 'Invalid Form Body' error for one offending field."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        node = {str(key): node}
    return ApiError(400, 50035, "Invalid Form Body", node)


def merge_form_errors(errors: list[ApiError]) -> ApiError:
    """Combine several 50035 errors into one body, as Discord reports all bad fields at once."""
    merged: dict[str, Any] = {}

    def merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
        for k, v in src.items():
            if k == "_errors":
                dst.setdefault("_errors", []).extend(v)
            else:
                merge(dst.setdefault(k, {}), v)

    for err in errors:
        merge(merged, err.errors or {})
    return ApiError(400, 50035, "Invalid Form Body", merged)
