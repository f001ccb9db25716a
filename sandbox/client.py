"""``SandboxClient``: drive a sandbox running in another process over ``/control/...``."""

from __future__ import annotations

import base64
import functools
import ssl
from typing import Any

import httpx

JSON = dict[str, Any]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every client in the process: httpx builds one per client
    by default, reading the whole CA bundle (25 ms of CPU), and the playground starts a client
    each time (issue #12 item 6). A sandbox is normally plain HTTP on loopback anyway."""
    return ssl.create_default_context()


class SandboxControlError(RuntimeError):
    """The sandbox rejected a control operation."""


class SandboxClient:
    """Async mirror of the ``SandboxServer`` control API.

    ``root`` is the server root, e.g. ``"http://127.0.0.1:8081"``.
    """

    def __init__(self, root: str, *, timeout: float = 30.0) -> None:
        self.root = root.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.root, timeout=timeout, verify=_tls())

    @property
    def base_url(self) -> str:
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root}/file/bot"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def call(self, operation: str, **args: Any) -> Any:
        payload = {k: v for k, v in args.items() if v is not None}
        response = await self._http.post(f"/control/{operation}", json=payload)
        body = response.json()
        if not body.get("ok"):
            raise SandboxControlError(f"{operation}: {body.get('error')}")
        return body["result"]

    async def _obj(self, operation: str, **args: Any) -> JSON:
        return dict(await self.call(operation, **args))

    # ------------------------------------------------------------------ setup
    async def add_bot(
        self,
        token: str = "123456:TEST",
        username: str = "gridbot",
        first_name: str = "网格通",
        **kwargs: Any,
    ) -> JSON:
        return await self._obj(
            "add_bot", token=token, username=username, first_name=first_name, **kwargs
        )

    async def add_user(
        self,
        first_name: str = "用户",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        **kwargs: Any,
    ) -> JSON:
        return await self._obj(
            "add_user",
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            **kwargs,
        )

    async def add_group(
        self, title: str = "测试群", members: list[int] | None = None, **kwargs: Any
    ) -> JSON:
        return await self._obj("add_group", title=title, members=members or [], **kwargs)

    # ------------------------------------------------------------------ users acting
    async def start_private(self, user_id: int, **kwargs: Any) -> JSON:
        return await self._obj("start_private", user_id=user_id, **kwargs)

    async def user_sends(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> JSON:
        return await self._obj("user_sends", chat_id=chat_id, user_id=user_id, text=text, **kwargs)

    async def user_sends_photo(
        self,
        chat_id: int,
        user_id: int,
        caption: str | None = None,
        image_bytes: bytes | None = None,
        **kwargs: Any,
    ) -> JSON:
        image = base64.b64encode(image_bytes).decode() if image_bytes is not None else None
        return await self._obj(
            "user_sends_photo",
            chat_id=chat_id,
            user_id=user_id,
            caption=caption,
            image_b64=image,
            **kwargs,
        )

    async def user_sends_document(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        data: bytes,
        caption: str | None = None,
        **kwargs: Any,
    ) -> JSON:
        return await self._obj(
            "user_sends_document",
            chat_id=chat_id,
            user_id=user_id,
            filename=filename,
            data_b64=base64.b64encode(data).decode(),
            caption=caption,
            **kwargs,
        )

    async def user_sends_voice(
        self,
        chat_id: int,
        user_id: int,
        duration: int,
        caption: str | None = None,
        data: bytes | None = None,
        **kwargs: Any,
    ) -> JSON:
        """A voice note; ``data`` is the recording (a stand-in OGG header when omitted)."""
        if data is not None:
            kwargs["data_b64"] = base64.b64encode(data).decode()
        return await self._obj(
            "user_sends_voice",
            chat_id=chat_id,
            user_id=user_id,
            duration=duration,
            caption=caption,
            **kwargs,
        )

    async def user_sends_location(
        self, chat_id: int, user_id: int, latitude: float, longitude: float, **kwargs: Any
    ) -> JSON:
        """A shared location; ``title=`` and ``address=`` make it a venue."""
        return await self._obj(
            "user_sends_location",
            chat_id=chat_id,
            user_id=user_id,
            latitude=latitude,
            longitude=longitude,
            **kwargs,
        )

    async def user_sends_sticker(self, chat_id: int, user_id: int, **kwargs: Any) -> JSON:
        return await self._obj("user_sends_sticker", chat_id=chat_id, user_id=user_id, **kwargs)

    async def user_edits(self, chat_id: int, user_id: int, message_id: int, new_text: str) -> JSON:
        return await self._obj(
            "user_edits",
            chat_id=chat_id,
            user_id=user_id,
            message_id=message_id,
            new_text=new_text,
        )

    async def press_button(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        callback_data: str | None = None,
        button_text: str | None = None,
        forge: bool = False,
    ) -> str:
        result = await self.call(
            "press_button",
            chat_id=chat_id,
            message_id=message_id,
            user_id=user_id,
            callback_data=callback_data,
            button_text=button_text,
            forge=forge,
        )
        return str(result)

    async def vote_poll(self, poll_id: str, user_id: int, option_ids: list[int]) -> JSON:
        return await self._obj(
            "vote_poll", poll_id=poll_id, user_id=user_id, option_ids=option_ids
        )

    async def join(self, chat_id: int, user_id: int) -> JSON:
        return await self._obj("join", chat_id=chat_id, user_id=user_id)

    async def leave(self, chat_id: int, user_id: int) -> JSON:
        return await self._obj("leave", chat_id=chat_id, user_id=user_id)

    async def remove_bot(self, chat_id: int, by_user_id: int) -> None:
        await self.call("remove_bot", chat_id=chat_id, by_user_id=by_user_id)

    async def add_bot_to_group(self, chat_id: int, by_user_id: int, **kwargs: Any) -> JSON:
        return await self._obj(
            "add_bot_to_group", chat_id=chat_id, by_user_id=by_user_id, **kwargs
        )

    async def migrate_to_supergroup(self, chat_id: int) -> int:
        return int(await self.call("migrate_to_supergroup", chat_id=chat_id))

    async def block_bot(self, user_id: int) -> None:
        await self.call("block_bot", user_id=user_id)

    async def unblock_bot(self, user_id: int) -> None:
        await self.call("unblock_bot", user_id=user_id)

    async def inject_raw_update(self, update: JSON) -> JSON:
        return dict(await self.call("inject_raw_update", update=update))

    # ------------------------------------------------------------------ inspection
    async def sent(self, since: int = 0) -> list[JSON]:
        return list((await self.call("sent", since=since))["records"])

    async def calls(self, since: int = 0) -> list[JSON]:
        return list((await self.call("calls", since=since))["records"])

    async def callback_answers(self, since: int = 0) -> list[JSON]:
        return list((await self.call("callback_answers", since=since))["records"])

    async def chat_messages(self, chat_id: int, include_deleted: bool = False) -> list[JSON]:
        return list(
            await self.call("chat_messages", chat_id=chat_id, include_deleted=include_deleted)
        )

    async def pending_updates(self, token: str | None = None) -> list[JSON]:
        return list(await self.call("pending_updates", token=token))

    async def unknown_params(self) -> list[list[str]]:
        return list(await self.call("unknown_params"))

    async def stats(self) -> JSON:
        return dict(await self.call("stats"))

    async def max_in_window(self, chat_id: int | None, seconds: float) -> int:
        return int(await self.call("max_in_window", chat_id=chat_id, seconds=seconds))

    # ------------------------------------------------------------------ behaviour
    async def set_flood(self, enabled: bool = True, **limits: int) -> JSON | None:
        result = await self.call("set_flood", enabled=enabled, **limits)
        return dict(result) if result else None

    async def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        count: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        await self.call(
            "fail_next",
            method=method,
            error_code=error_code,
            description=description,
            count=count,
            chat_id=chat_id,
            retry_after=retry_after,
        )

    async def drop_connection_next(
        self, method: str, count: int = 1, after_processing: bool = False
    ) -> None:
        await self.call(
            "drop_connection_next", method=method, count=count, after_processing=after_processing
        )

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> JSON:  # noqa: ASYNC109
        return dict(await self.call("wait_idle", quiet=quiet, timeout=timeout))

    async def wait_sent(self, count: int, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        return int(await self.call("wait_sent", count=count, timeout=timeout))
