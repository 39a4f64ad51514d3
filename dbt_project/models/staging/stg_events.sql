{#-
    One row per landed event: typed, renamed and cleaned, with the skew-corrected event time,
    UTM parameters and referrer host parsed from the URLs, device type / OS / browser derived
    from the user agent where the event does not give them, and the bot flag.
-#}

{{ staged_events(source('raw', 'events')) }}
