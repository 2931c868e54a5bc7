"""Word lists the demo world is built from: categories, product types, ordinary-word marks, phrases.

Everything here is plain data; the generator draws from it with a seeded ``random.Random``.  Prices are in
major units of the product's currency.  Nothing here is tuned to a matcher: the lists only have to look like
what small brands and marketplace sellers write.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProductType:
    """A kind of product a brand of a category sells, and how its packshot is drawn."""

    noun: str
    """Product line name without the brand, e.g. ``"Lip Plumper"``."""
    shape: str
    """Packshot shape drawn by :mod:`data.demo.packshots` (``tube``, ``jar``, ``bottle``...)."""
    price: tuple[float, float]
    """MSRP range in major units."""
    size: str = ""
    """Net content or size printed in titles, e.g. ``"5 ml"``."""


@dataclass(frozen=True)
class Category:
    """An industry a small brand can belong to."""

    slug: str
    keywords: tuple[str, ...]
    products: tuple[ProductType, ...]
    owner_words: tuple[str, ...]
    ordinary_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Ordinary English words usable as a mark in this category -> titles that use the word in its
    ordinary sense for products of other categories (hard negatives)."""
    accessories: tuple[str, ...] = ()
    """Title templates of third-party accessories; ``{b}`` is the brand, ``{p}`` the product line."""
    generic_adjectives: tuple[str, ...] = ()


