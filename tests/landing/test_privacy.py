"""IP anonymization: IPv4 keeps three octets, IPv6 its /48, anything else is no address."""

from __future__ import annotations

import pytest

from orchestration.landing.privacy import register_anonymize_ip


@pytest.mark.parametrize(
    ("ip", "anonymized"),
    [
        ("203.0.113.77", "203.0.113.0"),
        (" 10.0.0.1 ", "10.0.0.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("2001:0DB8:0000::1", "2001:db8::"),
        ("1::2:3:4:5:6:7", "1:0:2::"),
        ("1:2:3:4:5:6:7::", "1:2:3::"),
        ("0:0:1::5", "0:0:1::"),
        ("fe80::", "fe80::"),
        ("::1", "::"),
        ("::ffff:192.0.2.1", "::"),
        ("256.1.1.1", None),
        ("1.2.3", None),
        ("1::2::3", None),
        ("1:2:3:4:5:6:7:8:9", None),
        ("1:2:3:4:5:6:7:8::", None),
        ("g::1", None),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_anonymize_ip(warehouse, ip, anonymized):
    register_anonymize_ip(warehouse)

    assert warehouse.execute("select anonymize_ip(?)", [ip]).fetchone() == (anonymized,)
