"""Scrapy components in isolation: settings, middlewares (via a real Crawler), link helpers, profiles."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from parsel import Selector
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest, NotConfigured
from scrapy.utils.test import get_crawler

from core.errors import LookalikeError
from core.settings import load_settings
from crawlers.items import Listing
from crawlers.middlewares.backoff import RetryBackoffMiddleware
from crawlers.middlewares.netguard import PrivateNetworkGuard
from crawlers.middlewares.tracking import TrackingParamsMiddleware
from crawlers.pipelines.images import outcome_for_exception
from crawlers.pipelines.storage import crawl_failure
from crawlers.pipelines.validate import ValidateListingPipeline
from crawlers.profiles import ProfileError, load_profile, parse_profile, profile_paths
from crawlers.run import CrawlRequest, crawl_request, validate_start_url
from crawlers.settings import scrapy_settings
from crawlers.spiders.links import page_links, robots_sitemaps, same_site_as
from crawlers.spiders.search import select_urls


def project_crawler(values: dict | None = None):
    """A crawler with ``crawlers/settings.py``'s values (where every default lives) and ``values``."""
    import crawlers.settings as project

    base = {name: value for name, value in vars(project).items() if name.isupper() and name != "ADDONS"}
    return get_crawler(settings_dict={**base, **(values or {})})

# ------------------------------------------------------------------------------------- settings
def test_scrapy_settings_are_safe_and_follow_lookalike_settings(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path, contact_url="https://brand.example/crawler",
                             concurrent_requests_per_domain=3, max_page_bytes=1234, http_cache=False)
    values = scrapy_settings(settings)
    assert values["TELNETCONSOLE_ENABLED"] is False
    assert values["REMOTE_CONTROL_ENABLED"] is False
    assert values["ROBOTSTXT_OBEY"] is True
    assert values["HTTPCACHE_ENABLED"] is False
    assert "Lookalike" in values["USER_AGENT"] and "https://brand.example/crawler" in values["USER_AGENT"]
    assert values["CONCURRENT_REQUESTS_PER_DOMAIN"] == 3 and values["DOWNLOAD_MAXSIZE"] == 1234
    assert values["AUTOTHROTTLE_ENABLED"] is True
    cached = scrapy_settings(load_settings(data_dir=tmp_path, http_cache=True))
    assert cached["HTTPCACHE_ENABLED"] is True and cached["HTTPCACHE_DIR"] == str(tmp_path / "httpcache")
    # every setting name we override exists in Scrapy 2.19 (a typo would silently do nothing)
    from scrapy.settings import default_settings

    ours = {k for k in values if not k.startswith("LOOKALIKE_")}
    # ...or, for PLAYWRIGHT_*, a name scrapy-playwright's handler reads
    import inspect
    import re

    import scrapy_playwright.handler

    playwright_names = set(re.findall(r'"(PLAYWRIGHT_[A-Z_]+)"', inspect.getsource(scrapy_playwright.handler)))
    unknown = {k for k in ours if not hasattr(default_settings, k) and k not in playwright_names}
    assert unknown == set()
    assert {k for k in ours if k.startswith("PLAYWRIGHT_")} <= playwright_names


# ---------------------------------------------------------------------------------- middlewares
class _Spider:
    trusted_netlocs = {("127.0.0.1", 8000)}


@pytest.mark.parametrize(
    ("url", "internal", "allow", "expected"),
    [
        ("https://shop.example/p/1", False, False, None),
        ("ftp://shop.example/p/1", False, False, "scheme"),
        ("file:///etc/passwd", False, False, "scheme"),
        ("http://127.0.0.1:8000/p/1", True, False, None),  # the start URL's own host and port
        ("http://127.0.0.1:5432/", True, False, "private_address"),  # another port on that host
        ("http://169.254.169.254/latest/meta-data", True, False, "private_address"),
        ("http://10.1.2.3/", True, True, None),  # allow_private_network
        ("http://nowhere.invalid/", None, False, "unresolvable"),
    ],
)
def test_netguard_refusal_reasons(url, internal, allow, expected):
    reason = PrivateNetworkGuard.refusal_reason(url, trusted=_Spider.trusted_netlocs, allow_private=allow,
                                                internal=internal)
    assert reason == expected


