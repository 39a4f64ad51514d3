"""What the sample product looks like: tenants, sites, pages, devices, places and campaigns.

Everything here is static reference data. The generator draws from it with numpy; weights are
relative within their list. Names the contract constrains (event types, channels, device types,
metric types, deployment statuses) are unpacked from the contract so that they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from orchestration.contract import (
    CHANNEL_TYPES,
    DEPLOYMENT_STATUSES,
    DEVICE_TYPES,
    EVENT_TYPES,
    METRIC_TYPES,
)

TRACK, PAGE, IDENTIFY = EVENT_TYPES
WEB, MOBILE, WHATSAPP = CHANNEL_TYPES
DESKTOP, MOBILE_DEVICE, TABLET, BOT, UNKNOWN_DEVICE = DEVICE_TYPES
COUNTER, GAUGE, HISTOGRAM, TIMER = METRIC_TYPES
PENDING, READY, FAILED, ROLLED_BACK = DEPLOYMENT_STATUSES


class Event(IntEnum):
    """Every event the sample product sends, with its event type and name below."""

    PAGE_VIEW = 0
    PAGE_PING = 1
    PAGE_LEAVE = 2
    IDENTIFY = 3
    FEATURE_USED = 4
    PREFERENCES_UPDATED = 5
    PRICING_VIEWED = 6
    SIGNUP_STARTED = 7
    SIGNUP = 8
    PRODUCT_VIEWED = 9
    ADD_TO_CART = 10
    CHECKOUT_STARTED = 11
    PURCHASE = 12
    BOOKING_PAGE_VIEWED = 13
    APPOINTMENT_BOOKED = 14
    DEPLOYMENT = 15


EVENT_NAMES: dict[Event, tuple[str, str]] = {
    Event.PAGE_VIEW: (PAGE, "page_view"),
    Event.PAGE_PING: (TRACK, "page_ping"),
    Event.PAGE_LEAVE: (TRACK, "page_leave"),
    Event.IDENTIFY: (IDENTIFY, "identify"),
    Event.FEATURE_USED: (TRACK, "feature_used"),
    Event.PREFERENCES_UPDATED: (TRACK, "preferences_updated"),
    Event.PRICING_VIEWED: (TRACK, "pricing_viewed"),
    Event.SIGNUP_STARTED: (TRACK, "signup_started"),
    Event.SIGNUP: (TRACK, "signup"),
    Event.PRODUCT_VIEWED: (TRACK, "product_viewed"),
    Event.ADD_TO_CART: (TRACK, "add_to_cart"),
    Event.CHECKOUT_STARTED: (TRACK, "checkout_started"),
    Event.PURCHASE: (TRACK, "purchase"),
    Event.BOOKING_PAGE_VIEWED: (TRACK, "booking_page_viewed"),
    Event.APPOINTMENT_BOOKED: (TRACK, "appointment_booked"),
    Event.DEPLOYMENT: (TRACK, "deployment"),
}


class Journey(IntEnum):
    """What a visitor came to do in one session."""

    BROWSE = 0
    SIGNUP = 1
    CHECKOUT = 2
    BOOKING = 3
    LOGIN = 4
    APP = 5


class Role(IntEnum):
    """A page a funnel step happens on; each site names its own page for the role."""

    PRICING = 0
    SIGNUP = 1
    PRODUCT = 2
    CHECKOUT = 3
    CONFIRMATION = 4
    BOOKING = 5
    BOOKING_CONFIRMED = 6
    LOGIN = 7
    APP_HOME = 8


@dataclass(frozen=True)
class Step:
    """One step of a journey template: a page view on a role's page, or an event."""

    event: Event
    role: Role | None = None


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Step, ...]
    reached: tuple[float, ...]
    """Share of attempts that stop after funnel event 1, 2, ... (the last one converted)."""
    cuts: tuple[int, ...]
    """How many template steps are played when funnel event 1, 2, ... was the last reached."""


def _page(role: Role) -> Step:
    return Step(Event.PAGE_VIEW, role)


