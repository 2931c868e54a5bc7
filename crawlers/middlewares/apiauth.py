"""API credentials, applied at the last moment: a downloader middleware for :mod:`crawlers.spiders.api`.

The spider's requests carry the connector's :class:`~crawlers.connectors.base.ApiCall` in their meta and
no secret.  Just before a call is sent this middleware asks the connector to ``authorize`` it: eBay's
bearer token (fetched with the client-credentials grant, cached, renewed ``TOKEN_MARGIN`` seconds before
it expires and once on a 401), Etsy's ``x-api-key``, AliExpress's signed form.  Credentials come from
:meth:`core.settings.Settings.api_credential` (environment variables or secret files) when the crawl
opens; a :class:`SecretsFilter` masks every credential and token in every log line of the crawl.

A refused key or token ends the source's run (:func:`end_run`) with one clear sentence in its record: a
second 401 after a fresh token, a 401/403 from Etsy or AliExpress, or a refused token request.  Nothing
loops.

Stats: ``lookalike/api/tokens`` (tokens fetched), ``lookalike/api/unauthorized`` (401 answers),
``lookalike/source/error`` (the sentence).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from crawlers.connectors import connector as connector_module
from crawlers.connectors.base import AnswerError, ApiCall, Credentials, CredentialsRefused
from crawlers.settings import lookalike_settings

CALL_META = "lookalike_api_call"
"""Request meta key holding the connector's :class:`ApiCall` (read by this and the quota middleware)."""
AUTH_RETRY_META = "lookalike_api_auth_retry"
TOKEN_GENERATION_META = "lookalike_api_token_generation"
"""Which token signed a request (a counter, never the token): a 401 on a request signed with an older
token than the current one renews nothing."""
ERROR_STAT = "lookalike/source/error"


def end_run(crawler: Any, reason: str, message: str) -> None:
    """End the crawl with ``reason`` (its ``finish_reason``) and ``message`` in its record (first one kept)."""
    if crawler.stats.get_value(ERROR_STAT) is None:
        crawler.stats.set_value(ERROR_STAT, message)
        logging.getLogger(__name__).error("%s", message)
        deferred_from_coro(crawler.engine.close_spider_async(reason=reason))


class SecretsFilter(logging.Filter):
    """Replaces each secret in a log record's message and arguments with ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in sorted(self.secrets, key=len, reverse=True):
            masked = masked.replace(secret, "***")
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            text = str(record.exc_info[1])
            if any(secret in text for secret in self.secrets):
                record.exc_info, record.exc_text = None, None
        return True


class ApiAuthMiddleware:
    """Downloader middleware: credentials on every API call of an ``api`` crawl."""

    def __init__(self, *, crawler: Any, module: ModuleType, credentials: Credentials, missing: list[str]) -> None:
        self.crawler = crawler
        self.module = module
        self.credentials = credentials
        self.missing = missing
        self.token: str | None = None
        self.generation = 0
        self.renew_at = 0.0
        self.lock = asyncio.Lock()
        self.filter = SecretsFilter()
        self.filter.secrets.update(credentials.secrets())

    @classmethod
    def from_crawler(cls, crawler: Any) -> ApiAuthMiddleware:
        connector = crawler.settings.get("LOOKALIKE_API_CONNECTOR")
        if not connector:
            raise NotConfigured
        module = connector_module(connector)
        settings = lookalike_settings(crawler.settings)
        names = list(module.CREDENTIALS) + list(getattr(module, "OPTIONAL_CREDENTIALS", ()))
        values = {name: settings.api_credential(name) for name in names}
        middleware = cls(crawler=crawler, module=module,
                         credentials=Credentials({k: v for k, v in values.items() if v}),
                         missing=[name for name in module.CREDENTIALS if not values.get(name)])
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.filter)
        if self.missing:
            end_run(self.crawler, "credentials_missing",
                    f"{self.module.TITLE} needs {', '.join(self.missing)}: set LOOKALIKE_"
                    f"{self.missing[0].upper()} (and the others) or put them in files in api_secrets_dir")

    def spider_closed(self, spider: Any) -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self.filter)

    # ----------------------------------------------------------------------------------- requests
    async def process_request(self, request: Request) -> None:
        """Sign the call in place, after the quota middleware's waits (so a token cannot expire between
        signing and sending, and the call is not rescheduled and counted twice)."""
        call: ApiCall | None = request.meta.get(CALL_META)
        if call is None or call.kind == "token":
            return
        if self.missing or self.crawler.stats.get_value(ERROR_STAT) is not None:
            raise IgnoreRequest("the source's credentials are missing or were refused")
        token = await self.current_token() if hasattr(self.module, "token_call") else None
        signed = self.module.authorize(call, credentials=self.credentials, token=token, now=time.time())
        if token:
            self.filter.secrets.add(token)
        for name, value in signed.headers:
            request.headers[name] = value
        if signed.form:
            request._set_body(urlencode(signed.form))  # Scrapy's own way to set a body; replace() would reschedule
        request.meta[TOKEN_GENERATION_META] = self.generation

    async def current_token(self) -> str:
        """The cached token, fetched (once, whatever the concurrency) when absent or due for renewal."""
        async with self.lock:
            if self.token is None or time.time() >= self.renew_at:
                self.token = None
                self.token, self.renew_at = await self.fetch_token()
                self.generation += 1
                self.crawler.stats.inc_value("lookalike/api/tokens")
            return self.token

    async def fetch_token(self) -> tuple[str, float]:
        spider = self.crawler.spider
        call = self.module.token_call(config=spider.config, credentials=self.credentials)
        request = Request(call.url, method="POST", headers=dict(call.headers), body=urlencode(call.form),
                          meta={CALL_META: call, "dont_obey_robotstxt": True, "dont_retry": False},
                          dont_filter=True)
        response = await self.crawler.engine.download_async(request)
        try:
            data = json.loads(response.body)
        except ValueError:
            data = None
        try:
            if response.status in (400, 401, 403):
                raise CredentialsRefused(f"{self.module.TITLE} refused the client credentials "
                                         f"(HTTP {response.status} from the token endpoint)")
            if response.status != 200:
                raise AnswerError(f"the token endpoint answered HTTP {response.status}")
            return self.module.read_token(data, now=time.time())
        except CredentialsRefused as exc:
            end_run(self.crawler, "credentials_refused", str(exc))
            raise IgnoreRequest(str(exc)) from None
        except AnswerError as exc:
            end_run(self.crawler, "token_failed", f"{self.module.TITLE}: no access token: {exc}")
            raise IgnoreRequest(str(exc)) from None

    # ---------------------------------------------------------------------------------- responses
    def process_response(self, request: Request, response: Response) -> Request | Response:
        call: ApiCall | None = request.meta.get(CALL_META)
        if call is None or call.kind == "token" or response.status not in (401, 403):
            return response
        self.crawler.stats.inc_value("lookalike/api/unauthorized")
        renewable = hasattr(self.module, "token_call") and response.status == 401
        if renewable and not request.meta.get(AUTH_RETRY_META):
            if request.meta.get(TOKEN_GENERATION_META) == self.generation:
                self.token = None  # expired or revoked early: fetch a fresh one and try this call once more
            meta = {**request.meta, AUTH_RETRY_META: True}
            return request.replace(url=call.url, headers=dict(call.headers), meta=meta, dont_filter=True)
        end_run(self.crawler, "credentials_refused",
                f"{self.module.TITLE} refused the {'token' if renewable else 'key'} (HTTP {response.status})"
                + (" even after a fresh token" if renewable else ""))
        raise IgnoreRequest("credentials refused")
