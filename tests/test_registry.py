"""The brand registry: validation reports every mistake with its place; import is idempotent."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from services.registry.changes import Change, ChangeKind
from services.registry.load import load_registry
from services.registry.queries import list_brands
from services.registry.specification import RegistryInvalid, check_brand, check_registry, json_schema
from services.registry.sync import import_registry
from storage.imagestore import ImageStore
from storage.models import Brand, Mark, Product, ReferenceImage

REPO = Path(__file__).resolve().parent.parent


def packshot(path: Path, colour: str, label: str) -> Path:
    img = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((100, 40, 220, 290), radius=30, fill=colour)
    draw.text((120, 150), label, fill="white")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images", max_bytes=5_000_000, max_pixels=10_000_000)


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    packshot(tmp_path / "refs/fullips/flp-001-a.png", "#c2185b", "FULLIPS")
    packshot(tmp_path / "refs/fullips/flp-002-a.png", "#7b1fa2", "FULLIPS 2")
    packshot(tmp_path / "refs/zentro/z-1.png", "#333333", "ZENTRO")
    path = tmp_path / "registry.yaml"
    path.write_text(textwrap.dedent("""\
        brands:
          - name: Fullips
            owner: Et Al Beauty
            digest_to: [owner@example.com]
            category: cosmetics
            keywords: [lip, plumper]
            aliases: [Full Lips]
            authorized_sellers: [Et Al Beauty Official Store]
            products:
              - name: Fullips Lip Plumper
                sku: FLP-001
                msrp: 24.00
                currency: USD
                images: [refs/fullips/flp-001-a.png]
              - name: Fullips Night Mask
                sku: FLP-002
                msrp: 19.5
                currency: eur
                images: [refs/fullips/flp-002-a.png]
          - name: Zentro
            owner: Zentro Devices
            products:
              - name: Zentro X2 Tracker
                sku: ZX2
                msrp: 59
                currency: GBP
                images: [refs/zentro/z-1.png]
        """), encoding="utf-8")
    return path


def counts(session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in (Brand, Mark, Product, ReferenceImage)}


def test_import_twice_changes_nothing_the_second_time(database, registry_file: Path, store: ImageStore) -> None:
    registry = load_registry(registry_file, store=store)
    with database.session() as s:
        first = import_registry(s, registry, store)
    assert Change("Fullips", "", ChangeKind.CREATED, "created") in first.changes
    assert Change("Fullips", "product FLP-001", ChangeKind.PRODUCT, "added") in first.changes
    assert "brand Fullips: created" in first.lines() and "brand Fullips: product FLP-001 added" in first.lines()
    with database.session() as s:
        before = counts(s)
        second = import_registry(s, load_registry(registry_file, store=store), store)
        assert counts(s) == before
    assert second.changes == []
    assert before == {"Brand": 2, "Mark": 3, "Product": 3, "ReferenceImage": 3}
    with database.session() as s:
        rows = {r["brand"]: r for r in list_brands(s)}
        product = s.scalar(select(Product).where(Product.sku == "FLP-002"))
        assert product.currency == "EUR" and str(product.msrp) == "19.50"
        image = s.scalar(select(ReferenceImage).where(ReferenceImage.product_id == product.id)).image
        assert image.signature.status == "ok", "reference images are signed by the import"
        assert set(image.signature.fields["hashes"]) >= {"phash", "dhash", "whash"}
        assert (store.root / image.path).is_file()
    assert rows["Fullips"]["aliases"] == ["Full Lips"] and rows["Zentro"]["images"] == 1


def test_edited_registry_reports_what_changed(database, registry_file: Path, store: ImageStore) -> None:
    with database.session() as s:
        import_registry(s, load_registry(registry_file, store=store), store)
    data = yaml.safe_load(registry_file.read_text())
    fullips = data["brands"][0]
    fullips["aliases"] = ["FullLips", "Full Lips"]
    fullips["products"][0]["msrp"] = 22
    fullips["products"].pop(1)
    fullips["authorized_sellers"].append("Beauty Depot")
    registry_file.write_text(yaml.safe_dump(data))
    with database.session() as s:
        report = import_registry(s, load_registry(registry_file, store=store), store)
        assert s.scalar(select(func.count()).select_from(Product)) == 2
    assert sorted(report.lines()) == sorted([
        "brand Fullips: mark 'FullLips' added",
        "brand Fullips: authorized seller 'Beauty Depot' added",
        "brand Fullips: product FLP-001: msrp 24.00 -> 22",
        "brand Fullips: product FLP-002 removed",
    ])
    assert sorted((c.brand, c.kind) for c in report.changes) == sorted([
        ("Fullips", ChangeKind.MARK), ("Fullips", ChangeKind.AUTHORIZED_SELLER), ("Fullips", ChangeKind.PRODUCT),
        ("Fullips", ChangeKind.PRODUCT)])


BROKEN = """\
brands:
  - owner: Nameless Co
    products: []
  - name: Fullips
    owner: Et Al Beauty
    colour: pink
    digest_to: [not-an-email]
    products:
      - name: Plumper
        sku: FLP-001
        msrp: -3
        currency: USD
        images: [refs/missing.jpg]
      - name: Plumper again
        sku: FLP-001
        msrp: 10
        currency: DOLLARS
        images: [refs/fake.jpg]
      - name: Gloss
        sku: FLP-003
        msrp: twelve
        currency: USD
      - name: ""
        sku: FLP-004
        msrp: 5
  - name: fullips
    owner: Someone Else