FUNNELS: dict[Journey, Funnel] = {
    Journey.BROWSE: Funnel(steps=(), reached=(1.0,), cuts=(0,)),
    Journey.SIGNUP: Funnel(
        steps=(
            _page(Role.PRICING),
            Step(Event.PRICING_VIEWED),
            _page(Role.SIGNUP),
            Step(Event.SIGNUP_STARTED),
            Step(Event.SIGNUP),
            Step(Event.IDENTIFY),
        ),
        reached=(0.50, 0.22, 0.28),
        cuts=(2, 4, 6),
    ),
    Journey.CHECKOUT: Funnel(
        steps=(
            _page(Role.PRODUCT),
            Step(Event.PRODUCT_VIEWED),
            Step(Event.ADD_TO_CART),
            _page(Role.CHECKOUT),
            Step(Event.CHECKOUT_STARTED),
            Step(Event.IDENTIFY),
            _page(Role.CONFIRMATION),
            Step(Event.PURCHASE),
        ),
        reached=(0.45, 0.20, 0.12, 0.23),
        cuts=(2, 3, 6, 8),
    ),
    Journey.BOOKING: Funnel(
        steps=(
            _page(Role.BOOKING),
            Step(Event.BOOKING_PAGE_VIEWED),
            Step(Event.IDENTIFY),
            _page(Role.BOOKING_CONFIRMED),
            Step(Event.APPOINTMENT_BOOKED),
        ),
        reached=(0.55, 0.45),
        cuts=(2, 5),
    ),
    Journey.LOGIN: Funnel(
        steps=(_page(Role.LOGIN), Step(Event.IDENTIFY)), reached=(1.0,), cuts=(2,)
    ),
    Journey.APP: Funnel(steps=(_page(Role.APP_HOME),), reached=(1.0,), cuts=(1,)),
}


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    weight: float = 1.0


@dataclass(frozen=True)
class Product:
    slug: str
    """Also the product id; the page is /products/<slug>."""
    name: str
    category: str
    price: float
    weight: float = 1.0


@dataclass(frozen=True)
class Feature:
    feature: str
    action: str
    median_ms: int
    success_rate: float


@dataclass(frozen=True)
class Site:
    name: str
    content: tuple[Page, ...]
    """Pages people browse; the first is the home page."""
    roles: dict[Role, Page]
    features: tuple[Feature, ...]
    products: tuple[Product, ...] = ()
    app: tuple[Page, ...] = ()
    """Pages behind the login; empty when the site has none."""
    has_preferences: bool = False
    services: tuple[tuple[str, float], ...] = ()
    """Bookable services and their prices."""


SHOP = Site(
    name="Acme Outdoor",
    content=(
        Page("/", "Acme Outdoor — Gear for every trail", 30),
        Page("/collections/tents", "Tents", 8),
        Page("/collections/backpacks", "Backpacks", 8),
        Page("/collections/jackets", "Jackets & Shells", 7),
        Page("/collections/sale", "Sale — up to 50% off", 6),
        Page("/search", "Search results", 6),
        Page("/blog/how-to-pick-a-sleeping-bag", "How to pick a sleeping bag", 3),
        Page("/help/shipping", "Shipping & returns", 3),
        Page("/stores", "Find a store", 2),
        Page("/about", "About us", 2),
        Page("/gift-cards", "Gift cards", 1),
    ),
    products=(
        Product("trailblazer-2-tent", "Trailblazer 2-person tent", "tents", 249.0, 6),
        Product("summit-45l-backpack", "Summit 45L backpack", "backpacks", 139.0, 6),
        Product("storm-shell-jacket", "Storm shell jacket", "jackets", 189.0, 5),
        Product("down-sleeping-bag-minus-5", "Down sleeping bag (-5 °C)", "sleeping", 229.0, 4),
        Product("titanium-spork", "Titanium spork", "kitchen", 12.5, 3),
        Product("headlamp-400", "Headlamp 400 lm", "lighting", 39.95, 3),
        Product("caf%C3%A9-enamel-mug", "Café enamel mug ☕", "kitchen", 16.0, 2),
        Product("kids-rain-boots", 'Kids\' "Puddle Jumper" rain boots', "kids", 34.0, 2),
        Product("trekking-poles-carbon", "Carbon trekking poles", "accessories", 89.0, 2),
        Product("bobby-tables-tee", "Robert'); DROP TABLE events;-- T-shirt", "apparel", 25.0, 1),
    ),
    roles={
        Role.CHECKOUT: Page("/checkout", "Checkout"),
        Role.CONFIRMATION: Page("/checkout/thank-you", "Thank you for your order"),
        Role.LOGIN: Page("/account/login", "Sign in"),
        Role.APP_HOME: Page("/account", "Your account"),
        Role.SIGNUP: Page("/account/register", "Create an account"),
        Role.PRICING: Page("/membership", "Acme Club membership"),
    },
    app=(
        Page("/account/orders", "Your orders", 4),
        Page("/account/wishlist", "Wishlist", 3),
        Page("/account/addresses", "Addresses", 1),
    ),
    features=(
        Feature("product_search", "submit", 900, 0.97),
        Feature("product_filters", "apply", 400, 0.99),
        Feature("wishlist", "add", 250, 0.995),
        Feature("size_guide", "open", 150, 1.0),
        Feature("store_locator", "search", 1200, 0.93),
    ),
)

