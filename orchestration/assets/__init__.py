"""Dagster assets: thin wrappers that decide *when*; fetching is ingestion/'s, metric logic is dbt's."""