def test_netguard_refuses_and_counts_in_stats():
    import asyncio

    crawler = project_crawler({"LOOKALIKE_ALLOW_PRIVATE_NETWORK": False})
    crawler.spider = _Spider()
    guard = PrivateNetworkGuard.from_crawler(crawler)
    asyncio.run(guard.process_request(Request("http://127.0.0.1:8000/ok")))
    for url in ("http://10.0.0.7/a.jpg", "http://[::1]:9/x"):
        with pytest.raises(IgnoreRequest):
            asyncio.run(guard.process_request(Request(url)))
    assert crawler.stats.get_value("netguard/refused_count") == 2
    assert crawler.stats.get_value("netguard/refused/private_address") == 2


def test_tracking_middleware_strips_and_counts():
    crawler = project_crawler()
    middleware = TrackingParamsMiddleware.from_crawler(crawler)
    out = middleware.get_processed_request(Request("https://s.example/p/1?utm_source=a&color=red&fbclid=z#top"), None)
    assert out.url == "https://s.example/p/1?color=red"
    same = Request("https://s.example/p/1?color=red")
    assert middleware.get_processed_request(same, None) is same
    assert crawler.stats.get_value("tracking/stripped_count") == 1
    with pytest.raises(NotConfigured):
        TrackingParamsMiddleware.from_crawler(project_crawler({"LOOKALIKE_STRIP_TRACKING": False}))


@pytest.mark.parametrize(
    ("retry_times", "retry_after", "expected"),
    [(0, None, 0.0), (1, None, 1.0), (2, None, 2.0), (3, None, 4.0), (10, None, 60.0), (1, 5.0, 5.0),
     (1, 600.0, 60.0)],
)
def test_backoff_delays(retry_times, retry_after, expected):
    assert RetryBackoffMiddleware.delay_for(retry_times, base=1.0, cap=60.0, retry_after=retry_after) == expected


def test_backoff_reads_retry_after_and_switches_off():
    assert RetryBackoffMiddleware.parse_retry_after(b"7") == 7.0
    assert RetryBackoffMiddleware.parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert RetryBackoffMiddleware.parse_retry_after(None) is None
    with pytest.raises(NotConfigured):
        RetryBackoffMiddleware.from_crawler(project_crawler({"LOOKALIKE_RETRY_BACKOFF_BASE": 0}))


def test_image_download_failures_map_to_statuses():
    assert outcome_for_exception(IgnoreRequest("robots")).status == "refused"
    assert outcome_for_exception(DownloadCancelledError("larger than download max size")).status == "too_large"
    assert outcome_for_exception(DownloadTimeoutError("slow")).status == "http_error"
    other = outcome_for_exception(OSError("connection reset"))
    assert (other.status, other.error) == ("http_error", "OSError: connection reset")
    assert outcome_for_exception(DownloadCancelledError("cut"), size_cancelled=True).status == "too_large"


def test_validate_pipeline_drops_with_reasons():
    crawler = project_crawler()
    pipeline = ValidateListingPipeline.from_crawler(crawler)
    assert pipeline.drop_reason(Listing(url="https://s.example/p/1?utm_source=x", title="A")) is None
    assert pipeline.drop_reason(Listing(url="https://s.example/p/1", title="A again")) == "duplicate"
    assert pipeline.drop_reason(Listing(url="https://s.example/p/2")) == "no_title"
    assert pipeline.drop_reason(Listing(url="https://s.example/p/3", title="B", external_id="9")) is None
    assert pipeline.drop_reason(Listing(url="https://s.example/p/4", title="B", external_id="9")) == "duplicate"


# ---------------------------------------------------------------------------------------- links
PAGE = """<html><head><link rel="next" href="/c?page=2"><link rel="stylesheet" href="/s.css"></head><body>
<a href="/p/1?utm_source=x">One</a> <a href="/p/1">One again</a> <a href="https://other.example/p/9">Away</a>
<a href="/files/manual.pdf">PDF</a> <a href="/c?page=3">Next &raquo;</a> <a href="javascript:alert(1)">x</a>
<a href="http://127.0.0.1:9999/admin">internal</a> <a href="/login" rel="nofollow">login</a>
<a href="https://m.shopdemo.com/p/2">mobile</a></body></html>"""


def test_page_links_same_site_pagination_first_and_deduplicated():
    links = page_links(Selector(text=PAGE), base_url="https://www.shopdemo.com/c", sites=["https://www.shopdemo.com/"])
    assert links == [
        ("https://www.shopdemo.com/c?page=2", True),
        ("https://www.shopdemo.com/c?page=3", True),
        ("https://www.shopdemo.com/p/1", False),
        ("https://m.shopdemo.com/p/2", False),
    ]


