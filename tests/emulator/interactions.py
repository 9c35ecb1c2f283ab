# ruff: noqa: ASYNC109  (timeouts are the point of these condition waits)
"""Driving interactions as people do: slash commands, context menus, buttons, selects, modals,
autocomplete; and the record of how the bot answered each one."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from tests.emulator.state import (
    AttachmentState,
    ChannelState,
    ChannelType,
    CommandState,
    GuildState,
    MemberState,
    MessageState,
    RoleState,
    UserState,
    snowflake,
)

if TYPE_CHECKING:
    from tests.emulator.server import DiscordEmulator

OPTION_TYPES = {1: "subcommand", 2: "group", 3: "string", 4: "integer", 5: "boolean",
                6: "user", 7: "channel", 8: "role", 9: "mentionable", 10: "number",
                11: "attachment"}


#: How long a test waits for the bot's answer before failing: a failure detector, not a
#: timing assertion (a passing test never waits it out), so it allows for a loaded 2-core CI
#: machine running both engines' tests side by side.
WAIT = 30.0


@dataclass(eq=False)
class InteractionRecord:
    """One interaction a person triggered and everything the bot did in answer to it."""

    emu: DiscordEmulator
    id: int
    token: str
    type: int
    user: UserState
    guild: GuildState | None
    channel: ChannelState
    data: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None
    original: MessageState | None = None
    followups: list[MessageState] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    source_message: MessageState | None = None
    edits: int = 0

    # -- waiting -------------------------------------------------------------------------------

    async def wait_response(self, timeout: float = WAIT) -> dict[str, Any]:
        """Wait for the interaction callback (Discord's 3-second acknowledgement)."""
        response = await self.emu.wait_for(
            lambda: self.response, timeout,
            f"interaction {self.describe()} was never acknowledged",
        )
        assert response is not None
        return response

    async def wait_final(self, timeout: float = WAIT) -> InteractionRecord:
        """Wait for the response and, after a deferral, for the 'thinking' message to be
        replaced (by an edit of the original or a first follow-up)."""
        await self.wait_response(timeout)
        if self.response and self.response["type"] == 5:
            await self.emu.wait_for(
                lambda: self.original is not None and not self.original.loading, timeout,
                f"interaction {self.describe()} deferred but never completed",
            )
        return self

    async def wait_followups(self, n: int = 1, timeout: float = WAIT) -> list[MessageState]:
        await self.emu.wait_for(
            lambda: len(self.followups) >= n, timeout,
            f"interaction {self.describe()}: expected {n} follow-up(s), got {len(self.followups)}",
        )
        return self.followups

    async def wait_edits(self, n: int = 1, timeout: float = WAIT) -> MessageState:
        await self.emu.wait_for(lambda: self.edits >= n, timeout,
                                f"interaction {self.describe()}: expected {n} edit(s)")
        assert self.original is not None
        return self.original

    def __await__(self) -> Any:
        return self.wait_final().__await__()

    # -- what the person sees ------------------------------------------------------------------

    @property
    def reply(self) -> MessageState | None:
        """The visible reply: the original response, else the first follow-up."""
        if self.original is not None and not self.original.deleted:
            return self.original
        return self.followups[0] if self.followups else None

    @property
    def response_type(self) -> int | None:
        return self.response["type"] if self.response else None

    @property
    def ephemeral(self) -> bool:
        reply = self.reply
        return bool(reply and reply.ephemeral)

    @property
    def content(self) -> str:
        reply = self.reply
        return reply.content if reply else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        reply = self.reply
        return reply.embeds if reply else []

    @property
    def components(self) -> list[dict[str, Any]]:
        reply = self.reply
        return reply.components if reply else []

    @property
    def files(self) -> list[AttachmentState]:
        reply = self.reply
        return reply.attachments if reply else []

    @property
    def all_text(self) -> str:
        """Content and embed text of the reply and every follow-up (handy for assertions)."""
        parts: list[str] = []
        msgs = ([self.reply] if self.reply else []) + [
            f for f in self.followups if f is not self.reply
        ]
        for m in msgs:
            parts.append(m.content)
            for e in m.embeds:
                parts += [str(e.get("title") or ""), str(e.get("description") or "")]
                parts += [f"{f.get('name')} {f.get('value')}" for f in e.get("fields") or []]
                parts.append(str((e.get("footer") or {}).get("text") or ""))
        return "\n".join(p for p in parts if p)

    def describe(self) -> str:
        name = self.data.get("name") or self.data.get("custom_id") or "?"
        return f"#{self.id} type={self.type} {name!r}"


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    for c in components:
        if c.get("custom_id") == custom_id:
            return c
        for key in ("components",):
            found = find_component(c.get(key) or [], custom_id)
            if found:
                return found
        if c.get("component"):
            found = find_component([c["component"]], custom_id)
            if found:
                return found
    return None


def all_custom_ids(components: list[dict[str, Any]]) -> list[str]:
    out = []
    for c in components:
        if c.get("custom_id"):
            out.append(c["custom_id"])
        out += all_custom_ids(c.get("components") or [])
        if c.get("component"):
            out += all_custom_ids([c["component"]])
    return out


class InteractionDriver:
    """Mixin for DiscordEmulator: the people-facing side of interactions."""

    @property
    def _emu(self) -> DiscordEmulator:
        return cast("DiscordEmulator", self)

    # -- plumbing ------------------------------------------------------------------------------

    def _default_channel(self, guild: GuildState | None,
                         user: UserState) -> ChannelState:
        if guild is None:
            channel = self._emu.dm_channel(user)
            if channel is None:
                channel = ChannelState(id=snowflake(), type=ChannelType.DM, name=None,
                                       recipients=[user])
                self._emu.add_channel(None, channel)
            return channel
        for c in sorted(guild.channels.values(), key=lambda c: c.position):
            if c.type == ChannelType.TEXT:
                return c
        return self._emu.create_channel(guild, "general")

    def _member_payload(self, guild: GuildState, member: MemberState,
                        channel: ChannelState | None) -> dict[str, Any]:
        data = member.payload()
        data["permissions"] = str(self._emu.effective_permissions(guild, member, channel))
        return data

    def _new_interaction(
        self,
        itype: int,
        user: UserState,
        guild: GuildState | None,
        channel: ChannelState | None,
        data: dict[str, Any],
        message: MessageState | None = None,
    ) -> InteractionRecord:
        channel = channel or self._emu._default_channel(guild, user)
        rec = InteractionRecord(emu=self._emu, id=snowflake(), token=secrets.token_urlsafe(48),
                                type=itype, user=user, guild=guild, channel=channel, data=data,
                                source_message=message)
        ch_payload = channel.payload()
        payload: dict[str, Any] = {
            "id": str(rec.id),
            "application_id": str(self._emu.application_id),
            "type": itype,
            "data": data,
            "token": rec.token,
            "version": 1,
            "locale": "en-GB",
            "entitlements": [],
            "attachment_size_limit": 26214400,
            "channel_id": str(channel.id),
            "channel": ch_payload,
        }
        if guild is not None:
            member = guild.members.get(user.id)
            if member is None:
                raise AssertionError(f"{user.name} is not a member of {guild.name}")
            ch_payload["permissions"] = str(self._emu.effective_permissions(guild, member, channel))
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-GB",
                guild={"id": str(guild.id), "locale": "en-GB", "features": guild.features},
                member=self._emu._member_payload(guild, member, channel),
                app_permissions=str(self._emu.bot_permissions(guild, channel)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(user=user.payload(), app_permissions="0",
                           authorizing_integration_owners={"1": str(user.id)}, context=1)
        if message is not None:
            payload["message"] = self._emu.message_payload(message)
        rec.payload = payload
        self._emu.interactions[rec.id] = rec
        # Only the session of the guild's shard (DMs: shard 0) receives it, as on Discord.
        sessions = [
            s for s in self._emu.sessions
            if s.takes(dm=guild is None, guild_id=guild.id if guild is not None else None)
        ]  # fmt: skip
        live = [s for s in sessions if s.ws is not None]
        targets = live[:1] or sessions[-1:]
        if not targets:
            raise AssertionError("no gateway session: is the bot connected?")
        for session in targets:
            session.push("INTERACTION_CREATE", payload)
        self._emu.notify()
        return rec

    async def _finish(self, rec: InteractionRecord, wait: bool, timeout: float
                      ) -> InteractionRecord:
        if wait:
            await rec.wait_final(timeout)
        else:
            await asyncio.sleep(0)
        return rec

    # -- command resolution --------------------------------------------------------------------

    def _resolve_command(self, guild: GuildState | None, path: str,
                         ctype: int = 1) -> tuple[CommandState, list[str], list[dict[str, Any]]]:
        parts = path.split()
        candidates = [
            c for c in self._emu.commands.values()
            if c.name == parts[0] and c.type == ctype
            and (c.guild_id is None or (guild is not None and c.guild_id == guild.id))
        ]
        if not candidates:
            known = sorted({c.name for c in self._emu.commands.values() if c.type == ctype})
            raise AssertionError(f"command {parts[0]!r} (type {ctype}) is not registered; "
                                 f"registered: {known}")
        cmd = sorted(candidates, key=lambda c: c.guild_id is None)[0]
        options = cmd.data.get("options") or []
        trail: list[str] = []
        for part in parts[1:]:
            sub = next((o for o in options if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                subs = [o["name"] for o in options if o["type"] in (1, 2)]
                raise AssertionError(f"/{' '.join([parts[0], *trail])} has no subcommand "
                                     f"{part!r}; it has {subs}")
            trail.append(part)
            options = sub.get("options") or []
        if any(o["type"] in (1, 2) for o in options):
            subs = [o["name"] for o in options if o["type"] in (1, 2)]
            raise AssertionError(f"/{path} needs a subcommand: one of {subs}")
        return cmd, trail, options

    def _convert_option(
        self,
        spec: dict[str, Any],
        value: Any,
        guild: GuildState | None,
        resolved: dict[str, dict[str, Any]],
        *,
        check: bool,
    ) -> Any:
        otype = spec["type"]
        name = spec["name"]

        def add_user(u: UserState) -> str:
            resolved.setdefault("users", {})[str(u.id)] = u.payload()
            if guild is not None and u.id in guild.members:
                m = guild.members[u.id].payload(with_user=False)
                m["permissions"] = str(self._emu.effective_permissions(guild, guild.members[u.id]))
                resolved.setdefault("members", {})[str(u.id)] = m
            return str(u.id)

        if otype in (3, 4, 10) and check:
            if otype == 3:
                value = str(value)
                if ("min_length" in spec and len(value) < spec["min_length"]) or (
                        "max_length" in spec and len(value) > spec["max_length"]):
                    raise AssertionError(f"option {name!r}: length {len(value)} outside "
                                         f"{spec.get('min_length')}..{spec.get('max_length')} "
                                         "(Discord's client would refuse it)")
            elif otype == 4:
                value = int(value)
            else:
                value = float(value)
            if otype != 3 and (("min_value" in spec and value < spec["min_value"])
                               or ("max_value" in spec and value > spec["max_value"])):
                raise AssertionError(f"option {name!r}: {value} outside "
                                     f"{spec.get('min_value')}..{spec.get('max_value')}")
            choices = spec.get("choices")
            if choices and value not in [c["value"] for c in choices]:
                raise AssertionError(f"option {name!r}: {value!r} is not one of "
                                     f"{[c['value'] for c in choices]}")
            return value
        if otype in (3, 4, 10):
            return value
        if otype == 5:
            return bool(value)
        if otype == 6 or (otype == 9 and isinstance(value, UserState | MemberState)):
            user = value.user if isinstance(value, MemberState) else value
            if not isinstance(user, UserState):
                raise AssertionError(f"option {name!r} needs a UserState, got {value!r}")
            return add_user(user)
        if otype == 7:
            if not isinstance(value, ChannelState):
                raise AssertionError(f"option {name!r} needs a ChannelState, got {value!r}")
            allowed = spec.get("channel_types")
            if check and allowed and value.type not in allowed:
                raise AssertionError(f"option {name!r}: channel type {value.type} not in "
                                     f"{allowed}")
            ch = value.payload()
            if guild is not None:
                me = guild.members.get(self._emu.bot_user.id)
                perms = self._emu.effective_permissions(guild, me, value) if me else 0
                ch["permissions"] = str(perms)
            resolved.setdefault("channels", {})[str(value.id)] = ch
            return str(value.id)
        if otype in (8, 9):
            if not isinstance(value, RoleState):
                raise AssertionError(f"option {name!r} needs a RoleState, got {value!r}")
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if otype == 11:
            filename, data = value
            from tests.emulator.routes_messages import attachment_content_type

            # Discord labels an upload's content_type from its name (as for message files).
            att = AttachmentState(id=snowflake(), filename=filename, data=bytes(data),
                                  content_type=attachment_content_type(filename, None))
            self._emu.uploads[att.id] = att
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload(self._emu.base_url)
            return str(att.id)
        raise AssertionError(f"option {name!r}: unsupported type {otype}")

    def _build_options(
        self,
        specs: list[dict[str, Any]],
        values: dict[str, Any],
        guild: GuildState | None,
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None = None,
        path: str = "",
    ) -> list[dict[str, Any]]:
        by_name = {s["name"]: s for s in specs}
        for key in values:
            if key not in by_name:
                raise AssertionError(f"/{path} has no option {key!r}; options: {list(by_name)}")
        out = []
        for spec in specs:
            name = spec["name"]
            if name == focused:
                out.append({"name": name, "type": spec["type"], "value": str(values[name]),
                            "focused": True})
                continue
            if name not in values or values[name] is None:
                if spec.get("required") and focused is None:
                    raise AssertionError(f"/{path} requires option {name!r}")
                continue
            value = self._emu._convert_option(spec, values[name], guild, resolved,
                                         check=focused is None)
            out.append({"name": name, "type": spec["type"], "value": value})
        return out

    # -- public driver API ---------------------------------------------------------------------

    async def slash(
        self,
        guild: GuildState | None,
        user: UserState,
        command: str,
        *,
        in_channel: ChannelState | None = None,
        wait: bool = True,
        timeout: float = WAIT,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> InteractionRecord:
        """Run `/command sub ...` as `user` in `in_channel` (default: the first text channel);
        keyword arguments (or `options=` for awkward names) are the command's options."""
        values = {**(options or {}), **kwargs}
        data = self._emu._command_data(guild, command, values, focused=None)
        rec = self._emu._new_interaction(2, user, guild, in_channel, data)
        return await self._emu._finish(rec, wait, timeout)

    def _command_data(self, guild: GuildState | None, command: str,
                      values: dict[str, Any], focused: str | None) -> dict[str, Any]:
        cmd, trail, specs = self._emu._resolve_command(guild, command)
        resolved: dict[str, dict[str, Any]] = {}
        options = self._emu._build_options(specs, values, guild, resolved, focused=focused,
                                      path=command)
        for depth, name in reversed(list(enumerate(trail))):
            kind = 1 if depth == len(trail) - 1 else 2
            options = [{"name": name, "type": kind, "options": options}]
        data: dict[str, Any] = {"id": str(cmd.id), "name": cmd.name, "type": 1,
                                "options": options}
        if resolved:
            data["resolved"] = resolved
        if cmd.guild_id:
            data["guild_id"] = str(cmd.guild_id)
        return data

    async def autocomplete(
        self,
        guild: GuildState | None,
        user: UserState,
        command: str,
        *,
        focused: str,
        value: str = "",
        in_channel: ChannelState | None = None,
        timeout: float = WAIT,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type `value` into option `focused`; return the choices the bot offered."""
        values = {**kwargs, focused: value}
        data = self._emu._command_data(guild, command, values, focused=focused)
        rec = self._emu._new_interaction(4, user, guild, in_channel, data)
        await rec.wait_response(timeout)
        return rec.choices or []

    def _find_context_command(self, name: str, ctype: int,
                              guild: GuildState | None) -> CommandState:
        for c in self._emu.commands.values():
            if c.name == name and c.type == ctype and (
                    c.guild_id is None or (guild and c.guild_id == guild.id)):
                return c
        known = [c.name for c in self._emu.commands.values() if c.type == ctype]
        raise AssertionError(f"context-menu command {name!r} not registered; have {known}")

    async def message_command(
        self, guild: GuildState | None, user: UserState, name: str,
        message: MessageState, *, wait: bool = True, timeout: float = WAIT,
    ) -> InteractionRecord:
        """Right-click a message > Apps > `name` (the payload carries the full message)."""
        cmd = self._emu._find_context_command(name, 3, guild)
        channel = self._emu.get_channel(message.channel_id)
        data: dict[str, Any] = {
            "id": str(cmd.id), "name": cmd.name, "type": 3, "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self._emu.message_payload(message)}},
        }
        rec = self._emu._new_interaction(2, user, guild, channel, data)
        return await self._emu._finish(rec, wait, timeout)

    async def user_command(
        self, guild: GuildState | None, user: UserState, name: str,
        target: UserState, *, in_channel: ChannelState | None = None, wait: bool = True,
        timeout: float = WAIT,
    ) -> InteractionRecord:
        cmd = self._emu._find_context_command(name, 2, guild)
        resolved: dict[str, dict[str, Any]] = {"users": {str(target.id): target.payload()}}
        if guild is not None and target.id in guild.members:
            m = guild.members[target.id].payload(with_user=False)
            m["permissions"] = str(self._emu.effective_permissions(guild, guild.members[target.id]))
            resolved["members"] = {str(target.id): m}
        data = {"id": str(cmd.id), "name": cmd.name, "type": 2, "target_id": str(target.id),
                "resolved": resolved}
        rec = self._emu._new_interaction(2, user, guild, in_channel, data)
        return await self._emu._finish(rec, wait, timeout)

    def _component_target(self, user: UserState, message: MessageState,
                          custom_id: str) -> dict[str, Any]:
        if message.deleted:
            raise AssertionError("cannot interact with a deleted message")
        if message.visible_to is not None and message.visible_to != user.id:
            raise AssertionError(f"{user.name} cannot see this ephemeral message")
        comp = find_component(message.components, custom_id)
        if comp is None:
            raise AssertionError(f"message has no component {custom_id!r}; it has "
                                 f"{all_custom_ids(message.components)}")
        if comp.get("disabled"):
            raise AssertionError(f"component {custom_id!r} is disabled")
        return comp

    async def click(
        self, user: UserState, message: MessageState, custom_id: str, *,
        guild: GuildState | None = None, wait: bool = True, timeout: float = WAIT,
    ) -> InteractionRecord:
        """Press a button on `message`."""
        comp = self._emu._component_target(user, message, custom_id)
        if comp.get("type") != 2:
            raise AssertionError(f"component {custom_id!r} is not a button")
        guild = guild or (self._emu.guilds.get(message.guild_id) if message.guild_id else None)
        channel = self._emu.get_channel(message.channel_id)
        data = {"custom_id": custom_id, "component_type": 2}
        rec = self._emu._new_interaction(3, user, guild, channel, data, message=message)
        return await self._emu._finish(rec, wait, timeout)

    async def select(
        self, user: UserState, message: MessageState, custom_id: str,
        values: list[Any], *, guild: GuildState | None = None, wait: bool = True,
        timeout: float = WAIT,
    ) -> InteractionRecord:
        """Pick `values` in a select menu on `message` (strings, or users/roles/channels)."""
        comp = self._emu._component_target(user, message, custom_id)
        ctype = comp.get("type")
        if ctype not in (3, 5, 6, 7, 8):
            raise AssertionError(f"component {custom_id!r} is not a select menu")
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise AssertionError(f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
        guild = guild or (self._emu.guilds.get(message.guild_id) if message.guild_id else None)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            allowed = [o["value"] for o in comp.get("options") or []]
            for v in values:
                if v not in allowed:
                    raise AssertionError(f"select {custom_id!r}: {v!r} not in {allowed}")
            data["values"] = list(values)
        else:
            resolved: dict[str, dict[str, Any]] = {}
            spec_type = {5: 6, 6: 8, 7: 9, 8: 7}[ctype]
            data["values"] = [
                self._emu._convert_option({"type": spec_type, "name": custom_id}, v, guild,
                                          resolved, check=False)
                for v in values
            ]
            data["resolved"] = resolved
        channel = self._emu.get_channel(message.channel_id)
        rec = self._emu._new_interaction(3, user, guild, channel, data, message=message)
        return await self._emu._finish(rec, wait, timeout)

    async def submit_modal(
        self, user: UserState, modal: InteractionRecord | dict[str, Any],
        values: dict[str, str], *, wait: bool = True, timeout: float = WAIT,
    ) -> InteractionRecord:
        """Fill in and submit the modal the bot showed (from a type-9 response)."""
        origin = modal if isinstance(modal, InteractionRecord) else None
        form = origin.modal if origin is not None else modal
        if not form:
            raise AssertionError("that interaction did not answer with a modal "
                                 f"(response: {origin.response if origin else None})")
        assert isinstance(form, dict)
        ids = all_custom_ids(form.get("components") or [])
        for key in values:
            if key not in ids:
                raise AssertionError(f"modal {form.get('custom_id')!r} has no field {key!r}; "
                                     f"fields: {ids}")

        def fill(c: dict[str, Any]) -> dict[str, Any]:
            ctype = c.get("type")
            if ctype == 1:
                return {"type": 1, "components": [fill(x) for x in c.get("components") or []]}
            if ctype == 18:
                return {"type": 18, "id": c.get("id", 0), "component": fill(c["component"])}
            if ctype == 4:
                cid = c["custom_id"]
                value = values.get(cid, c.get("value") or "")
                if c.get("required", True) and not value:
                    raise AssertionError(f"modal field {cid!r} is required")
                if value and (len(value) < c.get("min_length", 0)
                              or len(value) > c.get("max_length", 4000)):
                    raise AssertionError(f"modal field {cid!r}: length {len(value)} outside "
                                         f"{c.get('min_length', 0)}..{c.get('max_length', 4000)}")
                return {"type": 4, "custom_id": cid, "value": value}
            if ctype in (3, 5, 6, 7, 8):
                cid = c["custom_id"]
                chosen: Any = values.get(cid, [])
                return {"type": ctype, "custom_id": cid,
                        "values": list(chosen) if isinstance(chosen, list | tuple) else [chosen]}
            return {"type": ctype, "id": c.get("id", 0)}

        data = {"custom_id": form["custom_id"],
                "components": [fill(c) for c in form.get("components") or []]}
        guild = origin.guild if origin else None
        channel = origin.channel if origin else None
        source = origin.source_message if origin else None
        rec = self._emu._new_interaction(5, user, guild, channel, data, message=source)
        return await self._emu._finish(rec, wait, timeout)
