"""The published analytics copy: what analysts open instead of the live warehouse."""

import dagster as dg

from orchestration.assets.ingestion import WRITER_POOL
from orchestration.publishing import publish
from orchestration.resources import WarehouseResource


def build_published_analytics(mart_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """An asset downstream of every mart, so it runs after a build and only when the marts materialised."""

    @dg.asset(
        key=["published", "analytics"],
        group_name="publishing",
        deps=mart_keys,
        pool=WRITER_POOL,  # it opens the warehouse file, so it queues behind writers like everyone else
        kinds={"duckdb", "parquet"},
        description=(
            "analytics.duckdb (a read-only copy of every mart, replaced atomically) and Parquet exports under "
            "parquet/. Analysts query these while the next run writes the live warehouse."
        ),
    )
    def published_analytics(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            result = publish(con, warehouse.data_dir)
        context.log.info(f"published {len(result.tables)} tables to {result.analytics_path}")
        return dg.MaterializeResult(
            metadata={
                "analytics_path": dg.MetadataValue.path(str(result.analytics_path)),
                "parquet_dir": dg.MetadataValue.path(str(result.parquet_dir)),
                "tables": dg.MetadataValue.json(result.tables),
            }
        )

    return published_analytics