@pytest.mark.parametrize(
    ("url", "sites", "expected"),
    [
        ("https://m.shopdemo.com/x", ["https://www.shopdemo.com/"], True),
        ("https://shopdemo.com.evil.test/x", ["https://shopdemo.com/"], False),
        ("http://127.0.0.1:8000/x", ["http://127.0.0.1:8000/"], True),
        ("http://127.0.0.1:5432/x", ["http://127.0.0.1:8000/"], False),
        ("http://localhost:1/x", ["http://localhost:2/"], False),
    ],
)
def test_same_site(url, sites, expected):
    assert same_site_as(url, sites) is expected


def test_robots_sitemaps():
    text = "User-agent: *\nDisallow: /cart/\nSitemap: /sitemap_index.xml\nsitemap: https://s.example/b.xml\n"
    assert robots_sitemaps(text, base_url="https://s.example/robots.txt") == [
        "https://s.example/sitemap_index.xml", "https://s.example/b.xml"]


def test_select_urls_takes_attributes_or_element_hrefs():
    from crawlers.profiles import SelectorSpec

    sel = Selector(text='<a class="r" href="/p/1">1</a><a class="r" href="/p/2">2</a><a class="r">none</a>')
    base = "https://m.example/search?q=x"
    assert select_urls(sel, SelectorSpec(css="a.r"), base_url=base) == ["https://m.example/p/1", "https://m.example/p/2"]
    assert select_urls(sel, SelectorSpec(xpath="//a/@href"), base_url=base) == ["https://m.example/p/1",
                                                                                 "https://m.example/p/2"]


# ------------------------------------------------------------------------------------- profiles
def test_builtin_profiles_load_and_build_search_urls():
    assert {"demo", "ebay"} <= set(profile_paths())
    demo = load_profile("demo", base_url="http://127.0.0.1:8000/")
    assert demo.search_url("fu11ips lip & gloss") == "http://127.0.0.1:8000/search?q=fu11ips+lip+%26+gloss"
    ebay = load_profile("ebay")
    assert ebay.search_url("x", page=2).startswith("https://www.ebay.com/sch/i.html?_nkw=x&_pgn=2")
    assert ebay.download_delay == 3.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nsearch: {url: /s, result_links: a}", "must contain {query}"),
        ("name: x\nkind: marketplace", "needs a search section"),
        ("name: Bad Name\nkind: shop", "name"),
        ("name: x\nkind: shop\nsurprise: 1", "surprise"),
        ("name: x\nkind: shop\nparser: {titel: 'css:h1'}", "titel"),
        ("name: x\nsearch: {url: '/s?q={query}', result_links: {css: a, xpath: //a}}", "exactly one"),
        ("- just a list", "a profile is a mapping"),
        ("name: [unclosed", "not valid YAML"),
    ],
)
def test_profile_errors_are_one_clear_line(text, message):
    with pytest.raises(ProfileError) as err:
        parse_profile(text, source="p.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_user_profiles_dir_adds_profiles(tmp_path: Path):
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nbase_url: https://m.example\nsearch:\n  url: /find?k={query}\n  result_links: 'a.hit'\n"
        "parser:\n  title: 'css:h1::text'\n  price_text: 'css:.cost::text'\n", encoding="utf-8")
    profile = load_profile("mine", extra_dir=tmp_path)
    assert profile.search_url("a b") == "https://m.example/find?k=a+b"
    with pytest.raises(ProfileError, match="no profile named"):
        load_profile("absent", extra_dir=tmp_path)


# ---------------------------------------------------------------------------------- crawl request
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to crawl"),
        ({"start_urls": ["ftp://x.example/"]}, "not an http\\(s\\) URL"),
        ({"start_urls": ["https://x.example/"], "queries": ["a"]}, "needs a --profile"),
        ({"profile": "demo", "queries": ["a"]}, "no base_url"),
        ({"profile": "demo", "base_url": "http://127.0.0.1:1"}, "at least one --query"),
        ({"profile": "demo", "start_urls": ["https://x.example/"]}, "not both"),
        ({"start_urls": ["https://x.example/"], "platform": "magento"}, "unknown platform"),
    ],
)
def test_crawl_request_errors(kwargs, message):
    with pytest.raises(LookalikeError, match=message):
        crawl_request(CrawlRequest(**kwargs))


