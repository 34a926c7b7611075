"""Jira connector (Cloud REST v3 + Agile 1.0, or Data Center REST v2): see `ingestion.jira.sync`."""