CLINIC = Site(
    name="Bloom Dental",
    content=(
        Page("/", "Bloom Dental — Friendly dentists in Bristol", 25),
        Page("/treatments/hygiene", "Hygiene & cleaning", 8),
        Page("/treatments/whitening", "Teeth whitening", 6),
        Page("/treatments/implants", "Dental implants", 4),
        Page("/prices", "Prices", 8),
        Page("/team", "Meet the team", 4),
        Page("/faq", "FAQ", 3),
        Page("/contact", "Contact & opening hours", 5),
        Page("/blog/is-whitening-safe", "Is teeth whitening safe?", 2),
    ),
    roles={
        Role.BOOKING: Page("/book", "Book an appointment"),
        Role.BOOKING_CONFIRMED: Page("/book/confirmed", "Appointment confirmed"),
        Role.LOGIN: Page("/patients/login", "Patient login"),
        Role.APP_HOME: Page("/patients", "Your appointments"),
    },
    app=(Page("/patients/profile", "Your details", 2), Page("/patients/invoices", "Invoices", 1)),
    features=(
        Feature("appointment_reminders", "toggle", 200, 0.99),
        Feature("reschedule", "submit", 2500, 0.9),
        Feature("price_calculator", "open", 600, 1.0),
    ),
    services=(
        ("hygiene", 85.0),
        ("check_up", 60.0),
        ("whitening", 299.0),
        ("implant_consult", 150.0),
    ),
)

SAAS = Site(
    name="Nimbus",
    content=(
        Page("/", "Nimbus — Dashboards your team will actually use", 30),
        Page("/features", "Features", 10),
        Page("/customers", "Customer stories", 4),
        Page("/integrations", "Integrations", 5),
        Page("/blog/funnel-analysis-101", "Funnel analysis 101", 4),
        Page("/blog/why-we-moved-to-duckdb", "Why we moved to DuckDB", 3),
        Page("/changelog", "Changelog", 3),
        Page("/security", "Security & compliance", 2),
    ),
    roles={
        Role.PRICING: Page("/pricing", "Pricing"),
        Role.SIGNUP: Page("/signup", "Start your free trial"),
        Role.LOGIN: Page("/login", "Log in"),
        Role.APP_HOME: Page("/app", "Home"),
    },
    app=(
        Page("/app/dashboards", "Dashboards", 8),
        Page("/app/reports", "Reports", 5),
        Page("/app/funnels", "Funnels", 3),
        Page("/app/team", "Team", 1),
        Page("/app/settings", "Settings", 2),
        Page("/app/settings/billing", "Billing", 1),
    ),
    features=(
        Feature("dashboard_filter", "apply", 350, 0.99),
        Feature("export_csv", "click", 2200, 0.94),
        Feature("share_link", "create", 300, 0.99),
        Feature("invite_member", "submit", 1200, 0.92),
        Feature("api_key", "create", 500, 0.98),
        Feature("bulk_edit", "submit", 4000, 0.85),
    ),
    has_preferences=True,
)