CATEGORIES: tuple[Category, ...] = (
    Category(
        slug="cosmetics",
        keywords=("lip", "plumper", "gloss", "serum", "cream", "mascara", "beauty"),
        products=(
            ProductType("Lip Plumper", "tube", (16, 32), "5 ml"),
            ProductType("Hydrating Serum", "dropper", (24, 58), "30 ml"),
            ProductType("Night Cream", "jar", (22, 64), "50 ml"),
            ProductType("Volume Mascara", "tube", (14, 29), "8 ml"),
            ProductType("Setting Spray", "spray", (18, 36), "100 ml"),
        ),
        owner_words=("Beauty", "Cosmetics", "Labs", "Skincare"),
        ordinary_words={
            "Velvet": ("Velvet cushion cover 45x45 cm", "Red velvet cake baking mix", "Crushed velvet blackout curtains",
                       "Velvet hangers pack of 50"),
            "Bloom": ("Bloom flower food sachets x20", "Bloom nutrients for tomato plants",
                      "Cherry bloom wall calendar", "Algae bloom pond treatment 1 L"),
            "Dewdrop": ("Dewdrop crystal chandelier pendants", "Dewdrop glass beads 6 mm 200 pcs",
                        "Dewdrop macro photography print"),
        },
        accessories=("Travel pouch for {b} {p}", "Refill applicator tips compatible with {b} {p}",
                     "Acrylic display organiser for {b} products"),
        generic_adjectives=("glossy", "plumping", "hydrating", "vegan", "long-lasting"),
    ),
    Category(
        slug="apparel",
        keywords=("hoodie", "tee", "cap", "socks", "cotton", "streetwear"),
        products=(
            ProductType("Logo Hoodie", "tshirt", (55, 120), "M"),
            ProductType("Organic Tee", "tshirt", (25, 45), "L"),
            ProductType("Dad Cap", "box", (24, 38), "one size"),
            ProductType("Crew Socks 3-Pack", "box", (14, 24), "39-42"),
        ),
        owner_words=("Apparel", "Clothing Co.", "Outfitters", "Studio"),
        ordinary_words={
            "Loom": ("Weaving loom kit for beginners", "Loom bands refill 600 pcs", "Rug hooking loom frame"),
            "Canvas": ("Stretched canvas 40x50 cm pack of 3", "Canvas drop cloth for painters 4x5 m",
                       "Canvas print of a lighthouse"),
            "Thread": ("Sewing thread set 24 spools", "Thread seal tape for plumbing 10 rolls",
                       "Thread gauge metric 0.25-6 mm"),
        },
        accessories=("Garment bag sized for {b} {p}", "Storage organiser for {b} {p}"),
        generic_adjectives=("oversized", "heavyweight", "organic cotton", "unisex", "embroidered"),
    ),
    Category(
        slug="toys",
        keywords=("plush", "toy", "building", "blocks", "puzzle", "kids"),
        products=(
            ProductType("Plush Bear", "plush", (18, 35), "30 cm"),
            ProductType("Building Set", "box", (29, 79), "420 pcs"),
            ProductType("Wooden Puzzle", "box", (15, 30), "48 pcs"),
            ProductType("Plush Bunny", "plush", (16, 30), "25 cm"),
        ),
        owner_words=("Toys", "Playthings", "Kids Ltd", "Toy Co."),
        ordinary_words={
            "Pebble": ("Garden pebbles 20 kg bag", "Pebble mosaic tiles for bathrooms", "River pebble bath mat"),
            "Sprout": ("Broccoli sprout seeds 250 g", "Sprout jar with mesh lid", "Brussels sprout peeler"),
            "Acorn": ("Acorn squash seeds", "Acorn nut cap bolts M8 x20", "Oak acorn ornament brass"),
        },
        accessories=("Storage box for {b} {p}", "Replacement parts bag compatible with {b} {p}"),
        generic_adjectives=("cuddly", "educational", "soft", "STEM", "eco-friendly"),
    ),
    Category(
        slug="smart-devices",
        keywords=("smart", "tracker", "speaker", "earbuds", "wifi", "app"),
        products=(
            ProductType("Smart Speaker", "speaker", (59, 149), "Gen 2"),
            ProductType("Fitness Tracker", "device", (39, 99), "42 mm"),
            ProductType("Wireless Earbuds", "device", (49, 129), "ANC"),
            ProductType("Smart Plug", "box", (15, 29), "2-pack"),
        ),
        owner_words=("Devices", "Electronics", "Technologies", "Labs"),
        ordinary_words={
            "Beacon": ("Beacon warning light amber 12 V", "Lighthouse beacon model kit", "Avalanche beacon battery cover"),
            "Pulse": ("Dried pulses mix lentils beans 2 kg", "Pulse oximeter fingertip", "Pulse jet engine poster"),
        },
        accessories=("Protective case for {b} {p}", "Charging cable compatible with {b} {p}",
                     "Wall mount for {b} {p}", "Travel case compatible with {b} {p}"),
        generic_adjectives=("wireless", "bluetooth", "app-controlled", "compact", "rechargeable"),
    ),
    Category(
        slug="home-fragrance",
        keywords=("candle", "diffuser", "scent", "fragrance", "room spray", "soy wax"),
        products=(
            ProductType("Scented Candle", "candle", (24, 48), "220 g"),
            ProductType("Reed Diffuser", "bottle", (28, 55), "100 ml"),
            ProductType("Room Spray", "spray", (16, 30), "100 ml"),
            ProductType("Wax Melts", "box", (8, 16), "6 pcs"),
        ),
        owner_words=("Home", "Living", "Scents", "Candle Co."),
        ordinary_words={
            "Meadow": ("Wildflower meadow seed mix 500 g", "Meadow landscape canvas wall art",
                       "Meadow green linen tablecloth", "Meadow grass turf roll"),
            "Hearth": ("Hearth rug fire resistant", "Hearth brush and shovel set", "Slate hearth stone 90x60"),
            "Willow": ("Willow basket with lid", "Weeping willow tree sapling", "Willow charcoal sticks for sketching"),
            "Ember": ("Fireplace ember guard screen", "Ember orange cotton yarn 100 g", "Ember glow LED fairy lights"),
        },
        accessories=("Wick trimmer and snuffer set for {b} candles", "Gift box sized for {b} {p}",
                     "Tray compatible with {b} {p}"),
        generic_adjectives=("soy wax", "hand-poured", "long burning", "natural", "luxury"),
    ),
    Category(
        slug="car-care",
        keywords=("car", "wax", "shampoo", "detailing", "polish", "ceramic"),
        products=(
            ProductType("Ceramic Wax", "can", (19, 45), "250 ml"),
            ProductType("Snow Foam Shampoo", "bottle", (12, 25), "1 L"),
            ProductType("Tyre Shine Spray", "spray", (9, 18), "500 ml"),
        ),
        owner_words=("Detailing", "Car Care", "Auto", "Garage Supplies"),
        ordinary_words={
            "Gloss": ("Gloss white wall paint 2.5 L", "Gloss varnish for woodwork 750 ml", "Photo paper gloss A4 100 sheets"),
            "Shine": ("Shoe shine kit with brushes", "Silver shine polishing cloth", "Shine muscat grapes 1 kg"),
        },
        accessories=("Applicator pads for {b} {p}", "Spray bottle compatible with {b} {p}",
                     "Microfibre towels for {b} {p}"),
        generic_adjectives=("hydrophobic", "pH neutral", "professional", "streak-free", "ceramic"),
    ),
    Category(
        slug="coffee",
        keywords=("coffee", "beans", "espresso", "roast", "cold brew", "arabica"),
        products=(
            ProductType("Espresso Beans", "pouch", (12, 24), "1 kg"),
            ProductType("Cold Brew Can", "can", (3, 6), "250 ml"),
            ProductType("Ground Coffee", "pouch", (8, 16), "500 g"),
        ),
        owner_words=("Coffee Roasters", "Roastery", "Coffee Co.", "Foods"),
        ordinary_words={
            "Harvest": ("Harvest table solid oak 180 cm", "Harvest moon poster", "Harvest festival decorations set"),
            "Kettle": ("Electric kettle 1.7 L stainless steel", "Kettle bell 12 kg cast iron", "Kettle descaler tablets"),
            "Ridge": ("Ridge vent roll for roofing", "Ridge tile mortar 25 kg", "Mountain ridge jigsaw 1000 pieces"),
        },
        accessories=("Reusable pods compatible with {b} coffee", "Airtight canister for {b} {p}"),
        generic_adjectives=("single origin", "dark roast", "fair trade", "fresh roasted", "organic"),
    ),
    Category(
        slug="pet",
        keywords=("dog", "cat", "pet", "treats", "shampoo", "chew"),
        products=(
            ProductType("Dog Shampoo", "bottle", (11, 22), "500 ml"),
            ProductType("Salmon Treats", "pouch", (6, 14), "200 g"),
            ProductType("Catnip Toy", "plush", (7, 15), "12 cm"),
        ),
        owner_words=("Pet Supplies", "Pets", "Petcare", "Animal Co."),
        ordinary_words={
            "Biscuit": ("Biscuit tin vintage enamel", "Biscuit cutter set 12 pcs", "Biscuit joiner for woodworking"),
            "Burrow": ("Burrow mole trap galvanised", "Rabbit burrow documentary DVD", "Burrow tunnel play tent kids"),
        },
        accessories=("Travel container for {b} {p}", "Treat pouch for {b} treats"),
        generic_adjectives=("grain-free", "gentle", "natural", "vet approved", "hypoallergenic"),
    ),
    Category(
        slug="outdoor",
        keywords=("outdoor", "bottle", "headlamp", "camping", "hiking", "insulated"),
        products=(
            ProductType("Insulated Bottle", "bottle", (25, 45), "750 ml"),
            ProductType("LED Headlamp", "device", (29, 69), "400 lm"),
            ProductType("Camp Mug", "can", (15, 28), "350 ml"),
        ),
        owner_words=("Outdoors", "Gear", "Expeditions", "Equipment"),
        ordinary_words={
            "Summit": ("Summit of Everest poster 60x90", "Summit meeting notebook A5", "Summit desk nameplate"),
            "Trail": ("Trail mix nuts and raisins 1 kg", "Snail trail garden stone", "Paper trail file organiser"),
        },
        accessories=("Carry pouch for {b} {p}", "Replacement parts compatible with {b} {p}",
                     "Carabiner clip for {b} {p}"),
        generic_adjectives=("insulated", "lightweight", "waterproof", "rechargeable", "BPA-free"),
    ),
    Category(
        slug="kitchen",
        keywords=("kitchen", "knife", "pan", "board", "cookware", "chef"),
        products=(
            ProductType("Chef Knife", "box", (45, 140), "20 cm"),
            ProductType("Olive Oil", "bottle", (14, 28), "500 ml"),
            ProductType("Spice Jar Set", "jar", (19, 39), "6 pcs"),
        ),
        owner_words=("Kitchen", "Cookware", "Provisions", "Homewares"),
        ordinary_words={
            "Orchard": ("Orchard ladder 3 legs aluminium", "Orchard fruit tree pruning saw", "Orchard painting print"),
            "Copper": ("Copper pipe 15 mm 3 m", "Copper wire 2.5 mm", "Copper sulphate crystals 500 g"),
        },
        accessories=("Storage rack for {b} {p}", "Gift box compatible with {b} {p}"),
        generic_adjectives=("stainless", "handmade", "extra virgin", "forged", "cold pressed"),
    ),
)

