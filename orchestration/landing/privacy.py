"""IP anonymization, done in SQL while loading so a raw address is never stored.

IPv4 addresses keep their first three octets (`203.0.113.77` -> `203.0.113.0`); IPv6 addresses keep
their /48 prefix (`2001:db8:85a3:8d3::1` -> `2001:db8:85a3::`). Anything else is not an address and
yields NULL, which the loader reports as a bad value.
"""

from __future__ import annotations

import duckdb

_IPV4 = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"

# The /48 of an IPv6 address is its first three groups. To find them, the address is expanded
# to eight groups: `::` stands for as many zero groups as are missing, and an embedded IPv4 tail
# (`::ffff:192.0.2.1`) counts as two groups.
_MACROS = rf"""
create or replace temp macro _ipv6_groups(ip) as (
    regexp_replace(lower(ip), '{_IPV4}$', '0:0')
);
create or replace temp macro _ipv6_group_count(part) as (
    case when part = '' then 0 else len(string_split(part, ':')) end
);
create or replace temp macro _ipv6_expand(s) as (
    case
        when s not like '%::%' then s
        when s like '%::%::%' then null
        else concat_ws(
            ':',
            nullif(split_part(s, '::', 1), ''),
            nullif(
                rtrim(
                    repeat(
                        '0:',
                        greatest(
                            8 - _ipv6_group_count(split_part(s, '::', 1))
                              - _ipv6_group_count(split_part(s, '::', 2)),
                            0
                        )
                    ),
                    ':'
                ),
                ''
            ),
            nullif(split_part(s, '::', 2), '')
        )
    end
);
create or replace temp macro _ipv6_prefix48(addr) as (
    case
        when regexp_full_match(addr, '([0-9a-f]{{1,4}}:){{7}}[0-9a-f]{{1,4}}') then
            -- Written in the shortest form: trailing zero groups fold into the `::`.
            regexp_replace(
                array_to_string(
                    list_transform(
                        string_split(addr, ':')[1:3],
                        lambda g: coalesce(nullif(ltrim(g, '0'), ''), '0')
                    ),
                    ':'
                ) || '::',
                '(^|:)0(:0)*::$',
                '::'
            )
    end
);
create or replace temp macro anonymize_ip(ip) as (
    case
        when ip is null then null
        when regexp_full_match(trim(ip), '{_IPV4}')
            then regexp_replace(trim(ip), '\.\d+$', '.0')
        when trim(ip) like '%:%'
            then _ipv6_prefix48(_ipv6_expand(_ipv6_groups(trim(ip))))
    end
);
"""


def register_anonymize_ip(connection: duckdb.DuckDBPyConnection) -> None:
    """Define the `anonymize_ip(varchar)` macro on this connection."""
    connection.execute(_MACROS)