DOCS = Site(
    name="Nimbus Docs",
    content=(
        Page("/docs", "Documentation", 20),
        Page("/docs/getting-started", "Getting started", 12),
        Page("/docs/sdk/javascript", "JavaScript SDK", 8),
        Page("/docs/sdk/ios", "iOS SDK", 4),
        Page("/docs/api/events", "Events API", 7),
        Page("/docs/guides/funnels", "Building funnels", 5),
        Page("/docs/guides/sessions", "How sessions work", 4),
        Page("/docs/faq", "FAQ", 3),
    ),
    roles={
        Role.PRICING: Page("/pricing", "Pricing"),
        Role.SIGNUP: Page("/signup", "Create your Nimbus account"),
    },
    features=(
        Feature("code_copy", "click", 80, 1.0),
        Feature("docs_search", "submit", 700, 0.96),
        Feature("page_feedback", "submit", 1500, 0.99),
    ),
)

BLOG = Site(
    name="Kite Journal",
    content=(
        Page("/", "Kite Journal", 20),
        Page("/posts/learning-to-kitesurf-at-40", "Learning to kitesurf at 40", 8),
        Page("/posts/best-spots-in-portugal", "The best spots in Portugal", 7),
        Page("/posts/gear-review-2025", "Gear review 2025", 6),
        Page("/tags/travel", "Posts tagged travel", 3),
        Page("/about", "About", 2),
        Page("/newsletter", "Newsletter", 2),
    ),
    roles={},
    features=(
        Feature("newsletter_signup", "submit", 1800, 0.97),
        Feature("share_post", "click", 120, 1.0),
    ),
)

# Share of sessions per journey for visitors that are anonymous / already logged in.
JOURNEY_MIX: dict[str, tuple[dict[Journey, float], dict[Journey, float]]] = {
    SHOP.name: (
        {Journey.BROWSE: 0.52, Journey.CHECKOUT: 0.33, Journey.LOGIN: 0.10, Journey.SIGNUP: 0.05},
        {Journey.BROWSE: 0.35, Journey.CHECKOUT: 0.45, Journey.APP: 0.20},
    ),
    CLINIC.name: (
        {Journey.BROWSE: 0.50, Journey.BOOKING: 0.40, Journey.LOGIN: 0.10},
        {Journey.BROWSE: 0.30, Journey.BOOKING: 0.45, Journey.APP: 0.25},
    ),
    SAAS.name: (
        {Journey.BROWSE: 0.45, Journey.SIGNUP: 0.33, Journey.LOGIN: 0.22},
        {Journey.APP: 0.85, Journey.BROWSE: 0.15},
    ),
    DOCS.name: ({Journey.BROWSE: 0.92, Journey.SIGNUP: 0.08}, {Journey.BROWSE: 1.0}),
    BLOG.name: ({Journey.BROWSE: 1.0}, {Journey.BROWSE: 1.0}),
}


@dataclass(frozen=True)
class Project:
    tenant_id: str
    project_id: str
    site: Site
    base_url: str | None
    """None for native apps, whose screens have a path and title but no URL."""
    traffic: float
    channels: dict[str, float]
    currency: str
    home_country: str | None
    deploy_provider: str | None
    sdk_versions: tuple[str, ...]


PROJECTS: tuple[Project, ...] = (
    Project(
        "acme",
        "acme-store",
        SHOP,
        "https://www.acme-outdoor.com",
        0.30,
        {WEB: 1.0},
        "USD",
        "US",
        "vercel",
        ("js/3.2.0", "js/3.1.7"),
    ),
    Project(
        "acme",
        "acme-app",
        SHOP,
        None,
        0.12,
        {MOBILE: 1.0},
        "USD",
        "US",
        None,
        ("ios/5.12.0", "android/5.11.3", "ios/5.11.0"),
    ),
    Project(
        "bloom",
        "bloom-clinic",
        CLINIC,
        "https://www.bloomdental.co.uk",
        0.14,
        {WEB: 0.85, WHATSAPP: 0.15},
        "GBP",
        "GB",
        "netlify",
        ("js/2.9.1",),
    ),
    Project(
        "nimbus",
        "nimbus-web",
        SAAS,
        "https://www.nimbushq.io",
        0.26,
        {WEB: 1.0},
        "EUR",
        None,
        "vercel",
        ("js/3.2.0",),
    ),
    Project(
        "nimbus",
        "nimbus-docs",
        DOCS,
        "https://docs.nimbushq.io",
        0.10,
        {WEB: 1.0},
        "EUR",
        None,
        "cloudflare-pages",
        ("js/3.2.0",),
    ),
    Project(
        "kite",
        "kite-journal",
        BLOG,
        "https://kitejournal.com",
        0.08,
        {WEB: 1.0},
        "EUR",
        "PT",
        "netlify",
        ("js/3.0.4",),
    ),
)