def test_crawl_request_picks_the_spider():
    assert crawl_request(CrawlRequest(start_urls=["https://x.example/"]))[0] == "generic"
    assert crawl_request(CrawlRequest(start_urls=["https://x.example/"], platform="shopify"))[0] == "shopify"
    spider, kwargs = crawl_request(CrawlRequest(profile="demo", base_url="http://127.0.0.1:1", queries=["a", " ", "b"]))
    assert spider == "search" and kwargs["queries"] == ["a", "b"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://shop.example:99999/", "Port out of range"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://a b/", "whitespace"),
        ("http://shop.example/\x07", "control characters"),
        ("http:///nohost", "no host"),
        ("http://shop.example:0/", "port must be 1-65535"),
        ("http://-bad-.example/", "not a valid host name"),
        ("http://sh\u00a0op.example/", "whitespace"),
        ("gopher://shop.example/", "not an http\\(s\\) URL"),
        ("https://" + "a" * 3000 + ".example/", "longer than"),
    ],
)
def test_bad_start_urls_are_one_line_errors_before_anything_runs(url, message):
    with pytest.raises(LookalikeError, match=message) as caught:
        crawl_request(CrawlRequest(start_urls=[url]))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/p", "https://[::1]:8443/", "https://b\u00fccher.example/",
                                 "https://shop.example/p?id=7#top", "http://localhost/"])
def test_good_start_urls_pass(url):
    assert validate_start_url(f"  {url} ") == url


def test_crawl_request_is_typed_and_immutable():
    request = CrawlRequest(start_urls=["https://x.example/"], queries=["a"], scrapy_overrides=None)
    assert request.start_urls == ("https://x.example/",) and request.scrapy_overrides == {}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.scope = "recheck"


# ------------------------------------------------------------------------------ honest crawl states
def _stats(**values):
    return {"lookalike/pages": 0, **{k.replace("__", "/"): v for k, v in values.items()}}


@pytest.mark.parametrize(
    ("stats", "words", "retryable"),
    [
        ({"robotstxt/forbidden": 3}, "robots.txt denied 3 request(s)", False),
        ({"downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError": 4}, "4 request(s) timed out", True),
        ({"downloader/exception_type_count/scrapy.exceptions.DownloadConnectionRefusedError": 2},
         "the connection was refused 2 time(s)", True),
        ({"downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError": 1},
         "1 page(s) were larger than the download size limit", False),
        ({"lookalike/redirect_loops": 1}, "redirect loop", False),
        ({"netguard/refused/private_address": 2}, "private-network guard refused 2", False),
        ({}, "no page answered", True),
    ],
)
def test_a_crawl_without_product_pages_fails_with_its_cause(stats, words, retryable):
    failure = crawl_failure(_stats() | stats, reason="finished", scope="full", products=0, gone_evidence=0,
                            storage_errors=0)
    assert failure is not None
    assert failure[0].startswith("no product page was fetched: ") and words in failure[0]
    assert failure[1] is retryable


def test_pages_without_products_fail_and_a_retry_would_not_help():
    failure = crawl_failure({"lookalike/pages": 5}, reason="finished", scope="full", products=0, gone_evidence=0,
                            storage_errors=0)
    assert failure == ("none of the 5 page(s) fetched was a product page: the pages carry no product markup or "
                       "price", False)


@pytest.mark.parametrize(
    ("scope", "stats", "products", "gone", "failed"),
    [
        ("full", {"lookalike/pages": 3}, 2, 0, False),
        ("recheck", {"lookalike/pages": 2}, 0, 2, False),  # 404/410 answers are evidence, not a failure
        ("recheck", {"robotstxt/forbidden": 2}, 0, 0, True),
        ("search", {"lookalike/pages": 1}, 0, 0, False),  # an empty result page is an answer
        ("search", {"robotstxt/forbidden": 1}, 0, 0, True),
    ],
)
def test_which_crawls_expected_pages(scope, stats, products, gone, failed):
    failure = crawl_failure(stats, reason="finished", scope=scope, products=products, gone_evidence=gone,
                            storage_errors=0)
    assert (failure is not None) is failed


def test_an_interrupted_crawl_fails_whatever_it_stored():
    failure = crawl_failure({"lookalike/pages": 9}, reason="shutdown", scope="full", products=9, gone_evidence=0,
                            storage_errors=0)
    assert failure == ("the crawl ended with 'shutdown'", True)


@pytest.mark.parametrize(("delay", "expected"), [(None, None), (0, None), (-3, None), (2.5, 2.5), (600, 30.0)])
def test_crawl_delay_is_bounded(delay, expected):
    from crawlers.middlewares.crawldelay import CrawlDelayMiddleware

    assert CrawlDelayMiddleware.bounded(delay, cap=30.0) == expected


