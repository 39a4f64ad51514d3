"""The catalog as arrays: every list the generator draws from, indexed for vectorized draws."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

import numpy as np
import pyarrow as pa

from orchestration.generator import catalog
from orchestration.generator.arrays import Choice, GroupedChoice, json_texts, strings
from orchestration.generator.catalog import (
    CHANNEL_TYPES,
    DEVICE_TYPES,
    EVENT_NAMES,
    FUNNELS,
    JOURNEY_MIX,
    PROJECTS,
    Event,
    Journey,
    Role,
)

DEVICE_CODE = {name: code for code, name in enumerate(DEVICE_TYPES)}
CHANNEL_CODE = {name: code for code, name in enumerate(CHANNEL_TYPES)}


@dataclass(frozen=True)
class Pages:
    """Every page of every project in one table; a page id is a row of it."""

    path: pa.Array
    title: pa.Array
    url: pa.Array
    """Null for native-app screens."""
    product: np.ndarray
    """Row in the product table for product pages, else -1."""
    content: GroupedChoice
    """Per project: the pages people browse."""
    app: GroupedChoice
    """Per project: the pages behind the login (none for sites without an account area)."""
    products: GroupedChoice
    crawlable: GroupedChoice
    """Per project: what crawlers fetch (content and product pages, never account pages)."""
    by_role: np.ndarray
    """(project, role) -> page id, -1 when the site has no page for the role."""


@dataclass(frozen=True)
class Products:
    json: pa.Array
    """`"product_id":...,"category":...,"price":...` without braces, to splice into properties."""
    price: np.ndarray


@dataclass(frozen=True)
class Journeys:
    choice: GroupedChoice
    """Grouped by project * 2 + (1 if the visitor is logged in)."""
    template_event: np.ndarray
    """(journey, step) -> Event of the template step."""
    template_role: np.ndarray
    """(journey, step) -> Role of a page step, -1 for other steps."""
    played: GroupedChoice
    """Per journey: how many template steps a session plays (the drop-off)."""
    complete: np.ndarray
    """Per journey: the number of template steps of a completed attempt."""


@dataclass(frozen=True)
class Devices:
    user_agent: pa.Array
    device_type: pa.Array
    os_name: pa.Array
    browser_name: pa.Array
    device_code: np.ndarray
    web: GroupedChoice
    """Per device code (desktop, mobile, tablet): a browser user agent."""
    app: Choice
    screen_width: np.ndarray
    screen_height: np.ndarray
    screens: GroupedChoice
    """Per device code: a screen size."""


@dataclass(frozen=True)
class World:
    tenant_id: pa.Array
    project_id: pa.Array
    traffic: Choice
    crawled: Choice
    """Projects crawlers visit (those with a website), by traffic."""
    channels: GroupedChoice
    has_app: np.ndarray
    has_preferences: np.ndarray
    sdk_version: pa.Array
    sdks: GroupedChoice
    """Per project: the web SDK versions its pages embed."""
    app_sdks: GroupedChoice
    """Per user agent: the SDK versions of the native app for its OS (none for browsers)."""
    whatsapp_sdk: int
    currency: pa.Array
    """JSON texts of the currency codes."""
    currencies: GroupedChoice
    """Per project: the home currency mostly, the others sometimes."""
    pages: Pages
    products: Products
    journeys: Journeys
    features: GroupedChoice
    feature_json: pa.Array
    """`"feature":...,"action":...` without braces."""
    feature_median_ms: np.ndarray
    feature_success: np.ndarray
    services: GroupedChoice
    service_json: pa.Array
    service_price: np.ndarray
    devices: Devices
    country_code: pa.Array
    city: pa.Array
    cities: GroupedChoice
    """Per project: cities, leaning to the project's home country."""
    referrer: pa.Array
    """Referrer URL of a source on a project's pages, at row project * len(SOURCES) + source."""
    utm_query: pa.Array
    """`?utm_source=...` for campaign sources, empty otherwise."""
    sources: Choice
    event_type: pa.Array
    event_name: pa.Array
    crawlers: Choice
    crawler_ua: pa.Array
    crawler_country: pa.Array
    crawler_prefix: pa.Array
    crawler_prefixes: GroupedChoice
    """Per crawler: the address prefixes it crawls from."""
    crawler_prefix_is_v6: np.ndarray