WHATSAPP_SDK = "whatsapp-cloud/1.4.0"
DEPLOY_SDK = "deploy-webhook/1.0"


@dataclass(frozen=True)
class UserAgent:
    ua: str
    device_type: str
    os_name: str | None
    browser_name: str | None
    weight: float
    app: bool = False
    """A native app's user agent rather than a browser's."""


# os_name and browser_name are spelled as ua-parser derives them from the string.
USER_AGENTS: tuple[UserAgent, ...] = (
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        DESKTOP,
        "Windows",
        "Chrome",
        30,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
        DESKTOP,
        "Windows",
        "Chrome",
        8,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        DESKTOP,
        "Windows",
        "Edge",
        10,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        DESKTOP,
        "Windows",
        "Firefox",
        6,
    ),
    UserAgent(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        DESKTOP,
        "Mac OS X",
        "Safari",
        14,
    ),
    UserAgent(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        DESKTOP,
        "Mac OS X",
        "Chrome",
        14,
    ),
    UserAgent(
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        DESKTOP,
        "Linux",
        "Firefox",
        3,
    ),
    UserAgent(
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        DESKTOP,
        "Chrome OS",
        "Chrome",
        2,
    ),
    UserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        MOBILE_DEVICE,
        "iOS",
        "Mobile Safari",
        24,
    ),
    UserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        MOBILE_DEVICE,
        "iOS",
        "Mobile Safari",
        8,
    ),
    UserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        MOBILE_DEVICE,
        "iOS",
        "Chrome Mobile iOS",
        4,
    ),
    UserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Instagram 309.0.0.28.110 (iPhone14,5; iOS 17_5; "
        "en_US; en; scale=3.00; 1170x2532; 539130512)",
        MOBILE_DEVICE,
        "iOS",
        "Instagram",
        3,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        MOBILE_DEVICE,
        "Android",
        "Chrome Mobile",
        22,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        MOBILE_DEVICE,
        "Android",
        "Samsung Internet",
        6,
    ),
    UserAgent(
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Mobile/15E148 Safari/604.1",
        TABLET,
        "iOS",
        "Mobile Safari",
        6,
    ),
    UserAgent(
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        TABLET,
        "Android",
        "Chrome",
        3,
    ),
    UserAgent(
        "AcmeOutdoor/5.12.0 (iPhone; iOS 18.1; Scale/3.00)",
        MOBILE_DEVICE,
        "iOS",
        None,
        6,
        app=True,
    ),
    UserAgent(
        "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240905.003)",
        MOBILE_DEVICE,
        "Android",
        None,
        4,
        app=True,
    ),
)


@dataclass(frozen=True)
class Crawler:
    ua: str
    ip_prefixes: tuple[str, ...]
    """IPv4 prefixes of three octets and a dot, or IPv6 prefixes ending in '::'."""
    country_code: str
    weight: float


CRAWLERS: tuple[Crawler, ...] = (
    Crawler(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("66.249.66.", "66.249.68.", "2001:4860:4801:10::"),
        "US",
        30,
    ),
    Crawler(
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("66.249.66.", "66.249.79."),
        "US",
        20,
    ),
    Crawler(
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        ("157.55.39.", "40.77.167.", "207.46.13."),
        "US",
        15,
    ),
    Crawler(
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        ("54.36.148.", "51.222.253."),
        "FR",
        12,
    ),
    Crawler(
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        ("69.171.249.", "2a03:2880:f800::"),
        "US",
        8,
    ),
    Crawler(
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
        ("20.171.207.",),
        "US",
        8,
    ),
    Crawler(
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        ("5.255.231.", "213.180.203."),
        "RU",
        5,
    ),
)