# Syllables for coined marks: a long mark joins two or three, a short mark is consonant-vowel-consonant-vowel.
ONSETS = ("no", "va", "lu", "ze", "ri", "ka", "mo", "bel", "vi", "ta", "so", "ra", "ly", "fe", "do", "mi",
          "qua", "tor", "sen", "pla", "cor", "ful", "ar", "ver", "hal", "ost")
CODAS = ("lux", "ra", "via", "lia", "ne", "tic", "ora", "ix", "ly", "ma", "lips", "vo", "dent", "za", "nix",
         "ello", "ium", "ette", "io", "ani")
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"

# Words a near-phrase negative can put beside a split coined name ("nova lux desk lamp").
NEAR_PHRASE_PRODUCTS = ("desk lamp", "bath towel", "garden hose 25 m", "shower curtain", "notebook A5",
                        "bike bell", "door mat", "phone stand", "wall clock", "pencil case")

SHOP_SELLER_WORDS = ("Store", "Shop", "Official", "Outlet", "Mall", "Direct", "Trading", "Global", "Express")
GENERIC_SELLERS = ("Sunny Day Trading", "BestDeal4U", "kittyshop88", "Global Goods Hub", "Shenzhen Happy Co",
                   "Mega Outlet EU", "trendy_finds", "Happy Buyer Store", "Quality First Ltd", "dealz-warehouse",
                   "Lucky Star Mall", "Bargain Barn UK", "Everyday Low Price", "top-seller-2026", "Nordic Finds",
                   "Casa Ofertas", "Schnäppchen Markt", "Vida Store", "Great Wall Export", "smile_shop")
