"""IP anonymization, done in SQL while loading so a raw address is never stored.

IPv4 addresses keep their first three octets (`203.0.113.77` -> `203.0.113.0`); IPv6 addresses keep
their /48 prefix (`2001:db8:85a3:8d3::1` -> `2001:db8:85a3::`). Anything else is not an address and
yields NULL, which the loader reports as a bad value.
"""

from __future__ import annotations

import duckdb

_IPV4 = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"

# The /48 of an IPv6 address is its first three groups. To find them, the address is expanded
# to eight groups: `::` stands for as many zero groups as are missing (at least one), and an
# embedded IPv4 tail (`::ffff:192.0.2.1`) counts as two groups. A macro's argument is expanded
# wherever it is used, so intermediate values are bound once as the parameter of a lambda over a
# one-element list (`list_transform([value], lambda v: ...)[1]`), which keeps this fast.
_MACROS = rf"""
create or replace temp macro _ipv6_group_list(part) as (
    list_filter(string_split(part, ':'), lambda g: g <> '')
);
create or replace temp macro _ipv6_groups(ip) as (
    list_transform(
        [string_split(regexp_replace(lower(ip), '{_IPV4}$', '0:0'), '::')],
        lambda halves: case
            when len(halves) = 1 then string_split(halves[1], ':')
            when len(halves) = 2 then list_transform(
                [[_ipv6_group_list(halves[1]), _ipv6_group_list(halves[2])]],
                lambda head_tail: list_concat(
                    head_tail[1],
                    list_resize(
                        cast([] as varchar[]),
                        greatest(8 - len(head_tail[1]) - len(head_tail[2]), 1),
                        '0'
                    ),
                    head_tail[2]
                )
            )[1]
        end
    )[1]
);
create or replace temp macro _ipv6_prefix48(groups) as (
    list_transform(
        [groups],
        lambda eight: case
            when len(eight) = 8 and list_bool_and(
                list_transform(eight, lambda g: regexp_full_match(g, '[0-9a-f]{{1,4}}'))
            ) then
                -- Written in the shortest form: trailing zero groups fold into the `::`.
                regexp_replace(
                    array_to_string(
                        list_transform(
                            eight[1:3], lambda g: coalesce(nullif(ltrim(g, '0'), ''), '0')
                        ),
                        ':'
                    ) || '::',
                    '(^|:)0(:0)*::$',
                    '::'
                )
        end
    )[1]
);
create or replace temp macro anonymize_ip(ip) as (
    case
        when ip is null then null
        when regexp_full_match(trim(ip), '{_IPV4}')
            then regexp_replace(trim(ip), '\.\d+$', '.0')
        when trim(ip) like '%:%'
            then _ipv6_prefix48(_ipv6_groups(trim(ip)))
    end
);
"""


def register_anonymize_ip(connection: duckdb.DuckDBPyConnection) -> None:
    """Define the `anonymize_ip(varchar)` macro on this connection."""
    connection.execute(_MACROS)
