"""Labelled values in page text ("Sold by X", "SKU: X", "Brand: X", "EAN", ...) and the stock line."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from crawlers.pages.htmltext import SKIP_TAGS, class_words, is_hidden, visible_text

MAX_TEXT_NODES = 30000

LABELS = {
    "seller": ("sold by", "seller", "sold and shipped by", "ships from and sold by", "verkauft von",
               "verkäufer", "vendu par", "vendeur", "venduto da", "venditore", "vendido por", "vendedor",
               "verkocht door", "verkoper", "sprzedawca", "продавец", "sprzedający",
               # Nordic, Baltic, central and south-east European, Greek, Turkish, Hebrew, Arabic
               "säljare", "sælger", "selger", "myyjä", "müüja", "pārdevējs", "pardavėjas", "prodejce",
               "predajca", "eladó", "vânzător", "продавач", "продавець", "πωλητής", "satıcı", "מוכר", "البائع",
               # Chinese, Japanese, Korean
               "賣家", "卖家", "商家", "店家", "販売元", "販売者", "出品者", "판매자", "판매처"),
    "sku": ("sku", "item #", "item number", "item no", "product code", "product id", "art.-nr.", "art.nr.",
            "artikelnummer", "artikel-nr.", "art. no", "article number", "référence", "ref.", "código",
            "codice", "codice articolo", "kód", "kod", "код", "артикул", "asin", "ebay item number",
            "numero oggetto", "numéro de l'objet", "número de artículo", "bestellnummer", "art. nr.",
            "item code", "stock code", "part no", "item id", "post id", "ad id", "listing id", "šifra",
            "šifra izdelka", "šifra artikla", "kod produktu", "kód produktu", "product number",
            "code produit", "réf.", "référence produit", "codice prodotto", "cod. articolo", "referencia",
            "código de producto", "referência", "código do produto", "ref", "productcode", "varenummer",
            "varenr.", "tuotekoodi", "tuotenumero", "tootekood", "preces kods", "artikuls", "prekės kodas",
            "cikkszám", "termékkód", "cod produs", "код на продукта", "код товара", "код товару",
            "κωδικός", "κωδικός προϊόντος", "ürün kodu", "stok kodu", 'מק"ט', "رقم المنتج", "رمز المنتج",
            "商品編號", "商品编号", "商品代碼", "商品代码", "產品編號", "产品编号", "貨號", "货号", "料號", "料号",
            "商品番号", "商品コード", "品番", "상품번호", "상품코드", "품번"),
    "brand": ("brand", "marke", "marque", "marca", "merk", "značka", "marka", "бренд", "brand name",
              "manufacturer", "hersteller", "fabricant", "produttore", "fabricante", "výrobca", "výrobce",
              "proizvajalec", "proizvođač", "producent", "производитель", "gyártó",
              "marchio", "fabrikant", "märke", "varumärke", "tillverkare", "mærke", "merke", "produsent",
              "merkki", "tuotemerkki", "valmistaja", "kaubamärk", "bränd", "tootja", "zīmols", "ražotājs",
              "prekės ženklas", "gamintojas", "márka", "marcă", "producător", "марка", "производител",
              "виробник", "μάρκα", "κατασκευαστής", "üretici", "מותג", "יצרן", "العلامة التجارية", "الماركة",
              "الشركة المصنعة", "znamka", "blagovna znamka",
              "品牌", "牌子", "廠牌", "厂牌", "製造商", "制造商", "ブランド", "メーカー", "브랜드", "제조사", "제조회사"),
    "mpn": ("mpn", "manufacturer part number", "part number", "herstellernummer", "model number",
            "item model number", "numero modello articolo", "modellnummer", "numéro du modèle de l'article",
            "número de modelo del producto", "produktové číslo", "modelové číslo", "référence fabricant",
            "numéro de modèle", "número de modelo", "numero di modello", "modelnummer", "katalogové číslo",
            "numer katalogowy", "型號", "型号", "型番", "モデル番号", "모델명", "모델번호"),
    "gtin": ("ean", "gtin", "upc", "ean-13", "ean13", "barcode", "isbn", "isbn-13", "ean code", "ean-code",
             "jan", "janコード", "條碼", "条码", "바코드", "штрихкод", "штрих-код", "kod kreskowy",
             "código de barras", "codice a barre"),
}
_LABEL_TO_FIELD = {label: field for field, labels in LABELS.items() for label in labels}
_LABEL_INLINE = re.compile(
    r"^\s*(" + "|".join(re.escape(lab) for lab in sorted(_LABEL_TO_FIELD, key=len, reverse=True)) + r")"
    r"\s*[:：#]?\s*[:：]\s*(.{1,80}?)\s*$|^\s*(sold by|verkauft von|vendu par|venduto da|vendido por|"
    r"ships from and sold by|sold and shipped by)\s+(.{1,80}?)\s*\.?\s*$",
    re.IGNORECASE,
)


def _normalise_label(text: str) -> str:
    return " ".join(text.lower().replace("\u200e", "").replace("\u200f", "").split()).strip(" :：")


_MULTIWORD_LABELS = sorted((lab for lab in _LABEL_TO_FIELD if " " in lab), key=len, reverse=True)


_LABEL_EDGE_WORDS = frozenset(w for lab in _LABEL_TO_FIELD for w in (lab.split()[0], lab.split()[-1]))


def _label_field(text: str) -> str | None:
    """The field a label names: an exact label, or a multi-word label plus one extra word before or
    after it ("eBay item number", "Numero oggetto eBay")."""
    label = _normalise_label(text)
    words = label.split()
    if not words or (words[0] not in _LABEL_EDGE_WORDS and words[-1] not in _LABEL_EDGE_WORDS):
        return None
    if label in _LABEL_TO_FIELD:
        return _LABEL_TO_FIELD[label]
    if 2 < len(words) <= 5:
        for known in _MULTIWORD_LABELS:
            if label.startswith(known + " ") and len(words) - len(known.split()) == 1:
                return _LABEL_TO_FIELD[known]
            if label.endswith(" " + known) and len(words) - len(known.split()) == 1:
                return _LABEL_TO_FIELD[known]
    return None


def labelled_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """``{field: value}`` for the first "Label: value" of each field in the body text."""
    values: dict[str, str] = {}
    body = tree.find("body")
    if body is None:
        return values
    texts: list[str] = []
    skipping = 0
    for event, element in lxml.etree.iterwalk(body, events=("start", "end")):
        if len(texts) > MAX_TEXT_NODES:
            break
        skipped = not isinstance(element.tag, str) or element.tag in SKIP_TAGS
        if event == "start":
            skipping += skipped
            piece = element.text if not skipping else None
        else:
            skipping -= skipped
            piece = element.tail if not skipping else None
        if piece and piece.strip():
            texts.append(" ".join(piece.split()))
    for index, text in enumerate(texts):
        if len(text) > 120:
            continue
        match = _LABEL_INLINE.match(text)
        if match:
            label = (match.group(1) or match.group(3) or "").lower()
            value = match.group(2) or match.group(4)
            field = _LABEL_TO_FIELD.get(_normalise_label(label), "seller")
            if value and field not in values and _normalise_label(value) not in _LABEL_TO_FIELD:
                values[field] = value.strip()
            continue
        field = _label_field(text) if len(text) <= 60 else None
        if field and field not in values:
            for following in texts[index + 1 : index + 3]:
                candidate = following.strip(" :：")
                if candidate and len(candidate) <= 80 and _label_field(candidate) is None:
                    values[field] = candidate
                    break
    return values


def looks_like_identifier(value: str) -> bool:
    """SKU/MPN/GTIN values hold a digit and are short (labels followed by prose are not identifiers)."""
    return any(ch.isdigit() for ch in value) and len(value) <= 40 and len(value.split()) <= 4


_IN_STOCK = re.compile(
    r"\b(in stock|available|auf lager|lieferbar|en stock|disponible|disponibile|op voorraad|na skladě|"
    r"skladom|na stanju|na zalogi|dostępny|в наличии|em estoque|i lager|på lager|varastossa|em stock|"
    r"disponível|raktáron|în stoc|σε απόθεμα|stokta|במלאי|متوفر|в наявності|noliktavā|sandėlyje|laos)\b"
    r"|有現貨|有现货|現貨供應|现货供应|有庫存|有库存|在庫あり|在庫有り|재고있음|재고 있음",
    re.IGNORECASE,
)
_OUT_OF_STOCK = re.compile(
    r"\b(out of stock|sold out|currently unavailable|unavailable|not available|nicht verfügbar|"
    r"nicht auf lager|ausverkauft|rupture de stock|épuisé|indisponible|non disponibile|esaurito|agotado|"
    r"no disponible|niet op voorraad|uitverkocht|nedostupn|vypredan|нет в наличии|esgotado|indisponível|"
    r"slutsåld|udsolgt|loppu|nincs raktáron|stoc epuizat|εξαντλημένο|stokta yok|tükendi|אזל מהמלאי|"
    r"غير متوفر|немає в наявності|izpārdots|išparduota|rasprodano|otsas)"
    r"|缺貨|缺货|售完|售罄|完售|無現貨|无现货|無庫存|无库存|品切れ|在庫切れ|売り切れ|품절|재고없음|재고 없음",
    re.IGNORECASE,
)
# contains() without translate(): matches "availability", "Availability", "stock", "inStock"... and is
# several times faster than a case-folded match on every element of a large page.
_AVAILABILITY_XPATH = lxml.etree.XPath(
    "//body//*[contains(@id, 'vailab') or contains(@class, 'vailab') or contains(@id, 'tock')"
    " or contains(@class, 'tock')]"
)


def html_availability(tree: lxml.html.HtmlElement) -> str | None:
    """InStock/OutOfStock from the text of the first short element named for availability or stock."""
    for element in _AVAILABILITY_XPATH(tree)[:50]:
        if element.tag in SKIP_TAGS or "unavailab" in class_words(element).lower() or is_hidden(element):
            continue
        text = visible_text(element, limit=200)
        if not text or len(text) > 150:
            continue
        if _OUT_OF_STOCK.search(text):
            return "OutOfStock"
        if _IN_STOCK.search(text):
            return "InStock"
    return None
