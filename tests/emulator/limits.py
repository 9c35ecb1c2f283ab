"""Discord's documented length limits, reported with the nested 50035 error shape."""

from __future__ import annotations

from typing import Any

from tests.emulator.errors import ApiError, form_error, merge_form_errors

Path = list[str | int]


def _len(errors: list[ApiError], path: Path, value: Any, maximum: int, minimum: int = 0) -> None:
    if value is None:
        return
    n = len(str(value))
    if n > maximum or n < minimum:
        errors.append(
            form_error(
                path,
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between {minimum} and {maximum} in length.",
            )
        )


def _max_items(errors: list[ApiError], path: Path, items: list[Any], maximum: int) -> None:
    if len(items) > maximum:
        errors.append(
            form_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {maximum} or fewer in length.")
        )


def check_embeds(errors: list[ApiError], embeds: list[dict[str, Any]], prefix: Path) -> None:
    _max_items(errors, [*prefix, "embeds"], embeds, 10)
    total = 0
    for i, e in enumerate(embeds):
        p: Path = [*prefix, "embeds", i]
        _len(errors, [*p, "title"], e.get("title"), 256)
        _len(errors, [*p, "description"], e.get("description"), 4096)
        fields = e.get("fields") or []
        _max_items(errors, [*p, "fields"], fields, 25)
        for j, f in enumerate(fields):
            _len(errors, [*p, "fields", j, "name"], f.get("name"), 256, 1)
            _len(errors, [*p, "fields", j, "value"], f.get("value"), 1024, 1)
            total += len(str(f.get("name") or "")) + len(str(f.get("value") or ""))
        footer = e.get("footer") or {}
        author = e.get("author") or {}
        _len(errors, [*p, "footer", "text"], footer.get("text"), 2048)
        _len(errors, [*p, "author", "name"], author.get("name"), 256)
        for v in (e.get("title"), e.get("description"), footer.get("text"), author.get("name")):
            total += len(str(v or ""))
    if total > 6000:
        errors.append(
            form_error(
                [*prefix, "embeds"],
                "MAX_EMBED_SIZE_EXCEEDED",
                "Embed size exceeds maximum size of 6000",
            )
        )


def check_component(errors: list[ApiError], c: dict[str, Any], p: Path, *, modal: bool) -> None:
    ctype = c.get("type")
    if "custom_id" in c:
        _len(errors, [*p, "custom_id"], c.get("custom_id"), 100, 1)
    if ctype == 1:
        children = c.get("components") or []
        _max_items(errors, [*p, "components"], children, 5)
        for j, child in enumerate(children):
            check_component(errors, child, [*p, "components", j], modal=modal)
    elif ctype == 18:
        _len(errors, [*p, "label"], c.get("label"), 45, 1)
        if c.get("component"):
            check_component(errors, c["component"], [*p, "component"], modal=modal)
    elif ctype == 2:
        _len(errors, [*p, "label"], c.get("label"), 80)
    elif ctype in (3, 5, 6, 7, 8):
        options = c.get("options") or []
        _max_items(errors, [*p, "options"], options, 25)
        _len(errors, [*p, "placeholder"], c.get("placeholder"), 150)
        for j, o in enumerate(options):
            _len(errors, [*p, "options", j, "label"], o.get("label"), 100, 1)
            _len(errors, [*p, "options", j, "value"], o.get("value"), 100, 1)
            _len(errors, [*p, "options", j, "description"], o.get("description"), 100)
    elif ctype == 4:
        _len(errors, [*p, "label"], c.get("label"), 45)
        _len(errors, [*p, "placeholder"], c.get("placeholder"), 100)
        _len(errors, [*p, "value"], c.get("value"), 4000)
        max_length = c.get("max_length")
        if max_length is not None and not 1 <= int(max_length) <= 4000:
            errors.append(
                form_error(
                    [*p, "max_length"],
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 4000.",
                )
            )


def check_components(
    errors: list[ApiError], components: list[dict[str, Any]], prefix: Path, *, modal: bool = False
) -> None:
    _max_items(errors, [*prefix, "components"], components, 5)
    for i, c in enumerate(components):
        check_component(errors, c, [*prefix, "components", i], modal=modal)


NONCE_MAX = 25
"""Discord: a create-message nonce is an integer or a string of up to 25 characters."""


def _check_nonce(errors: list[ApiError], nonce: Any, path: Path) -> None:
    if nonce is None:
        return
    if isinstance(nonce, bool) or not isinstance(nonce, int | str):
        errors.append(form_error(
            path, "NONCE_TYPE_INVALID_TYPE", "This field must be a string or integer."))
    elif isinstance(nonce, str) and len(nonce) > NONCE_MAX:
        errors.append(form_error(
            path, "NONCE_TYPE_TOO_LONG", f"Must be {NONCE_MAX} or fewer characters long."))


def check_message(
    body: dict[str, Any], prefix: Path | None = None, *, create: bool = False
) -> None:
    """Raise a 50035 error for everything in a message body Discord would refuse.

    ``create``: a new message (POST), whose ``nonce`` is checked too.
    """
    prefix = prefix or []
    errors: list[ApiError] = []
    if create:
        _check_nonce(errors, body.get("nonce"), [*prefix, "nonce"])
    _len(errors, [*prefix, "content"], body.get("content"), 2000)
    check_embeds(errors, body.get("embeds") or [], prefix)
    check_components(errors, body.get("components") or [], prefix)
    if errors:
        raise merge_form_errors(errors)


def check_modal(body: dict[str, Any], prefix: Path) -> None:
    errors: list[ApiError] = []
    _len(errors, [*prefix, "title"], body.get("title"), 45, 1)
    _len(errors, [*prefix, "custom_id"], body.get("custom_id"), 100, 1)
    check_components(errors, body.get("components") or [], prefix, modal=True)
    if errors:
        raise merge_form_errors(errors)


def check_name(value: Any, field_name: str = "name", maximum: int = 100, minimum: int = 1) -> None:
    errors: list[ApiError] = []
    _len(errors, [field_name], value, maximum, minimum)
    if errors:
        raise merge_form_errors(errors)


def check_choices(choices: list[dict[str, Any]]) -> None:
    errors: list[ApiError] = []
    _max_items(errors, ["data", "choices"], choices, 25)
    for i, ch in enumerate(choices):
        _len(errors, ["data", "choices", i, "name"], ch.get("name"), 100, 1)
        _len(errors, ["data", "choices", i, "value"], ch.get("value"), 100)
    if errors:
        raise merge_form_errors(errors)