def _pages(products_out: list[catalog.Product]) -> Pages:
    path, title, url, product = [], [], [], []
    content, app, product_pages, crawlable = [], [], [], []
    by_role = np.full((len(PROJECTS), len(Role)), -1, dtype=np.int64)

    def add(p: int, page_path: str, page_title: str, product_row: int = -1) -> int:
        site = PROJECTS[p].site
        base = PROJECTS[p].base_url
        path.append(page_path)
        is_brand_title = page_title.startswith(site.name) or base is None
        title.append(page_title if is_brand_title else f"{page_title} | {site.name}")
        url.append(None if base is None else base + page_path)
        product.append(product_row)
        return len(path) - 1

    for p, spec in enumerate(PROJECTS):
        site = spec.site
        content.append([(add(p, page.path, page.title), page.weight) for page in site.content])
        app.append([(add(p, page.path, page.title), page.weight) for page in site.app])
        shop_items = []
        for item in site.products:
            if item not in products_out:
                products_out.append(item)
            row = products_out.index(item)
            shop_items.append((add(p, f"/products/{item.slug}", item.name, row), item.weight))
        product_pages.append(shop_items)
        for role, page in site.roles.items():
            by_role[p, role] = add(p, page.path, page.title)
        crawlable.append(content[-1] + shop_items if spec.base_url else [])
    return Pages(
        path=strings(path),
        title=strings(title),
        url=strings(url),
        product=np.array(product),
        content=GroupedChoice.of(content),
        app=GroupedChoice.of(app),
        products=GroupedChoice.of(product_pages),
        crawlable=GroupedChoice.of(crawlable),
        by_role=by_role,
    )


def _referrer(source: catalog.Source, spec: catalog.Project) -> str | None:
    """The source's referrer, with a self-referral's site filled in (none for native apps)."""
    if source.referrer is None or catalog.OWN_SITE not in source.referrer:
        return source.referrer
    if spec.base_url is None:
        return None
    return source.referrer.replace(catalog.OWN_SITE, spec.base_url)


def _journeys() -> Journeys:
    groups = []
    for spec in PROJECTS:
        for mix in JOURNEY_MIX[spec.site.name]:
            groups.append([(journey, share) for journey, share in mix.items()])
    longest = max(len(funnel.steps) for funnel in FUNNELS.values())
    template_event = np.full((len(Journey), longest), -1, dtype=np.int64)
    template_role = np.full((len(Journey), longest), -1, dtype=np.int64)
    for journey, funnel in FUNNELS.items():
        for position, step in enumerate(funnel.steps):
            template_event[journey, position] = step.event
            template_role[journey, position] = -1 if step.role is None else step.role
    return Journeys(
        choice=GroupedChoice.of(groups),
        template_event=template_event,
        template_role=template_role,
        played=GroupedChoice.of(
            [list(zip(FUNNELS[j].cuts, FUNNELS[j].reached, strict=True)) for j in Journey]
        ),
        complete=np.array([FUNNELS[j].cuts[-1] for j in Journey]),
    )


def _devices() -> Devices:
    agents = catalog.USER_AGENTS
    web = [
        [(i, a.weight) for i, a in enumerate(agents) if not a.app and a.device_type == name]
        for name in DEVICE_TYPES
    ]
    widths, heights, screens = [], [], []
    for name in DEVICE_TYPES:
        options = []
        for width, height, weight in catalog.SCREENS.get(name, ()):
            widths.append(width)
            heights.append(height)
            options.append((len(widths) - 1, weight))
        screens.append(options)
    return Devices(
        user_agent=strings([a.ua for a in agents]),
        device_type=strings([a.device_type for a in agents]),
        os_name=strings([a.os_name for a in agents]),
        browser_name=strings([a.browser_name for a in agents]),
        device_code=np.array([DEVICE_CODE[a.device_type] for a in agents]),
        web=GroupedChoice.of(web),
        app=Choice.of(
            [a.weight for a in agents if a.app], [i for i, a in enumerate(agents) if a.app]
        ),
        screen_width=np.array(widths, dtype=np.int32),
        screen_height=np.array(heights, dtype=np.int32),
        screens=GroupedChoice.of(screens),
    )


def _cities() -> tuple[pa.Array, pa.Array, GroupedChoice]:
    cities = catalog.CITIES
    total = sum(c.weight for c in cities)
    groups = []
    for spec in PROJECTS:
        home_total = sum(c.weight for c in cities if c.country_code == spec.home_country)
        home_share = catalog.HOME_COUNTRY_SHARE if home_total else 0.0
        groups.append(
            [
                (
                    i,
                    (1 - home_share) * c.weight / total
                    + (
                        home_share * c.weight / home_total
                        if c.country_code == spec.home_country
                        else 0
                    ),
                )
                for i, c in enumerate(cities)
            ]
        )
    return (
        strings([c.country_code for c in cities]),
        strings([c.city for c in cities]),
        GroupedChoice.of(groups),
    )