RETAILERS = ("Northfield Retail", "Cartwheel Stores", "High Street Goods", "Marlow & Finch",
             "Greenleaf Department Store", "Urban Pantry", "Kindred Supply")

REPLICA_PHRASES = ("replica", "1:1 copy", "AAA quality", "mirror quality", "réplica", "Nachbildung", "高仿",
                   "top copy", "same as original", "réplique", "replika", "A+ grade", "OEM quality, no box")
DUPE_TEMPLATES = ("Dupe for {b} {p}", "{b} dupe - {adj} {noun}", "{adj} {noun} ({b} dupe)",
                  "Affordable {b} {p} dupe, {adj}", "Better than {b}? Our {adj} {noun}")
INSPIRED_TEMPLATES = ("Inspired by {b} {p} - {adj} {noun}", "{b} style {noun}", "{adj} {noun}, {b} inspired",
                      "{noun} similar to {b} {p}", "{b}-like {noun}, {adj}")
HYPE_WORDS = ("HOT SALE", "2026 NEW", "Free Shipping", "Best Seller", "Limited", "Top Rated", "Clearance",
              "Gift Idea", "Original Packaging", "Fast Delivery")
OVERLAY_TEXTS = ("HOT SALE", "-70%", "SALE", "NEW", "-50%", "BEST PRICE", "FREE SHIP")