"""


def test_every_mistake_gets_one_clear_message_and_nothing_is_stored(database, tmp_path: Path, store) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs/fake.jpg").write_text("this is not a JPEG")
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(path, store=store)
    problems = caught.value.problems
    expected = [
        "brands[0].name: is required",
        "brands[1].colour: unknown key",
        "brands[1].digest_to: not an email address: 'not-an-email'",
        "brands[1].products[0].msrp: must be a positive number",
        "brands[1].products[1].currency: unknown currency 'DOLLARS'",
        "brands[1].products[2].msrp: must be a positive number",
        "brands[1].products[3].name: must not be empty",
        "brands[1].products[0].images[0]: 'refs/missing.jpg': file not found",
        "brands[1].products[1].images[0]: 'refs/fake.jpg' is not a usable image",
        # duplicates and cross-field rules are in the same report (they used to need a second run)
        "brands[1].products[1].sku: duplicate sku 'FLP-001' (also products[0])",
        "brands[1].products[3].currency: is required when msrp is given",
        "brands[2].name: duplicate brand 'fullips' (also brands[1])",
    ]
    for fragment in expected:
        assert sum(fragment in p for p in problems) == 1, (fragment, problems)
    # Once the schema errors are fixed, only the semantic ones remain.
    fixed = yaml.safe_load(BROKEN)
    fixed["brands"].pop(0)
    del fixed["brands"][0]["colour"], fixed["brands"][0]["digest_to"]
    for product in fixed["brands"][0]["products"]:
        product.update(msrp=5, images=[])
    fixed["brands"][0]["products"][1]["currency"] = "USD"
    fixed["brands"][0]["products"][3]["name"] = "Gloss 2"
    path.write_text(yaml.safe_dump(fixed))
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(path, store=store)
    assert sorted(caught.value.problems) == sorted([
        "brands[0].products[1].sku: duplicate sku 'FLP-001' (also products[0])",
        "brands[0].products[3].currency: is required when msrp is given",
        "brands[1].name: duplicate brand 'fullips' (also brands[0])",
    ])
    with database.session() as s:
        assert counts(s) == {"Brand": 0, "Mark": 0, "Product": 0, "ReferenceImage": 0}


def test_one_brand_is_checked_by_the_same_rules_as_a_file_with_errors_by_field_path() -> None:
    """What a form will use: one brand entry at a time, each message keyed by its field's path."""
    raw = yaml.safe_load(BROKEN)
    _spec, file_problems = check_registry(raw)
    cross_brand = "duplicate brand"  # the one rule that needs the other brands of the file
    for b, entry in enumerate(raw["brands"]):
        check = check_brand(entry)
        prefix = f"brands[{b}]"
        mine = sorted(f"{prefix}.{path}: {m}" if path else f"{prefix}: {m}"
                      for path, messages in check.errors.items() for m in messages)
        assert mine == sorted(p for p in file_problems if p.startswith(f"{prefix}.") and cross_brand not in p)
        assert check.valid == (check.spec is not None) == (not mine)
    assert [check_brand(entry).valid for entry in raw["brands"]] == [False, False, True]  # the third: a duplicate
    check = check_brand(raw["brands"][1])
    assert check.errors["products[0].msrp"] == ["must be a positive number below 10^12"]
    assert check.errors["products[1].sku"] == ["duplicate sku 'FLP-001' (also products[0])"]
    assert check.errors["colour"] == ["unknown key"] and check.errors["products[3].currency"]
    assert check_brand(5).errors == {"": ["must be a mapping"]}
    good = check_brand({"name": "Fullips", "owner": "Et Al", "products": [
        {"name": "P", "sku": "S", "msrp": "24.00", "currency": "usd"}]})
    assert good.valid and good.spec.products[0].currency == "USD" and good.errors == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("brands:\n  - name: [unclosed\n", "bad YAML"),
        ("brands:\n  - name: A\n    name: B\n    owner: O\n", "duplicate key 'name'"),
        ("- just\n- a list\n", "must be a mapping"),
        ("brands: []\n", "brands: must not be empty"),
    ],
)
def test_unreadable_files_get_one_line(tmp_path: Path, store, text: str, message: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(path, store=store)
    assert len(caught.value.problems) == 1 and message in caught.value.problems[0]


def test_published_schema_is_current_and_accepts_the_example(registry_file: Path) -> None:
    import jsonschema

    published = json.loads((REPO / "data" / "registry.schema.json").read_text())
    assert published == json_schema(), "run: .venv/bin/lookalike brands schema > data/registry.schema.json"
    jsonschema.validate(yaml.safe_load(registry_file.read_text()), published)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"brands": [{"name": "X", "owner": "Y", "colour": 1}]}, published)