SCREENS: dict[str, tuple[tuple[int, int, float], ...]] = {
    DESKTOP: (
        (1920, 1080, 35),
        (1536, 864, 12),
        (1366, 768, 10),
        (1440, 900, 9),
        (2560, 1440, 8),
        (1280, 720, 5),
        (1680, 1050, 4),
    ),
    MOBILE_DEVICE: (
        (390, 844, 20),
        (393, 873, 14),
        (412, 915, 14),
        (430, 932, 10),
        (375, 667, 7),
        (360, 800, 9),
        (414, 896, 6),
    ),
    TABLET: ((820, 1180, 10), (768, 1024, 8), (800, 1280, 6), (1024, 1366, 4)),
}


@dataclass(frozen=True)
class City:
    country_code: str
    city: str
    weight: float


CITIES: tuple[City, ...] = (
    City("US", "New York", 9),
    City("US", "Los Angeles", 6),
    City("US", "Chicago", 4),
    City("US", "Austin", 3),
    City("US", "Seattle", 3),
    City("US", "San Francisco", 3),
    City("GB", "London", 8),
    City("GB", "Bristol", 3),
    City("GB", "Manchester", 3),
    City("GB", "Leeds", 1.5),
    City("GB", "Edinburgh", 1.5),
    City("DE", "Berlin", 4),
    City("DE", "München", 3),
    City("DE", "Hamburg", 2),
    City("FR", "Paris", 4),
    City("FR", "Lyon", 1.5),
    City("NL", "Amsterdam", 2.5),
    City("ES", "Madrid", 2),
    City("ES", "Barcelona", 2),
    City("IT", "Milano", 1.5),
    City("PT", "Lisboa", 2),
    City("PT", "Porto", 1),
    City("IE", "Dublin", 1.5),
    City("SE", "Stockholm", 1.5),
    City("PL", "Warszawa", 1.5),
    City("BR", "São Paulo", 3),
    City("MX", "Ciudad de México", 2),
    City("CA", "Toronto", 2.5),
    City("IN", "Bengaluru", 3),
    City("IN", "Mumbai", 2),
    City("JP", "Tokyo", 2),
    City("SG", "Singapore", 1.5),
    City("AU", "Sydney", 2),
    City("ZA", "Cape Town", 1),
    City("NG", "Lagos", 1),
)

HOME_COUNTRY_SHARE = 0.55
"""Share of a project's visitors from its home country."""

# First octets / prefixes of public consumer address space, for made-up but plausible IPs.
IPV4_FIRST_OCTETS = (24, 31, 46, 62, 73, 78, 81, 86, 91, 98, 109, 151, 176, 185, 188, 201, 212)
IPV6_PREFIXES = ("2a02:8109", "2600:1700", "2a01:cb00", "2401:4900", "2804:14c", "2a00:23c5")
IPV6_SHARE = 0.28


OWN_SITE = "{site}"
"""In a source's referrer, the base URL of the site being visited (a self-referral)."""


@dataclass(frozen=True)
class Source:
    """Where a session came from: a referrer URL (None: direct) and maybe a campaign."""

    referrer: str | None
    weight: float
    utm: tuple[tuple[str, str], ...] = ()