@cache
def world() -> World:
    """The catalog as arrays (built once per process)."""
    products: list[catalog.Product] = []
    pages = _pages(products)
    feature_rows, feature_groups, service_rows, service_groups = [], [], [], []
    for spec in PROJECTS:
        feature_groups.append(
            [(len(feature_rows) + i, 1.0) for i in range(len(spec.site.features))]
        )
        feature_rows.extend(spec.site.features)
        service_groups.append(
            [(len(service_rows) + i, 1.0) for i in range(len(spec.site.services))]
        )
        service_rows.extend(spec.site.services)

    sdk_versions = sorted(
        {v for spec in PROJECTS for v in spec.sdk_versions} | {catalog.WHATSAPP_SDK}
    )
    currency_codes = [code for code, _ in catalog.CURRENCIES]
    currency_groups = []
    for spec in PROJECTS:
        others = sum(weight for code, weight in catalog.CURRENCIES if code != spec.currency)
        currency_groups.append(
            [
                (
                    i,
                    catalog.HOME_CURRENCY_SHARE
                    if code == spec.currency
                    else (1 - catalog.HOME_CURRENCY_SHARE) * weight / others,
                )
                for i, (code, weight) in enumerate(catalog.CURRENCIES)
            ]
        )
    country_code, city, cities = _cities()
    sources = catalog.SOURCES
    crawlers = catalog.CRAWLERS
    prefixes = [prefix for crawler in crawlers for prefix in crawler.ip_prefixes]
    prefix_groups, start = [], 0
    for crawler in crawlers:
        prefix_groups.append([(start + i, 1.0) for i in range(len(crawler.ip_prefixes))])
        start += len(crawler.ip_prefixes)
    return World(
        tenant_id=strings([spec.tenant_id for spec in PROJECTS]),
        project_id=strings([spec.project_id for spec in PROJECTS]),
        traffic=Choice.of([spec.traffic for spec in PROJECTS]),
        crawled=Choice.of(
            [spec.traffic for spec in PROJECTS if spec.base_url],
            [p for p, spec in enumerate(PROJECTS) if spec.base_url],
        ),
        channels=GroupedChoice.of(
            [[(CHANNEL_CODE[c], share) for c, share in spec.channels.items()] for spec in PROJECTS]
        ),
        has_app=np.array([bool(spec.site.app) for spec in PROJECTS]),
        has_preferences=np.array([spec.site.has_preferences for spec in PROJECTS]),
        sdk_version=strings(sdk_versions),
        sdks=GroupedChoice.of(
            [[(sdk_versions.index(v), 1.0) for v in spec.sdk_versions] for spec in PROJECTS]
        ),
        app_sdks=GroupedChoice.of(
            [
                [
                    (i, 1.0)
                    for i, version in enumerate(sdk_versions)
                    if agent.app and version.startswith(f"{agent.os_name.lower()}/")
                ]
                for agent in catalog.USER_AGENTS
            ]
        ),
        whatsapp_sdk=sdk_versions.index(catalog.WHATSAPP_SDK),
        currency=json_texts(currency_codes),
        currencies=GroupedChoice.of(currency_groups),
        pages=pages,
        products=Products(
            json=strings(
                [
                    f'"product_id":"sku-{1001 + i}","category":"{item.category}",'
                    f'"price":{item.price}'
                    for i, item in enumerate(products)
                ]
            ),
            price=np.array([item.price for item in products]),
        ),
        journeys=_journeys(),
        features=GroupedChoice.of(feature_groups),
        feature_json=strings(
            [f'"feature":"{f.feature}","action":"{f.action}"' for f in feature_rows]
        ),
        feature_median_ms=np.array([f.median_ms for f in feature_rows], dtype=np.float64),
        feature_success=np.array([f.success_rate for f in feature_rows]),
        services=GroupedChoice.of(service_groups),
        service_json=strings([f'"service":"{name}"' for name, _ in service_rows]),
        service_price=np.array([price for _, price in service_rows]),
        devices=_devices(),
        country_code=country_code,
        city=city,
        cities=cities,
        referrer=strings([_referrer(s, spec) for spec in PROJECTS for s in sources]),
        utm_query=strings([f"?{urlencode(s.utm)}" if s.utm else "" for s in sources]),
        sources=Choice.of([s.weight for s in sources]),
        event_type=strings([EVENT_NAMES[e][0] for e in Event]),
        event_name=strings([EVENT_NAMES[e][1] for e in Event]),
        crawlers=Choice.of([crawler.weight for crawler in crawlers]),
        crawler_ua=strings([crawler.ua for crawler in crawlers]),
        crawler_country=strings([crawler.country_code for crawler in crawlers]),
        crawler_prefix=strings(prefixes),
        crawler_prefixes=GroupedChoice.of(prefix_groups),
        crawler_prefix_is_v6=np.array([prefix.endswith("::") for prefix in prefixes]),
    )