def test_cli_import_and_list(settings_env: Path, registry_file: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["brands", "import", str(registry_file)])
    assert first.exit_code == 0, first.output
    assert "brand Zentro: created" in first.output
    again = runner.invoke(app, ["brands", "import", str(registry_file)])
    assert "no changes" in again.output
    listed = runner.invoke(app, ["brands", "list"])
    assert "Fullips" in listed.output and "Zentro" in listed.output


def test_url_images_are_fetched_with_the_guard(tmp_path: Path, store: ImageStore) -> None:
    """Registry images may be http(s) URLs: fetched within limits, and refused on internal hosts unless allowed."""
    import functools
    import http.server
    import threading

    from core.netpolicy import fetch_bytes

    root = tmp_path / "site"
    packshot(root / "p.png", "#0077aa", "URL")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        path = tmp_path / "r.yaml"
        path.write_text(
            "brands:\n  - name: Urlbrand\n    owner: O\n    products:\n      - name: P\n        sku: P1\n"
            f"        images: ['{base}/p.png', '{base}/missing.png', 'file:///etc/passwd']\n"
        )

        def fetch(allow: bool):
            return functools.partial(fetch_bytes, max_bytes=1_000_000, user_agent="test", allow_private=allow,
                                     timeout=5)

        with pytest.raises(RegistryInvalid) as caught:
            load_registry(path, store=store, fetch=fetch(False))
        problems = caught.value.problems
        assert any("images[0]" in p and "private" in p for p in problems)
        assert any("images[2]" in p and "only http(s)" in p for p in problems)
        with pytest.raises(RegistryInvalid) as caught:
            load_registry(path, store=store, fetch=fetch(True))
        assert [p for p in caught.value.problems if "images[1]" in p and "HTTP 404" in p]
        assert not [p for p in caught.value.problems if "images[0]" in p]
    finally:
        server.shutdown()
        server.server_close()


def table_dump(session) -> dict[str, list[tuple]]:
    """Every row of every registry table, timestamps included, in a stable order."""
    from storage.models import AuthorizedSeller, Image, Owner

    dump = {}
    for model in (Owner, Brand, Mark, Product, ReferenceImage, AuthorizedSeller, Image):
        columns = list(model.__table__.columns)
        rows = session.execute(select(*columns).order_by(*model.__table__.primary_key.columns)).all()
        dump[model.__tablename__] = [tuple(row) for row in rows]
    return dump


def test_demo_registry_imported_twice_leaves_the_database_unchanged(database, request, tmp_path: Path) -> None:
    from scan_support import full_demo_world

    world = full_demo_world(request.config)
    store = ImageStore(tmp_path / "images", max_bytes=8_000_000, max_pixels=40_000_000)
    with database.session() as s:
        first = import_registry(s, load_registry(world / "registry.yaml", store=store), store)
    with database.session() as s:
        before = table_dump(s)
    with database.session() as s:
        second = import_registry(s, load_registry(world / "registry.yaml", store=store), store)
    with database.session() as s:
        after = table_dump(s)
    assert first.brands >= 8 and first.changes and second.changes == []
    assert after == before and len(before["reference_images"]) >= 16


