"""One settings object for the whole product.

Values come, highest priority first, from ``LOOKALIKE_*`` environment variables, then from a TOML file
(``lookalike.toml`` in the working directory, or the file named by ``LOOKALIKE_CONFIG``), then from the
defaults below.  Every field carries a description: ``lookalike config`` prints them, and
``docs/configuration.md`` is checked against them by a test.

Nothing here is cached in a process global: callers build a ``Settings`` and pass it down, so that a
Prefect worker, a Dask worker and a test can each hold their own.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# The file, the variables and the derived URL are read in core.configfile (no pydantic there), which the
# fast path of ``review list`` / ``brands list`` uses too (core.configfile.read_database_settings).
from core.configfile import CONFIG_ENV as CONFIG_ENV
from core.configfile import DEFAULT_CONFIG_FILE as DEFAULT_CONFIG_FILE
from core.configfile import (
    ENV_PREFIX,
    config_file_path,
    default_data_dir,
    default_database_url,
    read_config_file,
)
from core.configfile import ConfigError as ConfigError


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the optional TOML file; a missing file is no error, a broken one is."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path
        self.data: dict[str, Any] = read_config_file(path)  # a flat file or one with a [lookalike] table

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Everything Lookalike can be configured with."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the default SQLite database, downloaded images, exports and Prefect's home.",
    )
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy database URL. Unset: sqlite:///<data_dir>/lookalike.db. "
        "For PostgreSQL: postgresql+psycopg://user:password@host:5432/dbname.",
    )
    user_agent: str = Field(
        default="Lookalike/0.1 (brand-protection crawler; +{contact_url})",
        description="User-Agent sent by the crawlers; {contact_url} is replaced by contact_url.",
    )
    contact_url: str = Field(
        default="https://github.com/lookalike-brand-protection/lookalike",
        description="Where a site owner can learn who is crawling them; named in the User-Agent.",
    )
    allow_private_network: bool = Field(
        default=False,
        description="Allow crawling URLs on loopback, private or link-local addresses even when the "
        "start URL or profile is not itself on such a host.",
    )
    obey_robots_txt: bool = Field(default=True, description="Obey robots.txt (leave on).")
    concurrent_requests_per_domain: int = Field(
        default=4, ge=1, description="Most requests in flight to one site at once."
    )
    download_delay: float = Field(
        default=0.0, ge=0, description="Seconds between requests to one site (AutoThrottle adapts above it)."
    )
    download_timeout: float = Field(default=30.0, gt=0, description="Seconds before a request is given up.")
    max_page_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Largest HTML or JSON response read, in bytes."
    )
    max_image_bytes: int = Field(
        default=8 * 1024 * 1024, gt=0, description="Largest image downloaded, in bytes."
    )
    max_image_pixels: int = Field(
        default=40_000_000, gt=0, description="Largest image decoded, in pixels (guards against decompression bombs)."
    )
    http_cache: bool = Field(
        default=False, description="Use Scrapy's HTTP cache under <data_dir>/httpcache (for development)."
    )
    query_budget: int = Field(
        default=200, ge=1, le=500,
        description="Search queries sent to one marketplace source per scan (planned from the registry, "
        "best first; see docs/sources.md).",
    )
    gone_after_runs: int = Field(
        default=2, ge=1, description="A listing not seen in this many crawls of its marketplace is marked gone."
    )
    unreached_recheck_max: int = Field(
        default=500, ge=0,
        description="Stored listings a complete whole-site crawl did not reach that are rechecked the same night "
        "(their pages asked directly; 404/410 marks them gone with the date). 0: none.",
    )
    currency_rates: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "USD": Decimal("1"),
            "EUR": Decimal("1.08"),
            "GBP": Decimal("1.27"),
            "CAD": Decimal("0.73"),
            "AUD": Decimal("0.66"),
            "JPY": Decimal("0.0067"),
            "CNY": Decimal("0.14"),
            "INR": Decimal("0.012"),
        },
        description="Value of one unit of each currency in a common unit (USD by default), used to compare "
        "prices with MSRP. In TOML: [currency_rates] EUR = 1.08.",
    )
    scan_file: Path | None = Field(
        default=None,
        description="What the nightly scan crawls (shops and marketplace profiles, YAML; see docs/operations.md). "
        "Unset: <data_dir>/scan.yaml.",
    )
    profiles_dir: Path | None = Field(
        default=None,
        description="Extra folder of marketplace profile YAML files, beside the built-in ones.",
    )
    browser_executable: Path = Field(
        default=Path("/usr/bin/chromium"),
        description="Chromium that renders the pages of profiles with render: browser (Playwright's own "
        "browser download is never used).",
    )

    # --- API sources: marketplace APIs read through their connectors (docs/sources.md) ------------------
    api_secrets_dir: Path | None = Field(
        default=None,
        description="Folder of API credential files, one value per file named after it (ebay_client_id, "
        "ebay_client_secret, etsy_keystring, etsy_shared_secret, aliexpress_app_key, aliexpress_app_secret, "
        "aliexpress_tracking_id), e.g. mounted secrets. LOOKALIKE_<NAME> variables win. Never printed.",
    )
    ebay_api_url: str = Field(
        default="https://api.ebay.com",
        description="Base URL of the eBay APIs (https://api.sandbox.ebay.com for the sandbox).",
    )
    ebay_marketplace_id: str = Field(
        default="EBAY_US", description="eBay site searched (X-EBAY-C-MARKETPLACE-ID) when a source names none."
    )
    etsy_api_url: str = Field(default="https://openapi.etsy.com", description="Base URL of the Etsy Open API v3.")
    aliexpress_api_url: str = Field(
        default="https://api-sg.aliexpress.com", description="Base URL of the AliExpress Open Platform."
    )

    # --- the signature stage: image work off the crawl's path (docs/performance.md) ----------------------
    signature_workers: int = Field(
        default=0, ge=0, le=64,
        description="Processes computing image signatures. 0: one per CPU core, at most 4.",
    )
    signature_pixel_budget: int = Field(
        default=60_000_000, gt=0,
        description="Most pixels decoded at once by all signature workers together (about 4 bytes of memory "
        "per pixel); an image larger than the budget is decoded alone.",
    )
    signature_ocr: bool = Field(
        default=True,
        description="Read the words printed in each image (OCR, the engine of ocr_engine) when signing it."
    )
    ocr_engine: Literal["rapidocr", "tesseract"] = Field(
        default="rapidocr",
        description="Engine that reads photo text: rapidocr (PP-OCRv6 models shipped in its wheel, run by ONNX "
        "Runtime) or tesseract (Debian's tesseract-ocr). Measured in docs/matching.md, 'Photo text'.",
    )
    signature_ocr_timeout: float = Field(
        default=2.0, gt=0, le=60, description="Seconds OCR may spend on one image; after that its text is left unread."
    )
    dask_address: str | None = Field(
        default=None,
        description="Dask scheduler address (tcp://host:8786) for the signature stage; 'local' starts a local "
        "cluster. Unset: a local process pool.",
    )

    # --- mail: owner digests and operator alerts (docs/digests.md) ---------------------------------------
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that sends digests and alerts. Unset: they are written as .eml files into "
        "digests_dir instead.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port (587 for STARTTLS, 465 for TLS).")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (upgrade a plain connection), tls (TLS from the start) or none (loopback only).",
    )
    smtp_user: str | None = Field(
        default=None,
        description="SMTP login. Its password comes from the environment variable LOOKALIKE_SMTP_PASSWORD or "
        "the file smtp_password_file, never from this file or the registry.",
    )
    smtp_password_file: Path | None = Field(
        default=None, description="File holding the SMTP password (first line), e.g. a mounted secret."
    )
    smtp_from: str = Field(default="lookalike@localhost", description="From address of digests and alerts.")
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds before an SMTP connection or reply is given up.")
    smtp_retries: int = Field(
        default=3, ge=0, description="Retries of a digest the SMTP server refused or could not take, per run."
    )
    smtp_retry_delay: float = Field(
        default=5.0, ge=0, description="Seconds before the first SMTP retry; doubled for each later one."
    )
    digests_dir: Path | None = Field(
        default=None, description="Where digests and alerts are written as .eml files. Unset: <data_dir>/digests."
    )
    review_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the review app, as brand owners reach it; digests link to <review_url>/matches/ID.",
    )
    digest_max_items: int = Field(
        default=50, ge=1, description="Items shown with photos in one digest; the attached CSV holds them all."
    )
    digest_score_change: float = Field(
        default=0.05, gt=0, le=1,
        description="A score change of at least this much (0..1) puts a match in the next digest again.",
    )
    digest_lease_seconds: int = Field(
        default=900, ge=10,
        description="Seconds a run owns a digest it is sending; after that another run treats it as interrupted.",
    )
    alert_to: list[str] = Field(
        default_factory=list,
        description="Operator addresses that get alerts (failed crawls, suspect spikes). In TOML: a list.",
    )
    spike_window_nights: int = Field(
        default=7, ge=1, description="Spike rule: nights before tonight whose new suspects make the average."
    )
    spike_factor: float = Field(
        default=3.0, gt=1, description="Spike rule: tonight's new suspects must be at least this many times the average."
    )
    spike_min_new: int = Field(
        default=10, ge=1, description="Spike rule: fewest new suspects of one brand in one night that can be a spike."
    )

    evidence_screenshots: bool = Field(
        default=True,
        description="Add a full-page screenshot to evidence where Chromium is installed (rendered offline from the "
        "captured page, scripts off, no network).",
    )
    evidence_max_images: int = Field(
        default=8, ge=0, description="Listing images kept with one evidence capture (each up to max_image_bytes)."
    )
    evidence_prune_days: int = Field(
        default=90, ge=1, description="Days after which evidence of dismissed matches is pruned by `evidence prune`."
    )
    takedown_score_floor: float = Field(
        default=0.8, ge=0, le=1,
        description="Notice guard: matches scored below this are not packed unless forced with a reason.",
    )
    takedown_verify_days: int = Field(
        default=14, ge=1, description="Days a reported listing is rechecked for removal after its notice was packed."
    )

    # --- discovery: look-alike domains (docs/discovery.md) -----------------------------------------------
    ct_logs: list[str] = Field(
        default_factory=list,
        description="Certificate Transparency logs the monitor follows: URL prefixes, 'static:' before a Static "
        "CT API log (its monitoring prefix). In TOML: a list.",
    )
    ct_batch_size: int = Field(
        default=256, ge=1, le=10_000,
        description="Entries asked of an RFC 6962 log per get-entries request (a log may return fewer: its cap).",
    )
    ct_max_entries_per_run: int = Field(
        default=200_000, ge=1, description="Most entries one monitor run reads from one log; the next run goes on."
    )
    discovery_resolver: str | None = Field(
        default=None,
        description="Nameserver the permutation check asks, as address:port (e.g. 127.0.0.1:5353). Unset: the "
        "system's resolvers (/etc/resolv.conf).",
    )
    discovery_queries_per_second: float = Field(
        default=20.0, gt=0, le=1000, description="Most DNS queries per second the permutation check sends."
    )
    discovery_daily_budget: int = Field(
        default=20_000, ge=0, description="Most DNS queries the permutation check sends in one UTC day."
    )
    discovery_min_score: float = Field(
        default=0.5, ge=0, le=1, description="Lowest score (0..1) that makes a domain a candidate."
    )
    nrd_max_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0,
        description="Largest newly-registered-domain list read (zip or text, after unzipping), in bytes.",
    )

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, config_file_path()))

    @property
    def database_url(self) -> str:
        """The URL in force: ``db_url`` or the SQLite file in ``data_dir``."""
        return default_database_url(self.db_url, self.data_dir)

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def evidence_dir(self) -> Path:
        """Content-addressed evidence files (WARC, images, screenshots, manifests)."""
        return self.data_dir / "evidence"

    @property
    def digests_folder(self) -> Path:
        """Where .eml digests and alerts go: ``digests_dir`` or ``<data_dir>/digests``."""
        return self.digests_dir or self.data_dir / "digests"

    def smtp_password(self) -> str | None:
        """``$LOOKALIKE_SMTP_PASSWORD``, else the first line of ``smtp_password_file``, else None.

        Read when a message is sent, never stored in the settings object (so ``lookalike config`` cannot
        print it); an unreadable file is a ``ConfigError``.
        """
        value = os.environ.get(ENV_PREFIX + "SMTP_PASSWORD")
        if value:
            return value
        if self.smtp_password_file is None:
            return None
        try:
            lines = self.smtp_password_file.expanduser().read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"smtp_password_file {self.smtp_password_file}: {exc.strerror or exc}") from None
        return lines[0] if lines else None

    def api_credential(self, name: str) -> str | None:
        """An API credential (``ebay_client_secret``...): ``$LOOKALIKE_<NAME>``, else the first line of
        ``<api_secrets_dir>/<name>``, else None.

        Read when a crawl starts, never stored in the settings object, so ``lookalike config`` and the
        settings a crawl child receives cannot show it; an unreadable file is a ``ConfigError``.
        """
        if not name.replace("_", "").isalnum():
            raise ConfigError(f"not a credential name: {name[:40]!r}")
        value = os.environ.get(ENV_PREFIX + name.upper())
        if value:
            return value.strip()
        if self.api_secrets_dir is None:
            return None
        path = self.api_secrets_dir.expanduser() / name
        if not path.is_file():
            return None
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"api_secrets_dir: {name}: {exc.strerror or exc}") from None
        return lines[0].strip() if lines and lines[0].strip() else None

    @property
    def rendered_user_agent(self) -> str:
        return self.user_agent.replace("{contact_url}", self.contact_url)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings in force; a bad file or value raises ``ConfigError`` with one readable line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def describe_sources(settings: Settings) -> list[tuple[str, Any, str, str]]:
    """(name, value, source, description) for every setting, source being env, file or default."""
    path = config_file_path()
    file_keys: set[str] = set()
    if path.is_file():
        file_keys = set(_TomlSource(Settings, path).data)
    rows = []
    for name, field in Settings.model_fields.items():
        env_name = ENV_PREFIX + name.upper()
        if env_name in os.environ:
            source = f"env {env_name}"
        elif name in file_keys:
            source = f"file {path}"
        else:
            source = "default"
        rows.append((name, getattr(settings, name), source, field.description or ""))
    rows.append(("database_url (in force)", settings.database_url, "derived", "The database actually used."))
    return rows