def test_crawl_delay_middleware_off_without_robots():
    from crawlers.middlewares.crawldelay import CrawlDelayMiddleware

    with pytest.raises(NotConfigured):
        CrawlDelayMiddleware.from_crawler(project_crawler({"ROBOTSTXT_OBEY": False}))


def test_every_lookalike_scrapy_setting_is_documented():
    import crawlers.settings as module

    docs = (Path(__file__).resolve().parent.parent / "docs" / "crawling.md").read_text(encoding="utf-8")
    names = {name for name in vars(module) if name.startswith("LOOKALIKE_")}
    names |= {"LOOKALIKE_CRAWL_RUN_ID", "LOOKALIKE_SCAN_ID", "LOOKALIKE_CRAWL_PARAMS", "LOOKALIKE_DATABASE_URL",
              "LOOKALIKE_SETTINGS_JSON", "LOOKALIKE_STRIP_TRACKING"}
    assert sorted(n for n in names if f"`{n}`" not in docs) == []


# ------------------------------------------------------------------- a hand-run scrapy crawl (bug 3)
def test_a_hand_run_crawl_reads_lookalike_environment_settings(monkeypatch, tmp_path):
    from scrapy.settings import Settings as ScrapySettings

    import crawlers.settings as project
    from crawlers.settings import LookalikeSettingsAddon

    monkeypatch.chdir(tmp_path)  # no lookalike.toml here
    monkeypatch.setenv("LOOKALIKE_USER_AGENT", "HandRun/1.0")
    monkeypatch.setenv("LOOKALIKE_OBEY_ROBOTS_TXT", "false")
    monkeypatch.setenv("LOOKALIKE_MAX_PAGE_BYTES", "123456")
    monkeypatch.setenv("LOOKALIKE_ALLOW_PRIVATE_NETWORK", "true")
    settings = ScrapySettings()
    settings.setmodule(project, priority="project")  # what scrapy.cfg's settings module gives
    settings.set("DOWNLOAD_TIMEOUT", 7, priority="cmdline")  # -s on the command line still wins
    LookalikeSettingsAddon().update_settings(settings)
    assert settings.get("USER_AGENT") == "HandRun/1.0"
    assert settings.getbool("ROBOTSTXT_OBEY") is False
    assert settings.getint("DOWNLOAD_MAXSIZE") == 123456
    assert settings.getbool("LOOKALIKE_ALLOW_PRIVATE_NETWORK") is True
    assert settings.getint("DOWNLOAD_TIMEOUT") == 7
    assert "crawlers.settings.LookalikeSettingsAddon" in project.ADDONS


def test_a_crawl_started_by_run_keeps_its_own_settings(monkeypatch):
    from scrapy.settings import Settings as ScrapySettings

    from crawlers.settings import LookalikeSettingsAddon

    monkeypatch.setenv("LOOKALIKE_USER_AGENT", "FromTheEnvironment/1.0")
    values = scrapy_settings(load_settings(user_agent="Explicit/2.0"))
    settings = ScrapySettings(values)
    LookalikeSettingsAddon().update_settings(settings)
    assert settings.get("USER_AGENT") == "Explicit/2.0"


# ------------------------------------------------------------------------ retry backoff (bug 2)
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_waiting_retry_holds_no_place_and_is_released_on_time():
    from crawlers.middlewares.backoff import RETRY_AFTER_META, BackoffScheduler

    clock = FakeClock()
    crawler = project_crawler({"LOOKALIKE_RETRY_BACKOFF_BASE": 1.0,
                               "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue"})
    scheduler = BackoffScheduler.from_crawler(crawler)
    scheduler.clock = clock
    scheduler.open(scrapy_spider())
    retry = Request("https://s.example/busy", dont_filter=True, meta={"retry_times": 1, RETRY_AFTER_META: 60.0})
    other = Request("https://other.example/p/1")
    assert scheduler.enqueue_request(retry) and scheduler.enqueue_request(other)
    assert scheduler.next_request() is other  # the other site goes on while the retry waits
    assert scheduler.next_request() is None and scheduler.has_pending_requests() and len(scheduler) == 1
    clock.now += 59.0
    assert scheduler.next_request() is None
    clock.now += 1.0
    released = scheduler.next_request()
    assert released is not None and released.url == retry.url
    assert not scheduler.has_pending_requests()
    # Queued again (the engine may do so) it does not wait a second time for the same retry.
    assert scheduler.delay_of(released) == 0.0
    assert crawler.stats.get_value("backoff/seconds") == 60.0


def scrapy_spider():
    import scrapy

    return scrapy.Spider(name="test")