# ------------------------------------------------------------------------------------- hostile input
@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("brands: 5\n", "brands: must be a list"),
        ("brands:\n  - name: A\n    owner: O\n    products: 7\n", "brands[0].products: must be a list"),
        ("brands:\n  - 5\n", "brands[0]: must be a mapping"),
        ("brands:\n  - name: A\n    owner: O\n    products: [5, {name: P, sku: 7}]\n", "brands[0].products[0]"),
        ("brands:\n  - name: A\n    owner: O\n    products:\n      - {name: P, sku: S, images: 3}\n",
         "images: must be a list"),
        ("brands:\n  - name: A\n    owner: O\n    products:\n      - {name: P, sku: S, images: [[x]]}\n",
         "images[0]: must be text"),
        ("brands:\n  - name: {a: 1}\n    owner: [x]\n", "brands[0].name: must be text"),
        ("brands:\n  - name: A\n    owner: O\n    thresholds: {1: x, text_min: [1]}\n", "thresholds"),
        ("brands:\n  - name: A\n    owner: O\n    products:\n      - {name: P, sku: S, msrp: 1e999999, "
         "currency: USD}\n", "msrp: must be a positive number"),
        ("brands:\n  - name: A\n    owner: O\n    aliases: A\n", "aliases: must be a list"),
        ("brands: !!python/object/apply:os.system [echo hi]\n", "bad YAML"),
        ("? [a, b]\n: 1\n", "bad YAML"),
        ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{k}: &{k} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, k in zip("abcdefg", "bcdefgh", strict=True)), "aliases are expanded"),
        ("[" * 3000, "bad YAML"),
    ],
)
def test_any_shape_of_input_gets_problems_never_a_traceback(tmp_path: Path, store, text: str, fragment: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(path, store=store)
    assert any(fragment in p for p in caught.value.problems), caught.value.problems


def test_image_paths_stay_in_the_registry_folder_and_the_refusal_reveals_nothing(tmp_path: Path, store) -> None:
    registry_dir = tmp_path / "registry"
    packshot(registry_dir / "refs/ok.png", "#0077aa", "OK")
    secret = packshot(tmp_path / "elsewhere/secret.png", "#aa0000", "SECRET")
    (registry_dir / "refs/link.png").symlink_to(secret)
    refs = ["../elsewhere/secret.png", "../elsewhere/absent.png", str(secret), "/nonexistent/absent.png",
            "refs/link.png", "refs/../../elsewhere/secret.png", "refs/ok.png"]
    path = registry_dir / "r.yaml"
    path.write_text("brands:\n  - name: A\n    owner: O\n    products:\n      - name: P\n        sku: S\n"
                    f"        images: {json.dumps(refs)}\n")
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(path, store=store)
    problems = {int(p.split("images[")[1].split("]")[0]): p for p in caught.value.problems}
    assert sorted(problems) == [0, 1, 2, 3, 4, 5]
    wording = {problems[i].split(": ", 2)[2] for i in range(6)}
    assert wording == {"is outside the registry folder (allow_outside_images allows it)"}
    # with the option, an outside file is read, and a missing one is then reported as missing
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(path, store=store, allow_outside_images=True)
    assert [p for p in caught.value.problems if "not found" in p] and len(caught.value.problems) == 2


class DripServer:
    """Answers every GET with 200 and a body dripped one byte every ``interval`` seconds, forever-ish."""

    def __init__(self, interval: float = 0.2) -> None:
        import http.server
        import threading

        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                import time

                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(400):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(interval)
                except OSError:
                    return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_downloads_have_an_overall_deadline_per_file_and_per_import(tmp_path: Path, store) -> None:
    import functools
    import time

    from core.netpolicy import fetch_bytes

    drip = DripServer()
    try:
        path = tmp_path / "r.yaml"
        urls = [f"{drip.url}/{n}.png" for n in range(4)]
        path.write_text("brands:\n  - name: A\n    owner: O\n    products:\n      - name: P\n        sku: S\n"
                        f"        images: {json.dumps(urls)}\n")
        fetch = functools.partial(fetch_bytes, max_bytes=1_000_000, user_agent="test", allow_private=True,
                                  timeout=5, total_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(RegistryInvalid) as caught:
            load_registry(path, store=store, fetch=fetch, fetch_budget=2.5)
        elapsed = time.monotonic() - started
    finally:
        drip.close()
    problems = caught.value.problems
    assert len(problems) == 4 and all("deadline passed" in p or "budget" in p for p in problems), problems
    assert any("budget of 2.5 s is spent" in p for p in problems)
    assert drip.hits == 3, problems  # the fourth was never started: the import's budget was spent
    assert elapsed < 10     # generous bound for a loaded machine; without deadlines this takes 80 s per file


def test_cli_export_writes_a_file_that_imports_back_unchanged(settings_env: Path, registry_file: Path,
                                                               tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["brands", "import", str(registry_file)]).exit_code == 0
    out = tmp_path / "exported"
    done = runner.invoke(app, ["brands", "export", "Fullips", "-o", str(out)])
    assert done.exit_code == 0, done.output
    (written,) = out.glob("*.yaml")
    assert list(out.rglob("*.png")) or list(out.rglob("*.jpg"))
    again = runner.invoke(app, ["brands", "import", str(written)])
    assert again.exit_code == 0 and "no changes" in again.output, again.output
    missing = runner.invoke(app, ["brands", "export", "Nope", "-o", str(out)])
    assert missing.exit_code != 0 and "no brand named 'Nope'" in str(missing.exception)
