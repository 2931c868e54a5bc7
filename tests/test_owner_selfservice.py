"""Owners serve themselves: invitations and resets, the brand registry in the browser (same rules and
messages as the YAML import, hostile uploads refused, tenant isolation, audit, re-match) and YAML
export that imports back unchanged. Driven in process (httpx over ASGI) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
import yaml
from PIL import Image
from sqlalchemy import select
from webapp_support import AppClient, World, add_users, build_world, make_settings, photo

from services import invitations
from services.registry.edit import save_brand
from services.registry.load import load_registry
from services.registry.sync import import_registry
from services.rematch import run_rematch_jobs
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import Brand, Invitation, Listing, Marketplace, Match, RegistryAudit, RematchJob, User
from webapp.app import create_app

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def world(tmp_path, db_url) -> World:
    settings = make_settings(tmp_path / "data", db_url)
    built = build_world(settings)
    add_users(settings)
    return built


@pytest.fixture
def app(world):
    application = create_app(world.settings)
    yield application
    application.state.review.database.dispose()


@pytest.fixture
def clients():
    opened: list[AppClient] = []
    yield opened
    for c in opened:
        c.close()


def client(app, clients) -> AppClient:
    clients.append(AppClient(app))
    return clients[-1]


def invite(world: World, email: str = "ada@lipco.example", **kwargs) -> invitations.IssuedLink:
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        return invitations.invite(s, world.settings, email, company=kwargs.pop("company", "Lip Co"),
                                  created_by="admin", **kwargs)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def accept(c: AppClient, link: invitations.IssuedLink, password: str = NEW_PASSWORD):
    form = c.get(path_of(link.url))
    assert form.status_code == 200, form.text
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return c.post(path_of(link.url), data={"csrf": token, "password": password, "password2": password})


def jpeg_with_exif(seed: int) -> bytes:
    img = Image.open(io.BytesIO(photo(seed))).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def brand_form(csrf: str, **extra) -> dict:
    data = {"csrf": csrf, "name": "Plumpa", "category": "cosmetics", "aliases": "Plumpa Lips\nPlumpah",
            "keywords": "lip\nplumper", "digest_to": "ada@lipco.example", "domains": "plumpa.example\nshop.plumpa.example", "product_rows": "3",
            "products[0].name": "Plumpa Lip Plumper", "products[0].sku": "PL-1", "products[0].msrp": "19.90",
            "products[0].currency": "usd", "products[1].name": "Plumpa Lip Gloss", "products[1].sku": "PL-2",
            "products[1].msrp": "12", "products[1].currency": "USD", "trademark_rows": "1",
            "digest.frequency": "daily", "digest.enabled": "on"}
    data.update(extra)
    return data


def photos(*pairs):
    return [(field, (name, data, "application/octet-stream")) for field, name, data in pairs]


# ------------------------------------------------------------------------------------------ invitations


def test_an_invited_owner_sets_a_password_and_registers_a_brand_with_photos(app, world, clients):
    link = invite(world)
    c = client(app, clients)
    answer = accept(c, link)
    assert answer.status_code == 303 and answer.headers["location"] == "/registry/new"
    page = c.get("/registry/new")
    assert "Registered for <strong>Lip Co</strong>" in page.text
    answer = c.post("/registry/new", data=brand_form(c.csrf("/registry/new")),
                    files=photos(("products[0].upload", "front.jpg", jpeg_with_exif(7)),
                                 ("products[0].upload", "side.png", photo(8)),
                                 ("products[1].upload", "gloss.jpg", jpeg_with_exif(9))))
    assert answer.status_code == 303, answer.text[:2000]
    brand_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    store = ImageStore.from_settings(world.settings)
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        brand = s.get(Brand, brand_id)
        assert brand.official_domains == ["plumpa.example", "shop.plumpa.example"]
        assert brand.owner.name == "Lip Co" and sorted(m.text for m in brand.marks) == ["Plumpa", "Plumpa Lips", "Plumpah"]
        products = {p.sku: p for p in brand.products}
        assert sorted(products) == ["PL-1", "PL-2"] and str(products["PL-1"].msrp) in ("19.90", "19.9")
        assert products["PL-1"].currency == "USD" and len(products["PL-1"].images) == 2
        assert len(products["PL-2"].images) == 1
        for image in products["PL-1"].images + products["PL-2"].images:
            assert image.source.startswith("images/")
            stored = Image.open(io.BytesIO(_stored_bytes(s, store, image.sha256)))
            assert not stored.getexif() and "exif" not in stored.info  # metadata stripped
        user = s.scalars(select(User).where(User.username == "ada@lipco.example")).one()
        assert [b.name for b in user.brands] == ["Plumpa"]
        audit = s.scalars(select(RegistryAudit).where(RegistryAudit.brand_id == brand_id)).one()
        assert audit.actor == "ada@lipco.example" and audit.before is None and audit.after["name"] == "Plumpa"
        assert s.scalars(select(RematchJob).where(RematchJob.brand_id == brand_id)).one().status == "pending"
    page = c.get(f"/registry/{brand_id}?saved=1")
    assert "Saved." in page.text and "This page refreshes itself" in page.text


def _stored_bytes(session, store, sha):
    from storage.models import Image as ImageRow

    return store.read(session.get(ImageRow, sha).path)


def test_an_invitation_works_once_and_not_after_it_expires(app, world, clients):
    link = invite(world)
    c = client(app, clients)
    assert accept(c, link).status_code == 303
    again = client(app, clients).get(path_of(link.url))
    assert again.status_code == 410 and "used already" in again.text
    late = invite(world, "bo@lipco.example")
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        row = s.get(Invitation, late.id)
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    answer = client(app, clients).get(path_of(late.url))
    assert answer.status_code == 410 and "expired" in answer.text
    assert client(app, clients).get("/invite/not-a-token").status_code == 410
    with Database.opened(world.settings.database_url) as db, db.session() as s:  # only the token's hash is kept
        stored = [r.token_sha256 for r in s.scalars(select(Invitation))]
    assert link.url.rsplit("/", 1)[1] not in stored


def test_a_password_reset_changes_the_password_once(app, world, clients):
    link = invite(world)
    assert accept(client(app, clients), link).status_code == 303
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        reset = invitations.request_reset(s, world.settings, "ada@lipco.example")
        assert invitations.request_reset(s, world.settings, "ada@lipco.example") is None  # one per 5 minutes
        assert invitations.request_reset(s, world.settings, "nobody") is None
    c = client(app, clients)
    assert accept(c, reset, "another long password").status_code == 303
    assert client(app, clients).login("ada@lipco.example", "another long password").status_code == 303
    assert client(app, clients).login("ada@lipco.example", NEW_PASSWORD).status_code == 401
    assert client(app, clients).get(path_of(reset.url)).status_code == 410


def test_the_forgotten_password_form_answers_the_same_for_everyone(app, world, clients):
    answers = []
    for who in ("etal", "nobody-at-all"):
        c = client(app, clients)
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/forgot").text).group(1)
        answer = c.post("/forgot", data={"csrf": token, "username": who})
        answers.append((answer.status_code, re.sub(r"\s+", " ", answer.text)))
    assert answers[0] == answers[1]


# ------------------------------------------------------------------------------------------ the form


def test_a_mistake_is_shown_beside_its_field_and_nothing_is_saved(app, world, clients):
    c = client(app, clients)
    assert accept(c, invite(world)).status_code == 303
    data = brand_form(c.csrf("/registry/new"), **{"products[1].msrp": "-3", "products[1].sku": "PL-1",
                                                  "digest_to": "not-an-address"})
    answer = c.post("/registry/new", data=data, files=photos(("products[0].upload", "x.jpg", photo(3))))
    assert answer.status_code == 400
    html = answer.text
    for field in ("products[1].msrp", "products[1].sku", "digest_to"):
        assert re.search(rf'id="{re.escape(field)}-error"', html), field
        # the message sits right after its own input
        assert html.index(f'id="{field}"') < html.index(f'id="{field}-error"')
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        assert s.scalars(select(Brand).where(Brand.name == "Plumpa")).first() is None


def test_the_form_and_the_yaml_import_give_the_same_messages(world, tmp_path):
    entry = {"name": "Plumpa", "owner": "Lip Co", "digest_to": ["nope"],
             "products": [{"name": "A", "sku": "X-1", "msrp": "-3", "currency": "USD"},
                          {"name": "B", "sku": "X-1", "msrp": "4"}]}
    store = ImageStore.from_settings(world.settings)
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        form = save_brand(s, store, entry, actor="test").errors
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"brands": [entry]}))
    with pytest.raises(Exception) as raised:
        load_registry(path, store=store)
    problems = "\n".join(raised.value.problems)
    assert set(form) == {"digest_to", "products[0].msrp", "products[1].sku", "products[1].currency"}
    for field, messages in form.items():
        for message in messages:
            assert f"brands[0].{field}: {message}" in problems, (field, message, problems)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("bomb.png", "bomb", "too many pixels"),
    ("script.jpg", b"<script>alert(1)</script>" * 10, "is not a JPEG, PNG or WebP photo"),
    ("huge.jpg", "huge", "is larger than the limit"),
    ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, "is damaged or not a photo"),
])
def test_hostile_uploads_are_refused_with_a_clear_message(app, world, clients, name, data, message):
    if data == "bomb":
        out = io.BytesIO()
        Image.new("1", (20_000, 20_000)).save(out, "PNG")  # 400 megapixels in a few kilobytes
        data = out.getvalue()
    elif data == "huge":
        data = b"\xff\xd8\xff" + b"\x00" * (world.settings.max_image_bytes + 10)
    c = client(app, clients)
    assert accept(c, invite(world)).status_code == 303
    answer = c.post("/registry/new", data=brand_form(c.csrf("/registry/new")),
                    files=photos(("products[0].upload", name, data)))
    assert answer.status_code == 400
    error = re.search(r'id="products\[0\]\.upload-error"[^>]*>([^<]*)<', answer.text).group(1)
    assert name in error and message in error


def test_an_owner_can_neither_open_nor_post_another_owners_brand(app, world, clients):
    c = client(app, clients)
    assert c.login("etal").status_code == 303
    assert c.get(f"/registry/{world.fullips}").status_code == 200
    assert c.get(f"/registry/{world.glowwe}").status_code == 404
    assert c.get(f"/registry/{world.glowwe}/export.zip").status_code == 404
    answer = c.post(f"/registry/{world.glowwe}", data=brand_form(c.csrf(), name="Glowwe"))
    assert answer.status_code == 404
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        assert s.get(Brand, world.glowwe).category is None and not s.scalars(select(RegistryAudit)).all()
    analyst = client(app, clients)
    assert analyst.login("ana").status_code == 303
    assert analyst.get("/registry/new").status_code == 403


def test_an_upload_that_does_not_state_its_length_or_is_too_large_is_refused_unread(app, world, clients):
    c = client(app, clients)
    assert c.login("admin").status_code == 303
    too_big = c.post("/registry/new", content=b"x", headers={
        "content-type": "multipart/form-data; boundary=x", "content-length": str(10**12)})
    assert too_big.status_code == 413


def test_exported_yaml_imports_back_with_no_change(app, world, clients, tmp_path):
    c = client(app, clients)
    assert accept(c, invite(world)).status_code == 303
    answer = c.post("/registry/new", data=brand_form(c.csrf("/registry/new")),
                    files=photos(("products[0].upload", "front.jpg", jpeg_with_exif(7))))
    brand_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    archive = c.get(f"/registry/{brand_id}/export.zip")
    assert archive.status_code == 200
    zipfile.ZipFile(io.BytesIO(archive.content)).extractall(tmp_path / "export")
    (yaml_path,) = (tmp_path / "export").glob("*.yaml")
    store = ImageStore.from_settings(world.settings)
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        report = import_registry(s, load_registry(yaml_path, store=store), store)
    assert report.changes == []


def test_after_saving_the_rematch_finds_stored_listings_of_the_new_brand(app, world, clients):
    with Database.opened(world.settings.database_url) as db, db.session() as s:
        market = s.scalars(select(Marketplace)).first()
        for n in range(3):
            s.add(Listing(marketplace_id=market.id, canonical_url=f"https://x.test/{n}", url=f"https://x.test/{n}",
                          title=f"Plumpa Lip Plumper original {n}", price=4, currency="USD", seller=f"cheap {n}",
                          content_hash=f"{900 + n:064x}", image_urls=[], needs_matching=False))
    c = client(app, clients)
    assert accept(c, invite(world)).status_code == 303
    answer = c.post("/registry/new", data=brand_form(c.csrf("/registry/new")))
    brand_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    with Database.opened(world.settings.database_url) as db:
        run_rematch_jobs(db, settings=world.settings)
        with db.session() as s:
            found = s.scalars(select(Match).where(Match.brand_id == brand_id)).all()
    assert len(found) == 3
    page = c.get(f"/registry/{brand_id}")
    assert "Results are in" in page.text and "3 suspects of this brand" in page.text