UNRELATED_ITEMS = (
    ("Astronaut poster print", "astronaut"), ("Rocket launch photo canvas", "rocket"),
    ("Vintage camera photographer print", "camera"), ("Collectible coin set", "coins"),
    ("Retro wall clock silent", "clock"), ("Horse silhouette wall art", "horse"),
    ("Full moon photo print A3", "moon"), ("Brick effect wallpaper roll", "brick"),
    ("Artificial grass mat 1x2 m", "grass"), ("Gravel for aquarium 5 kg", "gravel"),
    ("Hubble deep field space poster", "hubble_deep_field"), ("Microscope slide art print", "immunohistochemistry"),
    ("Colour wheel chart for painters", "colorwheel"), ("Antique book page print", "page"),
    ("Old typewriter text print", "text"), ("Eye anatomy poster", "retina"),
)
UNRELATED_PACKSHOTS = (
    ("Stainless steel water kettle", "bottle"), ("USB-C charging cable 2 m", "box"), ("Ceramic plant pot", "jar"),
    ("Laundry detergent 2 L", "bottle"), ("Multivitamin tablets 90", "jar"), ("Wireless mouse", "device"),
    ("Dish soap lemon 500 ml", "bottle"), ("Hand cream 75 ml", "tube"), ("Energy drink 24 cans", "can"),
    ("Bird seed 2 kg", "pouch"), ("Kids rain boots", "box"), ("Glass cleaner spray", "spray"),
)
HOSTILE_SNIPPETS = ('<script>alert("x")</script>', "&amp; &lt;b&gt;", "<b>bold</b>", "Tom & Jerry's \"best\"",
                    "\u202eevil\u202c", "🔥🔥🔥", "💄✨", "😍 100% 👍", "\t\t  \n ", "\u00a0\u00a0", "' OR 1=1 --",
                    "{{7*7}}", "../../etc/passwd")

# Ordinary words of several languages (en, de, fr, es, it, nl, pl) with phrases that use them.  A coined mark
# of style ``embedded`` is cut out of one of these words ("Norama" out of "panorama"), so the phrases are
# clean listings that contain the mark inside a longer ordinary word.
HOST_WORDS: dict[str, tuple[str, ...]] = {
    "panorama": ("Panorama print of the Alps 120x40", "Panoramafoto Skyline Leinwand", "Cadre panorama en chêne"),
    "caravan": ("Caravan awning 250 cm", "Caravan cover waterproof 5 m", "Caravaning Zubehör Set"),
    "kaleidoscope": ("Kaleidoscope toy for kids", "Kaleidoscope butterfly wall art"),
    "tornado": ("Tornado in a bottle science kit", "Tornado vacuum cleaner bags 10 pcs"),
    "serenade": ("Serenade for strings sheet music", "Sérénade CD musique classique"),
    "gelato": ("Gelato maker 1.5 L", "Gelateria paper cups 200 pcs", "Gelato spoons wooden 100"),
    "marinade": ("Marinade injector stainless", "Barbecue marinade 500 ml", "Marinade für Grillfleisch"),
    "lavendel": ("Lavendel Duftsäckchen 10 Stück", "Lavendelöl 30 ml", "Lavendelstrauch im Topf"),
    "kinderwagen": ("Kinderwagen Regenschutz universal", "Kinderwagen Organizer Tasche"),
    "regenjacke": ("Regenjacke Damen wasserdicht", "Regenjacke Kinder gelb"),
    "mandarine": ("Mandarine Duftkerze", "Mandarinen Netz 2 kg", "Mandarine confiture artisanale"),
    "tartelette": ("Moules à tartelette x12", "Tartelette citron surgelée"),
    "cafetera": ("Cafetera italiana 6 tazas", "Cafetera de goteo 1.2 L"),
    "sandalias": ("Sandalias de playa mujer", "Sandalias de cuero niño"),
    "lavatrice": ("Tubo di scarico per lavatrice", "Anticalcare lavatrice 2 L"),
    "borraccia": ("Borraccia termica 500 ml", "Borraccia bambini con cannuccia"),
    "fietsbel": ("Fietsbel retro chroom", "Fietsbel kinderen eenhoorn"),
    "zonnebril": ("Zonnebril gepolariseerd heren", "Zonnebril etui hard"),
    "parasolka": ("Parasolka automatyczna czarna", "Parasolka dziecięca w kropki"),
    "pomarancza": ("Pomarańcza suszona 100 g", "Pomarancza olejek eteryczny"),
    "avocado": ("Avocado slicer 3 in 1", "Avocado tree seedling", "Avocado saver silicone"),
    "veranda": ("Veranda furniture cover", "Veranda plant stand 3 tier", "Verandadach Rinne"),
    "carnival": ("Carnival mask gold", "Carnival party decorations set"),
    "lasagne": ("Lasagne dish ceramic 30 cm", "Lasagne sheets 500 g"),
    "melodica": ("Melodica 32 keys", "Melodica mouthpiece tube"),
    "coriander": ("Coriander seeds 250 g", "Coriander herb plant pot"),
    "limonade": ("Limonade Sirup Zitrone", "Limonade artisanale 75 cl"),
    "calendario": ("Calendario da parete 2027", "Calendario de adviento madera"),
    "tiramisu": ("Tiramisu dish glass", "Tiramisu mix 3 servings"),
    "ravioli": ("Ravioli stamp set", "Ravioli maker tray 36 holes"),
}
# Second-hand and grey-market wording, several languages ({b} brand, {p} product line).
RESALE_TITLES: dict[str, tuple[str, ...]] = {
    "second_hand": ("Used {b} {p}, like new", "{b} {p} - pre-owned, good condition", "{b} {p} gebraucht, wie neu",
                    "{b} {p} d'occasion, très bon état", "{b} {p} usado, buen estado", "{b} {p} usato come nuovo",
                    "Tweedehands {b} {p}", "{b} {p} second hand, opened once", "{b} {p} używany, stan idealny"),
    "grey_market": ("{b} {p} - EU import, original", "{b} {p} (parallel import, genuine)",
                    "{b} {p} Import-Ware, originalverpackt", "{b} {p} importación, producto original",
                    "{b} {p} grey import - authentic, no local warranty", "{b} {p} import Japon, authentique"),
}
RESALE_DESCRIPTIONS = ("Bought from {s}, receipt included. Genuine {b}, selling because I no longer use it.",
                       "Original {b} product, used a few times, from a smoke-free home.",
                       "Originalware von {b}, gekauft bei {s}. Privatverkauf, keine Garantie.",
                       "Produit original {b}, acheté chez {s}. Vente entre particuliers.",
                       "Producto original {b}, importado. Sin garantía del fabricante local.",
                       "Authentic {b} stock imported from abroad; packaging may differ from the local version.")
