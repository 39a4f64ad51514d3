"""Landing: validate the Parquet files in raw_landing/ and load them into the raw schema."""