SOURCES: tuple[Source, ...] = (
    Source(None, 34),
    Source("https://www.google.com/", 22),
    Source("https://www.bing.com/", 3.5),
    Source("https://duckduckgo.com/", 2),
    Source("https://search.yahoo.com/", 0.8),
    Source("https://www.ecosia.org/", 0.5),
    Source("https://l.facebook.com/", 3),
    Source("https://t.co/", 2),
    Source("https://www.linkedin.com/", 2),
    Source("https://www.reddit.com/", 2),
    Source("https://www.instagram.com/", 1.5),
    Source("android-app://com.google.android.gm/", 0.5),
    Source("https://news.ycombinator.com/", 1),
    Source("https://github.com/", 1),
    Source("https://chatgpt.com/", 1),
    Source("https://www.producthunt.com/", 0.5),
    Source(
        "https://www.google.com/",
        4,
        (
            ("utm_source", "google"),
            ("utm_medium", "cpc"),
            ("utm_campaign", "spring_sale"),
            ("utm_term", "hiking boots"),
            ("utm_content", "ad_variant_a"),
        ),
    ),
    Source(
        "https://www.google.com/",
        2.5,
        (
            ("utm_source", "google"),
            ("utm_medium", "cpc"),
            ("utm_campaign", "brand"),
            ("utm_term", "acme outdoor"),
        ),
    ),
    Source(
        "https://l.facebook.com/",
        2.5,
        (
            ("utm_source", "facebook"),
            ("utm_medium", "paid_social"),
            ("utm_campaign", "retargeting_q2"),
            ("utm_content", "carousel"),
        ),
    ),
    Source(
        None,
        3,
        (
            ("utm_source", "newsletter"),
            ("utm_medium", "email"),
            ("utm_campaign", "weekly_digest"),
            ("utm_content", "hero_button"),
        ),
    ),
    Source(
        "https://www.linkedin.com/",
        1.5,
        (
            ("utm_source", "linkedin"),
            ("utm_medium", "paid_social"),
            ("utm_campaign", "b2b_launch"),
            ("utm_content", "video"),
        ),
    ),
    Source(
        "https://www.bing.com/",
        0.8,
        (("utm_source", "bing"), ("utm_medium", "cpc"), ("utm_campaign", "brand")),
    ),
    Source(
        "https://www.tiktok.com/",
        1,
        (
            ("utm_source", "tiktok"),
            ("utm_medium", "paid_social"),
            ("utm_campaign", "summer_drop"),
            ("utm_content", "ugc_1"),
        ),
    ),
    # Rarer sources, a few percent together, so that every channel of the grouping shows up:
    # video, display, shopping, webmail, affiliates, SMS, push, a referral by UTM, a UTM source
    # no list knows (Unassigned) and a self-referral from the site's own home page (Direct).
    Source("https://www.youtube.com/", 0.5),
    Source(
        "https://www.youtube.com/",
        0.3,
        (
            ("utm_source", "youtube"),
            ("utm_medium", "cpv"),
            ("utm_campaign", "product_demo"),
            ("utm_content", "preroll_15s"),
        ),
    ),
    Source(
        "https://www.theguardian.com/",
        0.4,
        (("utm_source", "gdn"), ("utm_medium", "display"), ("utm_campaign", "remarketing")),
    ),
    Source("https://www.amazon.com/", 0.3),
    Source(
        "https://www.amazon.com/",
        0.25,
        (
            ("utm_source", "amazon"),
            ("utm_medium", "cpc"),
            ("utm_campaign", "sponsored_products"),
        ),
    ),
    Source("https://mail.google.com/", 0.4),
    Source(
        "https://www.techradar.com/",
        0.3,
        (("utm_source", "techradar"), ("utm_medium", "affiliate"), ("utm_campaign", "best_of")),
    ),
    Source(
        None,
        0.2,
        (("utm_source", "sms"), ("utm_medium", "text"), ("utm_campaign", "reminder")),
    ),
    Source(
        None,
        0.25,
        (("utm_source", "onesignal"), ("utm_medium", "push"), ("utm_campaign", "back_in_stock")),
    ),
    Source(None, 0.2, (("utm_source", "partner_blog"), ("utm_medium", "referral"))),
    Source(None, 0.2, (("utm_source", "partner_widget"),)),
    Source(f"{OWN_SITE}/", 0.4),
)

SDKS_WITHOUT_ENGAGED_MS = ("js/2.9.1", "js/3.0.4")
"""Web SDK versions from before engaged time: their page pings and leaves carry `scroll_depth`
only, so the warehouse counts heartbeats instead (about a quarter of the web devices)."""

FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloé",
    "Daniel",
    "Emma",
    "Farah",
    "George",
    "Hana",
    "Ivan",
    "Jia",
    "Kwame",
    "Laura",
    "Mateo",
    "Nadia",
    "Oliver",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tomás",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
    "Zoë",
    "Siobhán",
    "Lukas",
    "Aisha",
    "Noah",
    "Mia",
)
LAST_NAMES = (
    "Silva",
    "Smith",
    "O'Brien",
    "Müller",
    "García",
    "Nguyen",
    "Kowalski",
    "Okafor",
    "Tanaka",
    "Johansson",
    "Patel",
    "Rossi",
    "Dubois",
    "Kim",
    "van der Berg",
    "Jones",
    "Novak",
    "Haddad",
    "Schmidt",
    "Fernández",
    "Murphy",
    "Chen",
    "Adeyemi",
    "Larsen",
    "Costa",
)
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de")
PLANS = (("free", 0.0, 50), ("starter", 19.0, 25), ("pro", 49.0, 18), ("team", 199.0, 7))
SIGNUP_METHODS = ("email", "google", "github")

CURRENCIES = (("USD", 50), ("EUR", 25), ("GBP", 13), ("CAD", 5), ("AUD", 4), ("CHF", 2), ("SEK", 1))
HOME_CURRENCY_SHARE = 0.8

COLOR_SCHEMES = ("light", "dark", "system")
FONT_FAMILIES = ("Inter", "Roboto", "system-ui", "Georgia", "JetBrains Mono")
LAYOUT_MODES = ("compact", "comfortable", "wide")
FAVORITE_COMPONENTS = ("chart", "table", "kpi_tile", "funnel", "map", "text", "filter_bar")

DIURNAL_UTC = (
    2.0,
    1.5,
    1.2,
    1.0,
    1.0,
    1.3,
    2.0,
    3.0,
    4.5,
    5.5,
    6.0,
    6.2,
    6.0,
    6.0,
    6.2,
    6.5,
    6.8,
    7.0,
    7.0,
    6.5,
    5.8,
    5.0,
    4.0,
    3.0,
)
WEEKDAY_TRAFFIC = (1.0, 1.02, 1.0, 0.98, 0.94, 0.78, 0.72)
"""Relative traffic from Monday to Sunday."""
WEEKDAY_METRIC_POINTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9)


@dataclass(frozen=True)
class MetricSeries:
    name: str
    metric_type: str
    unit: str | None
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Every combination of these tag values is one series."""
    scale: float = 1.0
    """Median for timers and histograms, mean for counters and gauges."""
    spread: float = 0.5
    weight: float = 1.0


REGIONS = ("eu", "us", "ap")
METRIC_SERIES: tuple[MetricSeries, ...] = (
    MetricSeries(
        "api.request.duration",
        TIMER,
        "ms",
        {
            "region": REGIONS,
            "endpoint": ("/v1/track", "/v1/batch", "/v1/identify", "/v1/query"),
            "method": ("POST",),
        },
        scale=38.0,
        spread=0.7,
        weight=6,
    ),
    MetricSeries(
        "api.requests",
        COUNTER,
        "requests",
        {
            "region": REGIONS,
            "endpoint": ("/v1/track", "/v1/batch", "/v1/identify", "/v1/query"),
            "status": ("2xx", "4xx", "5xx"),
        },
        scale=40.0,
        weight=6,
    ),
    MetricSeries(
        "queue.depth",
        GAUGE,
        "messages",
        {"queue": ("ingest", "webhooks", "emails")},
        scale=120.0,
        spread=60.0,
        weight=2,
    ),
    MetricSeries(
        "payload.size",
        HISTOGRAM,
        "bytes",
        {"endpoint": ("/v1/track", "/v1/batch"), "direction": ("request", "response")},
        scale=2400.0,
        spread=1.0,
        weight=3,
    ),
    MetricSeries(
        "db.query.duration",
        TIMER,
        "ms",
        {"db": ("primary", "replica"), "operation": ("select", "insert", "update")},
        scale=4.0,
        spread=0.9,
        weight=3,
    ),
    MetricSeries(
        "cache.hit_ratio",
        GAUGE,
        "ratio",
        {"cache": ("sessions", "pages")},
        scale=0.92,
        spread=0.04,
        weight=1,
    ),
    MetricSeries(
        "jobs.processed",
        COUNTER,
        "jobs",
        {"queue": ("ingest", "webhooks", "emails"), "status": ("ok", "failed")},
        scale=15.0,
        weight=2,
    ),
    MetricSeries("workers.active", GAUGE, "workers", scale=6.0, spread=1.5, weight=0.5),
)