# Accessory wording by kind, several languages: compatible accessories, refills, compatible spare parts.
ACCESSORY_TITLES: dict[str, tuple[str, ...]] = {
    "compatible_accessory": ("Case compatible with {b} {p}", "Hülle für {b} {p}", "Étui compatible {b} {p}",
                             "Funda compatible con {b} {p}", "Custodia per {b} {p}", "Stand for {b} {p}"),
    "refill": ("Refill for {b} {p}", "Nachfüllpack für {b} {p}", "Recharge compatible {b} {p}",
               "Recambio compatible con {b} {p}", "Ricarica compatibile {b} {p}", "{p} refill pack - fits {b}"),
    "compatible_part": ("Replacement part compatible with {b} {p}", "Ersatzteil passend für {b} {p}",
                        "Pièce de rechange compatible {b} {p}", "Repuesto compatible con {b} {p}",
                        "Spare lid for {b} {p} (not original)", "Vervangingsonderdeel voor {b} {p}"),
}
ACCESSORY_DISCLAIMERS = ("{b} is a trademark of its owner; this third-party item is not made or endorsed by {b}.",
                         "Kein Originalprodukt von {b}; nur kompatibel.", "Produit non officiel, compatible {b}.",
                         "No es un producto oficial de {b}.", "Not an original {b} product.")
# Categories whose products take refills, and whose products have spare parts.
REFILL_CATEGORIES = ("cosmetics", "home-fragrance", "car-care", "coffee", "pet", "kitchen")
PART_CATEGORIES = ("smart-devices", "outdoor", "kitchen", "toys", "apparel", "home-fragrance", "car-care", "coffee")
